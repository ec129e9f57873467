"""Spanish and French versions of the demo network's own texts (areas, boards,
categories), applied by the seeds through `hub.content`. Imports only `hub`."""

from __future__ import annotations

from typing import Any

from hub import content

AREAS = {
    "national-frameworks": ("Marcos nacionales de seguridad de la biotecnología",
                            "Cadres nationaux de biosécurité"),
    "risk-assessment": ("Evaluación del riesgo", "Évaluation des risques"),
    "risk-management": ("Gestión del riesgo", "Gestion des risques"),
    "handling-transport": ("Manipulación, transporte, envasado e identificación",
                           "Manipulation, transport, emballage et identification"),
    "liability-redress": ("Responsabilidad y compensación", "Responsabilité et réparation"),
    "public-awareness": ("Concienciación, educación y participación del público",
                         "Sensibilisation, éducation et participation du public"),
    "information-sharing": ("Intercambio de información y el Centro de Intercambio de "
                            "Información sobre Seguridad de la Biotecnología",
                            "Échange d'informations et le Centre d'échange pour la "
                            "prévention des risques biotechnologiques"),
    "socio-economic": ("Consideraciones socioeconómicas", "Considérations socio-économiques"),
    "detection-identification": ("Detección e identificación de OVM",
                                 "Détection et identification des OVM"),
    "transboundary-movements": ("Tránsito, uso confinado y movimientos transfronterizos",
                                "Transit, utilisation confinée et mouvements transfrontières"),
    "mainstreaming": ("Integración de la seguridad de la biotecnología",
                      "Intégration de la biosécurité"),
    "education-training": ("Educación y capacitación en seguridad de la biotecnología",
                           "Éducation et formation en biosécurité"),
}

CATEGORIES = {
    "Network": ("Red", "Réseau"),
    "Thematic areas": ("Áreas temáticas", "Domaines thématiques"),
    "Groups": ("Grupos", "Groupes"),
}

# slug: ((name es, description es), (name fr, description fr)); boards named after their
# area take the area's name.
BOARDS = {
    "announcements": (("Anuncios", "Noticias de la Secretaría: reuniones, convocatorias, "
                       "cursos y publicaciones."),
                      ("Annonces", "Nouvelles du Secrétariat : réunions, appels, formations "
                       "et publications.")),
    "general": (("Debate general", "Todo lo relativo a la creación de capacidad en seguridad "
                 "de la biotecnología que no cabe en otro foro."),
                ("Discussion générale", "Tout ce qui concerne le renforcement des capacités "
                 "en biosécurité et ne trouve place dans aucun autre forum.")),
    "registry": (("Debates del registro", "Debate sobre los registros: proyectos, "
                  "oportunidades, necesidades, recursos e informes."),
                 ("Discussions du registre", "Discussion des fiches du registre : projets, "
                  "opportunités, besoins, ressources et rapports.")),
    "liaison-forum": (("Foro del grupo de enlace", "El foro cerrado del grupo de enlace sobre "
                       "creación de capacidad en seguridad de la biotecnología."),
                      ("Forum du groupe de liaison", "Le forum fermé du groupe de liaison sur "
                       "le renforcement des capacités en biosécurité.")),
}


def translate_area(area: Any) -> None:
    found = AREAS.get(area.slug)
    if found:
        content.set_translations(area, {"es": {"name": found[0]}, "fr": {"name": found[1]}})


def translate_board(board: Any) -> None:
    values: dict[str, dict[str, str]] = {"es": {}, "fr": {}}
    category = CATEGORIES.get(board.category)
    if category:
        values["es"]["category"], values["fr"]["category"] = category
    if board.slug in BOARDS:
        (es_name, es_desc), (fr_name, fr_desc) = BOARDS[board.slug]
        values["es"].update(name=es_name, description=es_desc)
        values["fr"].update(name=fr_name, description=fr_desc)
    elif board.slug in AREAS:
        values["es"]["name"], values["fr"]["name"] = AREAS[board.slug]
    content.set_translations(board, values)
