"""Languages: complete catalogs, the member's choice, the browser's, and <html lang>."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None,
            "_l": None, "pgettext": ((1, "c"), 2)}


def _extracted() -> set[str]:
    method_map = [("hub/**.py", "python"), ("forums/**.py", "python"),
                  ("conferences/**.py", "python"), ("listserv/**.py", "python"),
                  ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2")]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map=method_map, keywords=KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("language", ["es", "fr"])
def test_catalog_translates_every_string(language):
    path = ROOT / "translations" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        catalog = read_po(f)
    translated = {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalog
                  if m.id and not m.fuzzy and all(m.string if isinstance(m.string, tuple)
                                                  else [m.string])}
    missing = sorted(_extracted() - translated)
    assert not missing, (f"{len(missing)} strings lack a {language} translation "
                         f"(run `make messages`, then translate): {missing[:10]}")


def test_the_extraction_sees_strings():
    assert "Join the network" in _extracted()


@pytest.mark.parametrize("header,lang,text", [
    ("es-AR,es;q=0.9", "es", "Iniciar sesión"),
    ("fr-CA,fr;q=0.8,en;q=0.5", "fr", "Se connecter"),
    ("de-DE,de;q=0.9", "en", "Sign in"),
])
def test_the_browser_language_is_used(client, header, lang, text):
    page = client.get("/login", headers={"Accept-Language": header}).get_data(as_text=True)
    assert f'<html lang="{lang}">' in page and text in page


def test_the_members_choice_beats_the_browser(client, make_member, auth):
    auth.login(make_member(language="fr"))
    page = client.get("/account/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<html lang="fr">' in page and "Votre profil" in page


def test_a_visitor_can_switch_language(client):
    response = client.get("/language/es?next=/login")
    assert response.location == "/login"
    assert "Iniciar sesión" in client.get("/login").get_data(as_text=True)
    assert client.get("/language/es?next=https://evil.example").location == "/"


def test_templates_follow_force_locale_inside_a_request(app):
    """Templates keep the request's catalog, yet mail rendered for another member in the
    same request (force_locale) is in that member's language, and the page after it is
    back in the reader's."""
    from flask import render_template_string
    from flask_babel import force_locale

    template = "{{ _('Sign in') }}"
    with app.test_request_context("/", headers={"Accept-Language": "es"}):
        assert render_template_string(template) == "Iniciar sesión"
        with force_locale("fr"):
            assert render_template_string(template) == "Se connecter"
            with force_locale("en"):
                assert render_template_string(template) == "Sign in"
            assert render_template_string(template) == "Se connecter"
        assert render_template_string(template) == "Iniciar sesión"


def test_the_secretariat_writes_the_rules_in_three_languages(client, make_member, auth):
    from hub.models import Role

    secretariat = make_member(role=Role.SECRETARIAT)
    auth.login(secretariat)
    assert "Be respectful" in client.get("/rules").get_data(as_text=True)  # built in
    form = client.get("/secretariat/texts/rules").get_data(as_text=True)
    assert 'name="body_es"' in form and 'name="body_fr"' in form
    response = client.post("/secretariat/texts/rules", data={
        "body": "1. Be **kind**.", "source_lang": "en",
        "body_es": "1. Sea **amable**.", "body_fr": ""})
    assert response.status_code == 302
    assert "<strong>kind</strong>" in client.get("/rules").get_data(as_text=True)
    auth.logout()
    auth.login(make_member(language="es"))
    assert "<strong>amable</strong>" in client.get("/rules").get_data(as_text=True)
    auth.logout()
    auth.login(make_member(language="fr"))
    page = client.get("/rules").get_data(as_text=True)
    assert "<strong>kind</strong>" in page and 'class="lang-mark"' in page  # no French yet
    assert client.get("/secretariat/texts/rules").status_code == 403
