"""CSRF on every form, security headers, rate limits, redirects and header injection."""

from __future__ import annotations

import pytest

from hub.mailer import HeaderInjection, send_mail
from hub.models import Role
from hub.security import safe_next


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_every_form_post_without_a_csrf_token_is_refused(app, client, make_member, auth):
    """Walk the URL map: every non-API route that accepts POST refuses a token-less post."""
    member = make_member(role=Role.SECRETARIAT)
    # Sign in the honest way first: the login form carries its token.
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert client.post("/login", data={"email": member.email, "password":
                                       "correct horse battery",
                                       "csrf_token": token}).status_code == 302
    # RFC 8058 one-click unsubscribe is posted by mail clients, without a session or a
    # form: its signed token is what protects it.
    exempt = {"/lists/unsubscribe/<token>"}
    checked = 0
    for rule in app.url_map.iter_rules():
        if ("POST" not in (rule.methods or ()) or rule.rule.startswith("/api/")
                or rule.rule in exempt):
            continue
        values = {}
        for arg, converter in rule._converters.items():
            items = sorted(getattr(converter, "items", ()))
            values[arg] = items[0] if items else 1
        url = rule.build(values, append_unknown=False)[1]
        response = client.post(url, data={"email": "x@example.org"})
        assert response.status_code == 400, f"{rule.rule} accepted a post without CSRF"
        checked += 1
    assert checked >= 15


def test_security_headers_on_every_response(client):
    for path in ("/", "/login", "/does-not-exist", "/api/v1/me"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_script(client, make_member, auth):
    auth.login(make_member(role=Role.SECRETARIAT))
    for path in ("/", "/account/", "/members/", "/secretariat/", "/apply"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>" not in page and " onclick=" not in page and "style=" not in page


@pytest.mark.config(HUB_BASE_URL="https://hub.example.org")
def test_session_cookie_is_secure_httponly_and_samesite_over_https(client, make_member):
    member = make_member()
    response = client.post("/login", data={"email": member.email,
                                           "password": "correct horse battery"},
                           base_url="https://hub.example.org")
    cookie = next(v for k, v in response.headers.items()
                  if k == "Set-Cookie" and v.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.config(HUB_RATELIMIT_LOGIN="3 per minute")
def test_login_is_rate_limited(client):
    codes = [client.post("/login", data={"email": "a@example.org", "password": "x" * 12})
             .status_code for _ in range(4)]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429


@pytest.mark.config(HUB_RATELIMIT_REGISTER="2 per minute")
def test_registration_is_rate_limited(client):
    codes = [client.post("/apply", data={"email": "bad"}).status_code for _ in range(3)]
    assert codes[2] == 429


@pytest.mark.config(HUB_RATELIMIT_RESET="2 per minute")
def test_password_reset_is_rate_limited(client):
    codes = [client.post("/forgot", data={"email": "a@example.org"}).status_code
             for _ in range(3)]
    assert codes == [302, 302, 429]


@pytest.mark.parametrize("target,expected", [
    ("/members/", "/members/"),
    ("https://evil.example/", "/"),
    ("//evil.example/x", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
    (None, "/"),
])
def test_safe_next(target, expected):
    assert safe_next(target) == expected


def test_login_does_not_redirect_off_site(client, make_member):
    member = make_member()
    response = client.post("/login?next=https://evil.example/",
                           data={"email": member.email, "password": "correct horse battery"})
    assert response.location == "/"


def test_mail_headers_with_line_breaks_are_refused(app):
    with pytest.raises(HeaderInjection):
        send_mail("victim@example.org\r\nBcc: everyone@example.org", "approved",
                  member=None, url="x")
    with pytest.raises(HeaderInjection):
        send_mail("a@example.org", "approved", name="Eve\nBcc: x@example.org",
                  member=None, url="x")


def test_pages_are_light(client, make_member, auth):
    """Under 100 KB before images, for people on slow connections."""
    for path in ("/", "/apply", "/login"):
        assert len(client.get(path).data) < 100_000, path
    auth.login(make_member(role="secretariat"))
    for path in ("/account/", "/members/", "/secretariat/", "/secretariat/areas"):
        assert len(client.get(path).data) < 100_000, path


def _limiter_hook(app) -> bool:
    from hub.extensions import limiter

    check = type(limiter)._check_request_limit
    return any(getattr(f, "__func__", None) is check for f in app.before_request_funcs[None])


@pytest.mark.config(HUB_RATELIMIT_LOGIN="2 per minute")
def test_limits_are_checked_by_the_views_that_declare_them(app, client):
    """No default, application or blueprint limits: Flask-Limiter's hook on every request
    is dropped (it decided nothing), and the declared limits still hold."""
    assert not _limiter_hook(app)
    codes = [client.post("/login", data={"email": "a@example.org", "password": "x" * 12})
             .status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_the_limiter_hook_stays_when_limits_apply_to_every_request(app_config, monkeypatch):
    from hub import create_app
    from hub.extensions import limiter

    class Group(list):
        finalized = True

    monkeypatch.setattr(limiter.limit_manager, "_default_limits", [Group(["1 per day"])])
    assert _limiter_hook(create_app({**app_config,
                                     "SQLALCHEMY_DATABASE_URI": "sqlite://"}))


def _signed_in_cookie(client, auth, make_member) -> str:
    auth.login(make_member())
    assert client.get("/account/").status_code == 200
    return client.get_cookie("session").value


def _opened(app, cookie: str):
    with app.test_request_context("/", headers={"Cookie": f"session={cookie}"}):
        return app.session_interface.open_session(app, __import__("flask").request)


def test_a_kept_session_cookie_is_checked_like_a_new_one(app, client, auth, make_member):
    """A session cookie this process verified is kept (not verified again); what Flask
    would refuse is still refused: a changed cookie, another secret key, an old one."""
    cookie = _signed_in_cookie(client, auth, make_member)
    assert _opened(app, cookie).get("_user_id")  # kept now
    assert cookie in app.session_interface._opened
    payload, stamp, signature = cookie.rsplit(".", 2)
    forged = f"{payload}.{stamp}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    assert not _opened(app, forged)
    app.secret_key, kept = "another secret key", app.secret_key
    try:
        assert not _opened(app, cookie)
    finally:
        app.secret_key = kept
    assert _opened(app, cookie).get("_user_id")


def test_a_kept_session_cookie_expires_when_flask_says(app, client, auth, make_member,
                                                       monkeypatch):
    import time

    cookie = _signed_in_cookie(client, auth, make_member)
    assert _opened(app, cookie)
    lifetime = app.permanent_session_lifetime.total_seconds()
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + lifetime + 60)
    assert not _opened(app, cookie)


def test_each_request_gets_its_own_copy_of_a_kept_session(app, client, auth, make_member):
    cookie = _signed_in_cookie(client, auth, make_member)
    first = _opened(app, cookie)
    first["listserv_notice"] = True
    first.pop("_user_id")
    again = _opened(app, cookie)
    assert "listserv_notice" not in again and again.get("_user_id")
