"""The network's own texts in three languages (hub/content.py): edited side by side on
the board form, shown in the reader's language with a mark when it falls back to the
original, given by the API in the caller's language and, on request, in every one."""

from __future__ import annotations

from forums.models import Board
from hub.content import set_translations, shown
from hub.extensions import db
from hub.models import ThematicArea

FORM = {"name": "Risk assessment", "description": "Annex III in practice",
        "category": "Thematic areas", "thematic_area": "", "visibility": "public",
        "group": "", "posting": "all", "moderator_group": "", "position": "2",
        "source_lang": "en",
        "name_es": "Evaluación del riesgo", "description_es": "El anexo III en la práctica",
        "category_es": "Áreas temáticas",
        "name_fr": "Évaluation des risques", "description_fr": "",
        "category_fr": "Domaines thématiques"}


def test_the_secretariat_translates_a_board_side_by_side(client, auth, cast, make_member):
    other = cast.members
    other.category = "Thematic areas"
    db.session.commit()
    auth.login(cast.secretariat)
    form = client.get(f"/forums/manage/{cast.public.slug}").get_data(as_text=True)
    assert 'name="name_es"' in form and 'name="name_fr"' in form
    assert 'name="name_en"' not in form  # the original is English: no English column
    assert client.post(f"/forums/manage/{cast.public.slug}", data=FORM).status_code == 302
    db.session.expire_all()
    board = db.session.get(Board, cast.public.id)
    assert board.translations["es"] == {"name": "Evaluación del riesgo",
                                        "description": "El anexo III en la práctica",
                                        "category": "Áreas temáticas"}
    assert "description" not in board.translations["fr"]  # empty: the original shows
    # The category's versions go to every board of the category.
    assert db.session.get(Board, other.id).translations["fr"]["category"] == \
        "Domaines thématiques"
    form = client.get(f"/forums/manage/{cast.public.slug}").get_data(as_text=True)
    assert 'value="Evaluación del riesgo"' in form
    auth.logout()

    lucia, jean = make_member(language="es"), make_member(language="fr")
    auth.login(lucia)
    page = client.get(f"/forums/{cast.public.slug}").get_data(as_text=True)
    assert "Evaluación del riesgo" in page and "El anexo III en la práctica" in page
    index = client.get("/forums/").get_data(as_text=True)
    assert "Áreas temáticas" in index and "Evaluación del riesgo" in index
    auth.logout()
    auth.login(jean)
    page = client.get(f"/forums/{cast.public.slug}").get_data(as_text=True)
    assert "Évaluation des risques" in page
    # No French description: the English one, marked as English.
    assert '<span lang="en">Annex III in practice</span> <abbr class="lang-mark"' in page


def test_the_api_gives_the_callers_language_and_every_version_on_request(
        client, cast, token_for, make_member):
    board = db.session.get(Board, cast.public.id)
    set_translations(board, {"es": {"name": "Tablero abierto"}, "fr": {"name": "Forum ouvert"}})
    db.session.commit()
    lucia = make_member(language="es")
    got = client.get(f"/api/v1/boards/{board.slug}", headers=token_for(lucia)).get_json()
    assert got["name"] == "Tablero abierto" and got["lang"] == "es"
    assert "translations" not in got
    got = client.get(f"/api/v1/boards/{board.slug}?translations=all",
                     headers=token_for(lucia)).get_json()
    assert got["translations"]["en"]["name"] == "Open board"
    assert got["translations"]["fr"] == {"name": "Forum ouvert"}
    headers = token_for(cast.secretariat)
    response = client.patch(f"/api/v1/boards/{board.slug}", headers=headers,
                            json={"translations": {"fr": {"name": "Forum public"}}})
    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    assert db.session.get(Board, board.id).translations["fr"]["name"] == "Forum public"
    bad = client.patch(f"/api/v1/boards/{board.slug}", headers=headers,
                       json={"translations": {"de": {"name": "Offen"}}})
    assert bad.status_code == 422 and bad.get_json()["error"]["code"]


def test_a_text_falls_back_to_its_original_language(app):
    area = ThematicArea(slug="x-area", name="Évaluation", source_lang="fr", translations={})
    set_translations(area, {"en": {"name": "Assessment"}, "fr": {"name": "ignored"}})
    assert area.translations == {"en": {"name": "Assessment"}}  # never the original's
    assert shown(area, "name", "en") == "Assessment"
    spanish = shown(area, "name", "es")
    assert spanish == "Évaluation" and spanish.lang == "fr" and spanish.fallback


def test_a_form_without_translation_inputs_keeps_the_versions(client, auth, cast):
    board = db.session.get(Board, cast.public.id)
    set_translations(board, {"es": {"name": "Tablero abierto"}})
    db.session.commit()
    auth.login(cast.secretariat)
    data = {k: v for k, v in FORM.items() if k[-3:] not in {"_es", "_fr", "_en"}
            and k != "source_lang"}
    assert client.post(f"/forums/manage/{cast.public.slug}", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Board, cast.public.id).translations["es"]["name"] == \
        "Tablero abierto"
