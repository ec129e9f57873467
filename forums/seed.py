"""Demo boards and discussions for `hub seed-demo`: a board per thematic area of the
Action Plan, announcements, the registry board and the liaison group's closed forum,
with threaded discussions written through the one posting path. Imports `hub` and
`forums`; registered in `app.extensions["hub_seeders"]`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from forums import moderation, services
from forums.models import Board, Post
from hub import clock, seed_translations
from hub.extensions import db
from hub.models import Group, Member, ThematicArea

# slug, thematic area slug (None: no area), name, description, category, extra fields
BOARDS: tuple[tuple[str, str | None, str, str, str, dict], ...] = (
    ("announcements", None, "Announcements",
     "News from the Secretariat: meetings, calls, trainings and publications.",
     "Network", {"posting": "moderators"}),
    ("general", None, "General discussion",
     "Anything about building capacity for biosafety that fits no other board.",
     "Network", {}),
    ("national-frameworks", "national-frameworks", "National biosafety frameworks",
     "Laws, regulations, administrative systems and decision-making.", "Thematic areas", {}),
    ("risk-assessment", "risk-assessment", "Risk assessment",
     "Scientific risk assessment of living modified organisms under Annex III.",
     "Thematic areas", {}),
    ("risk-management", "risk-management", "Risk management",
     "Measures, monitoring and post-release follow-up.", "Thematic areas", {}),
    ("handling-transport", "handling-transport",
     "Handling, transport, packaging and identification",
     "Article 18 documentation and practice at the border.", "Thematic areas", {}),
    ("liability-redress", "liability-redress", "Liability and redress",
     "The Nagoya – Kuala Lumpur Supplementary Protocol in practice.", "Thematic areas", {}),
    ("public-awareness", "public-awareness", "Public awareness and participation",
     "Education, consultation and access to information (Article 23).", "Thematic areas", {}),
    ("socio-economic", "socio-economic", "Socio-economic considerations",
     "Article 26: methods, experiences, indicators.", "Thematic areas", {}),
    ("detection-identification", "detection-identification",
     "Detection and identification of LMOs",
     "Laboratory methods, reference materials and networks of laboratories.",
     "Thematic areas", {}),
    ("education-training", "education-training", "Biosafety education and training",
     "Courses, curricula and training materials. Posts are approved by a moderator.",
     "Thematic areas", {"premoderated": True}),
    ("registry", None, "Registry discussions",
     "Discussion of the records in the registry: projects, opportunities, needs, "
     "resources and reports.", "Network", {"visibility": "members"}),
)

LIAISON_BOARD = ("liaison-forum", "Liaison group forum",
                 "The closed forum of the liaison group on capacity-building for biosafety.")


@dataclass
class Msg:
    author: str  # key in the cast
    body: str
    replies: list[Msg] = field(default_factory=list)
    hours: float = 5.0  # after the previous message


@dataclass
class Thread:
    board: str
    title: str
    start: Msg
    days_ago: float
    pinned: bool = False


def _threads() -> list[Thread]:
    return [
        Thread("announcements", "Welcome to the network's bulletin boards", Msg(
            "amina",
            "Dear colleagues,\n\nThe bulletin boards are open. Each board follows one "
            "thematic area of the **Framework and Action Plan for Capacity-Building**; "
            "you can read and answer on the web or follow any board by email "
            "(each post, or a daily or weekly digest).\n\n"
            "A few reminders:\n\n"
            "- Say who you are and where you work when you first post.\n"
            "- Cite your sources: decisions of the Parties, BCH records, publications.\n"
            "- Keep discussions on capacity-building; the moderators may move topics.\n\n"
            "The liaison group works in its own closed forum.\n\nAmina, for the "
            "Secretariat"), days_ago=24, pinned=True),
        Thread("announcements",
               "Call for nominations: regional training on risk assessment, Nairobi",
               Msg("amina",
                   "The Secretariat invites Parties in the African region to nominate one "
                   "participant each for a five-day training on **risk assessment of LMOs** "
                   "(Annex III, the roadmap and the voluntary guidance), hosted by the "
                   "National Biosafety Authority of Kenya.\n\n"
                   "Nominations through the national focal point by the end of next month. "
                   "Priority goes to staff who review applications now."), days_ago=6),

        Thread("risk-assessment", "Stacked events: is a separate risk assessment needed?", Msg(
            "raj",
            "Our authority is receiving its first applications for **stacked events** "
            "produced by conventional crossing of two already approved single events. "
            "Some colleagues argue the parents' assessments are enough; others want a "
            "full Annex III assessment of the stack.\n\n"
            "How have your authorities handled this? In particular:\n\n"
            "1. Do you require new molecular characterisation data for the stack?\n"
            "2. How do you consider possible interactions between the inserted traits?",
            replies=[
                Msg("wanjiru",
                    "In Kenya we treat the stack as a new LMO but accept a **reduced data "
                    "package**: stability of the inserts and expression levels in the stack, "
                    "plus an argument on interactions based on the modes of action. If the "
                    "traits act on unrelated pathways (say, insect resistance and herbicide "
                    "tolerance) we rarely need new field data.",
                    replies=[
                        Msg("olena",
                            "That matches the approach in the voluntary guidance on stacked "
                            "events. One caution from our side: when both traits are "
                            "insecticidal proteins against the same order, look for "
                            "synergistic effects on non-target organisms. We asked for a "
                            "bioassay with the combined proteins.",
                            replies=[
                                Msg("wanjiru",
                                    "Good point, @olena.kovalenko. Did the applicant provide "
                                    "the combined-protein bioassay readily, or did it delay "
                                    "the decision?", replies=[
                                        Msg("olena",
                                            "About four months' delay, mostly to agree the "
                                            "test species. Worth asking early, at the "
                                            "pre-submission meeting.", hours=30),
                                    ]),
                            ]),
                    ]),
                Msg("mei",
                    "A practical note for smaller authorities: the **BCH** holds many risk "
                    "assessment reports on stacks of the same parents. Reading two or three "
                    "before the review saves a lot of time, even if the decision must be "
                    "your own.", hours=20,
                    replies=[
                        Msg("raj",
                            "Thank you all. We will draft a short policy note: stack = new "
                            "LMO, reduced data requirements, and a specific question on "
                            "interactions. I will share it here once it is cleared."),
                    ]),
                Msg("carlos",
                    "Moderator's note: a related webinar recording is in the resource "
                    "centre. I have pinned nothing yet; suggestions for a short reading "
                    "list are welcome.", hours=40),
            ]), days_ago=18),

        Thread("risk-assessment", "Gene drive mosquitoes: where do we start the assessment?",
               Msg("kofi",
                   "Ghana may receive a request for contained trials of **gene drive "
                   "mosquitoes** within a few years. Our reviewers have experience with GM "
                   "crops only. What would you read first, and which expertise did you have "
                   "to bring in?",
                   replies=[
                       Msg("mei",
                           "Start with the problem formulation: which protection goals "
                           "(human health, biodiversity, ecosystem services such as "
                           "pollination) and which pathways to harm. Then bring in medical "
                           "entomologists and population geneticists early; the spread and "
                           "persistence of the drive is the new question compared with crops."),
                       Msg("wanjiru",
                           "The AHTEG outputs on organisms containing engineered gene drives "
                           "are the best starting point. We also found it useful to involve "
                           "the communities near the trial site from the very first "
                           "contained-use stage.", hours=9),
                   ]), days_ago=9),

        Thread("detection-identification",
               "Sharing certified reference materials between laboratories", Msg(
                   "olena",
                   "Our enforcement laboratory runs event-specific real-time PCR for "
                   "imported maize and soybean. Certified reference materials are expensive "
                   "and slow to import. Has anyone set up **exchanges of reference "
                   "materials** within a regional network?",
                   replies=[
                       Msg("raj",
                           "We share positive controls (extracted DNA, not seeds) with two "
                           "neighbouring laboratories under a simple material transfer "
                           "agreement. Each lab verifies the copy number on receipt. It "
                           "halved our costs.",
                           replies=[
                               Msg("olena",
                                   "Could you share the template of the agreement? Our legal "
                                   "department will ask for one."),
                           ]),
                       Msg("kofi",
                           "The proficiency tests organised by the European reference "
                           "laboratory are open to outside labs; taking part gave our "
                           "results credibility with the courts.", hours=12),
                   ]), days_ago=14),

        Thread("public-awareness", "Public consultation on an LMO release: what worked?", Msg(
            "wanjiru",
            "Before the decision on a field release of insect-resistant cotton we ran a "
            "30-day public consultation (Article 23.2). We received about 400 comments, "
            "most of them identical. How do others make consultations **meaningful** "
            "rather than a formality?",
            replies=[
                Msg("lucia",
                    "In Argentina we publish a plain-language summary of the application "
                    "and of the risk assessment next to the technical dossier. Comments "
                    "became far more specific once people could understand the summary."),
                Msg("kofi",
                    "Radio! In rural districts a one-hour call-in programme reached more "
                    "farmers than anything online. We recorded the questions and answered "
                    "them in the decision document.", hours=8,
                    replies=[
                        Msg("mei",
                            "Answering the questions in the decision document is the key "
                            "step: people see that their input was read.")]),
            ]), days_ago=11),

        Thread("socio-economic",
               "Consideraciones socioeconómicas en la toma de decisiones: experiencias",
               Msg("lucia",
                   "Colegas de América Latina: ¿cómo están incorporando las "
                   "**consideraciones socioeconómicas** (artículo 26) en las decisiones "
                   "sobre OVM? En Argentina las evaluamos en una instancia separada de la "
                   "evaluación de riesgo, con un dictamen propio sobre el impacto en los "
                   "mercados de exportación.",
                   replies=[
                       Msg("carlos",
                           "En México las consideraciones socioeconómicas aparecen sobre todo "
                           "en las consultas con comunidades indígenas y en los centros de "
                           "origen del maíz. El reto es definir indicadores verificables y no "
                           "solo opiniones.",
                           replies=[
                               Msg("lucia",
                                   "De acuerdo. ¿Conocen alguna metodología publicada con "
                                   "indicadores para pequeños productores? Las orientaciones "
                                   "del grupo AHTEG son un buen punto de partida, pero "
                                   "faltan ejemplos prácticos."),
                           ]),
                       Msg("jean",
                           "Desde la cooperación francesa hemos financiado un estudio en "
                           "dos países andinos; el informe estará en el centro de recursos "
                           "el próximo mes.", hours=26),
                   ]), days_ago=7),

        Thread("liability-redress",
               "Ratification du Protocole additionnel : où en sont vos pays ?", Msg(
                   "jean",
                   "Chers collègues, plusieurs pays francophones d'Afrique de l'Ouest "
                   "préparent la ratification du **Protocole additionnel de Nagoya – Kuala "
                   "Lumpur sur la responsabilité et la réparation**. Quelles difficultés "
                   "avez-vous rencontrées pour l'intégrer au droit national, notamment pour "
                   "définir l'« autorité compétente » et les mesures d'intervention ?",
                   replies=[
                       Msg("amina",
                           "Merci Jean. Le Secrétariat peut mettre en relation les pays qui "
                           "ont déjà adopté des textes d'application. La question la plus "
                           "fréquente concerne la garantie financière : la plupart des pays "
                           "l'ont laissée facultative au départ.",
                           replies=[
                               Msg("jean",
                                   "Très utile. Nous pourrions organiser un webinaire en "
                                   "français au prochain trimestre ; je propose un projet "
                                   "d'ordre du jour ici la semaine prochaine."),
                           ]),
                   ]), days_ago=5),

        Thread("national-frameworks",
               "Implementing regulations after the biosafety act: what comes first?", Msg(
                   "kofi",
                   "Our biosafety act passed last year. We now need implementing "
                   "regulations, guidelines for applicants and an institutional biosafety "
                   "committee system, with a staff of four. **What would you do first?**",
                   replies=[
                       Msg("wanjiru",
                           "Application procedures and timelines first: without them the "
                           "authority cannot lawfully decide anything. Then the fee "
                           "schedule, then the guidelines. Institutional committees can start "
                           "with a model terms of reference."),
                       Msg("amina",
                           "The Secretariat keeps examples of regulations from several "
                           "Parties in the registry; I will link the most relevant ones "
                           "here. Mentoring by an authority that went through this "
                           "recently is also possible through the network.", hours=10),
                   ]), days_ago=16),

        Thread("education-training", "Open course materials on biosafety for universities",
               Msg("mei",
                   "We are preparing an open, Creative Commons course on biosafety for "
                   "master's students (12 modules, with case studies from Asia). Would "
                   "universities in the network be interested in co-developing modules?",
                   replies=[
                       Msg("lucia",
                           "¡Sí! The University of Buenos Aires could contribute the module on "
                           "socio-economic considerations, in Spanish and English."),
                   ]), days_ago=3),
    ]


def _liaison_threads() -> list[Thread]:
    return [
        Thread("liaison-forum", "Draft agenda for the next liaison group meeting", Msg(
            "amina",
            "Dear members of the liaison group, please find below the draft agenda. "
            "Comments by Friday, please.\n\n"
            "1. Progress on the capacity-building action plan indicators\n"
            "2. Review of the e-learning modules\n"
            "3. Coordination with donors for the next biennium\n"
            "4. Any other business",
            replies=[
                Msg("carlos",
                    "Under item 3, could we add a short update on the Latin American "
                    "regional project? Fifteen minutes would be enough."),
                Msg("wanjiru",
                    "Agreed with the agenda. For item 1 I can present the results of the "
                    "survey of national authorities in Africa.", hours=7,
                    replies=[
                        Msg("amina", "Thank you both; both added to the revised agenda.")]),
            ]), days_ago=4),
        Thread("liaison-forum", "Indicators for the review of the action plan", Msg(
            "raj",
            "Attached is our first list of outcome indicators. I think we have too many "
            "output counts (trainings held, people trained) and too few measures of "
            "whether decisions are actually taken on time.",
            replies=[
                Msg("olena",
                    "Suggest adding: share of decisions taken within the legal time limit, "
                    "and share of risk assessment reports published in the BCH."),
            ]), days_ago=2),
    ]


def _post_thread(people: dict[str, Member], boards: dict[str, Board], thread: Thread,
                 now: datetime) -> None:
    board = boards[thread.board]
    when = now - timedelta(days=thread.days_ago)
    clock.freeze(when)
    first = services.create_topic(people[thread.start.author], board, thread.title,
                                  thread.start.body)
    if first.status == "held":
        moderation.approve_post(people["carlos"], first)
    topic = first.topic
    state = {"when": when}

    def answer(parent: Post | None, messages: list[Msg]) -> None:
        for msg in messages:
            state["when"] = state["when"] + timedelta(hours=msg.hours)
            clock.freeze(min(state["when"], now))
            post = services.create_reply(people[msg.author], topic, msg.body,
                                         parent=parent)
            if post.status == "held":
                moderation.approve_post(people["carlos"], post)
            answer(post, msg.replies)

    answer(first, thread.start.replies)
    if thread.pinned:
        moderation.set_pinned(people["amina"], topic, True)


def seed_forums(members: list[Member]) -> None:
    """Boards and discussions for the demo network (skips boards that exist)."""
    keys = ["amina", "carlos", "wanjiru", "raj", "olena", "lucia", "jean", "mei", "kofi"]
    people = dict(zip(keys, members, strict=False))
    if len(people) < len(keys):
        return
    areas = {a.slug: a for a in db.session.scalars(db.select(ThematicArea))}
    existing = {b.slug for b in db.session.scalars(db.select(Board))}
    boards: dict[str, Board] = {}
    for position, (slug, area, name, description, category, extra) in enumerate(BOARDS, 1):
        board = db.session.scalar(db.select(Board).where(Board.slug == slug))
        if board is None:
            board = Board(slug=slug, name=name, description=description, category=category,
                          position=position, visibility=extra.get("visibility", "public"),
                          posting=extra.get("posting", "all"),
                          premoderated=extra.get("premoderated", False),
                          thematic_area_id=areas[area].id if area in areas else None,
                          translations={})
            seed_translations.translate_board(board)
            db.session.add(board)
        boards[slug] = board
    liaison = db.session.scalar(db.select(Group).where(Group.slug == "liaison"))
    slug, name, description = LIAISON_BOARD
    board = db.session.scalar(db.select(Board).where(Board.slug == slug))
    if board is None and liaison is not None:
        board = Board(slug=slug, name=name, description=description, category="Groups",
                      position=100, visibility="group", group_id=liaison.id, posting="all",
                      translations={})
        seed_translations.translate_board(board)
        db.session.add(board)
    boards[slug] = board
    db.session.commit()

    now = clock.now()
    try:
        for thread in _threads() + (_liaison_threads() if liaison is not None else []):
            if thread.board in existing:
                continue
            _post_thread(people, boards, thread, now)
        clock.freeze(now - timedelta(hours=3))
        if "education-training" not in existing:
            # Something for the moderators' queue: a held post and a reported one.
            topic = db.session.scalar(db.select(Post).join(Post.topic).where(
                Post.position == 1, Post.body.like("%open, Creative Commons course%"))).topic
            services.create_reply(
                people["kofi"], topic,
                "Ghana's university consortium would like to translate the modules and "
                "adapt the case studies to West Africa. Who should we contact?")
        if "general" not in existing:
            misplaced = services.create_topic(
                people["jean"], boards["general"], "Looking for partners: biosafety "
                "capacity projects in the Sahel",
                "Our agency is identifying partners for a three-year programme on "
                "biosafety capacity in the Sahel. Please write to me if your institution "
                "works in the region.")
            moderation.flag_post(people["olena"], misplaced,
                               "Might belong on the registry's opportunities board.")
    finally:
        clock.freeze(None)
