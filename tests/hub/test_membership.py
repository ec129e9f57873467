"""The network's front door, end to end: every email asserted on what a real SMTP server
received."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from hub import clock
from hub.extensions import db
from hub.models import Member, MemberStatus, Role, ThematicArea

LINK = re.compile(r"http://hub\.test(/\S+)")

APPLICATION = {
    "name": "Ana Souza",
    "email": "ana@example.org",
    "password": "a long enough password",
    "confirm": "a long enough password",
    "organization": "Embrapa",
    "org_type": "research",
    "country": "BR",
    "bio": "Plant biotechnologist.",
    "language": "es",
    "timezone": "America/Sao_Paulo",
    "accept_rules": "y",
}


def link_in(message) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    return LINK.search(body).group(1)


def apply(client, **changes):
    return client.post("/apply", data={**APPLICATION, **changes})


def test_apply_verify_approve_login(client, smtp, run_jobs, make_member, auth):
    secretariat = make_member("sec@example.org", role=Role.SECRETARIAT)
    area = db.session.scalar(db.select(ThematicArea).where(ThematicArea.slug == "risk-assessment"))
    response = apply(client, expertise=str(area.id))
    assert response.status_code == 302 and response.location.endswith("/apply/sent")
    run_jobs()
    [verify] = smtp.to("ana@example.org")
    # The applicant chose Spanish: the mail is in Spanish.
    assert verify["Subject"] == "Confirme su dirección de correo electrónico"
    assert verify["Auto-Submitted"] == "auto-generated"

    # Before verification and approval, signing in shows where the applicant stands.
    response = auth.login("ana@example.org", APPLICATION["password"])
    assert response.location.endswith("/status")
    assert "confirm your email address first" in client.get("/status").get_data(as_text=True)

    response = client.get(link_in(verify))
    assert response.status_code == 200
    member = db.session.scalar(db.select(Member).where(Member.email == "ana@example.org"))
    assert member.status == MemberStatus.PENDING
    assert member.region == "grulac" and [a.slug for a in member.expertise] == ["risk-assessment"]
    # The link is single use.
    assert client.get(link_in(verify)).status_code == 400

    run_jobs()
    [notice] = smtp.to("sec@example.org")
    assert "Ana Souza" in notice["Subject"]

    auth.login(secretariat)
    page = client.get("/secretariat/applications").get_data(as_text=True)
    assert "Ana Souza" in page
    assert client.post(f"/secretariat/applications/{member.id}/approve").status_code == 302
    auth.logout()
    run_jobs()
    [approved, lists] = smtp.to("ana@example.org")[1:]
    assert approved["Subject"].startswith("Le damos la bienvenida a la Red")
    assert lists["Subject"] == "Su correo de la red"  # what the lists will send her

    response = auth.login("ana@example.org", APPLICATION["password"])
    assert response.location == "/"
    assert "Ana Souza" in client.get("/").get_data(as_text=True)


@pytest.mark.config(HUB_AUTO_APPROVE=True)
def test_auto_approval_activates_on_verification(client, smtp, run_jobs, auth):
    apply(client, language="en")
    run_jobs()
    client.get(link_in(smtp.to("ana@example.org")[0]))
    member = db.session.scalar(db.select(Member).where(Member.email == "ana@example.org"))
    assert member.status == MemberStatus.ACTIVE
    assert auth.login("ana@example.org", APPLICATION["password"]).location == "/"


def test_bad_application_rerenders_with_messages_and_keeps_input(client):
    response = apply(client, email="not-an-address", confirm="different", accept_rules="")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in page
    assert "Ana Souza" in page  # nothing the applicant typed is lost
    assert db.session.scalar(db.select(db.func.count()).select_from(Member)) == 0


def test_applying_with_a_taken_address_reveals_nothing(client, smtp, run_jobs, make_member):
    make_member("ana@example.org", name="Existing Ana")
    response = apply(client)
    assert response.status_code == 302 and response.location.endswith("/apply/sent")
    run_jobs()
    [note] = smtp.to("ana@example.org")
    assert "already" in note.get_body(preferencelist=("plain",)).get_content()
    assert db.session.scalar(db.select(db.func.count()).select_from(Member)) == 1


def test_rejection_emails_the_reason(client, smtp, run_jobs, make_member, auth):
    secretariat = make_member(role=Role.SECRETARIAT)
    applicant = make_member("x@example.org", status=MemberStatus.PENDING, language="fr")
    auth.login(secretariat)
    client.post(f"/secretariat/applications/{applicant.id}/reject",
                data={"reason": "Merci de préciser votre organisation."})
    run_jobs()
    [mail] = smtp.to("x@example.org")
    assert "Merci de préciser votre organisation." in mail.get_body(
        preferencelist=("plain",)).get_content()
    db.session.refresh(applicant)
    assert applicant.status == MemberStatus.REJECTED


def test_only_the_secretariat_approves(client, make_member, auth):
    applicant = make_member(status=MemberStatus.PENDING)
    auth.login(make_member(role=Role.MODERATOR))
    assert client.post(f"/secretariat/applications/{applicant.id}/approve").status_code == 403
    db.session.refresh(applicant)
    assert applicant.status == MemberStatus.PENDING


def test_bulk_invitation_reports_refusals_and_invitees_set_a_password(
        client, smtp, run_jobs, make_member, auth):
    secretariat = make_member(role=Role.SECRETARIAT)
    make_member("taken@example.org")
    csv_text = (
        "name,email,organization,country\n"
        "Kwame Boateng,kwame@example.org,CSIR,GH\n"
        "No Email,,Somewhere,KE\n"
        "Taken,taken@example.org,X,KE\n"
        "Bad Country,bad@example.org,X,ZZ\n"
        "Twice,kwame@example.org,CSIR,GH\n"
    )
    from io import BytesIO

    auth.login(secretariat)
    response = client.post("/secretariat/invite", data={
        "file": (BytesIO(csv_text.encode()), "people.csv")},
        content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert "1 invitation sent." in page
    for line, why in [(3, "not a valid email"), (4, "already a member"),
                      (5, "unknown country"), (6, "already a member")]:
        assert re.search(rf"<td>{line}</td><td>[^<]*</td><td>{why}", page), line
    auth.logout()
    run_jobs()
    [invitation] = smtp.to("kwame@example.org")
    path = link_in(invitation)
    form = client.get(path)
    assert form.status_code == 200 and "Kwame Boateng" in form.get_data(as_text=True)
    response = client.post(path, data={
        "name": "Kwame Boateng", "organization": "CSIR", "org_type": "research",
        "country": "GH", "language": "en", "timezone": "Africa/Accra",
        "password": "another long password", "confirm": "another long password",
        "accept_rules": "y"})
    assert response.status_code == 302
    member = db.session.scalar(db.select(Member).where(Member.email == "kwame@example.org"))
    assert member.status == MemberStatus.ACTIVE and member.region == "africa"
    assert client.get(path).status_code == 400  # single use


def test_password_reset_is_single_use_and_void_after_a_password_change(
        client, smtp, run_jobs, make_member, auth):
    member = make_member("reset@example.org")
    client.post("/forgot", data={"email": "reset@example.org"})
    client.post("/forgot", data={"email": "reset@example.org"})
    run_jobs()
    first, second = smtp.to("reset@example.org")
    path = link_in(first)
    assert client.post(path, data={"password": "brand new password",
                                   "confirm": "brand new password"}).status_code == 302
    assert auth.login(member, "brand new password").location == "/"
    auth.logout()
    # Used once: dead. The other link died with the password change.
    assert client.get(path).status_code == 400
    assert client.get(link_in(second)).status_code == 400


def test_reset_link_expires(client, smtp, run_jobs, make_member):
    make_member("late@example.org")
    client.post("/forgot", data={"email": "late@example.org"})
    run_jobs()
    path = link_in(smtp.to("late@example.org")[0])
    import time

    real = time.time
    try:
        time.time = lambda: real() + 3 * 24 * 3600  # itsdangerous reads time.time
        page = client.get(path)
    finally:
        time.time = real
    assert page.status_code == 400 and "expired" in page.get_data(as_text=True)


def test_forgot_and_login_do_not_reveal_accounts(client, make_member):
    make_member("real@example.org")
    known = client.post("/forgot", data={"email": "real@example.org"}, follow_redirects=True)
    unknown = client.post("/forgot", data={"email": "nobody@example.org"},
                          follow_redirects=True)
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)
    wrong_password = client.post("/login", data={"email": "real@example.org",
                                                 "password": "wrong password!"})
    no_account = client.post("/login", data={"email": "nobody@example.org",
                                             "password": "wrong password!"})
    # Same page for both, apart from the address the visitor typed back in the form.
    assert wrong_password.get_data(as_text=True).replace("real@", "x@") == \
        no_account.get_data(as_text=True).replace("nobody@", "x@")


def test_password_change_ends_every_other_session(app, make_member):
    member = make_member()
    laptop, phone = app.test_client(), app.test_client()
    for c in (laptop, phone):
        c.post("/login", data={"email": member.email, "password": "correct horse battery"})
        assert c.get("/account/").status_code == 200
    response = laptop.post("/account/password", data={
        "current_password": "correct horse battery", "password": "a different password",
        "confirm": "a different password"})
    assert response.status_code == 302
    assert laptop.get("/account/").status_code == 200  # this session stays
    assert phone.get("/account/").status_code == 302  # the other one is gone


def test_remember_me_cookie_dies_with_a_password_change(app, make_member):
    member = make_member()
    c = app.test_client()
    c.post("/login", data={"email": member.email, "password": "correct horse battery",
                           "remember": "y"})
    remember = c.get_cookie("remember_token")
    assert remember is not None
    member.set_password("changed elsewhere now")
    db.session.commit()
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember.value)
    assert fresh.get("/account/").status_code == 302


def test_email_change_is_confirmed_by_the_new_address(client, smtp, run_jobs, make_member, auth):
    member = make_member("old@example.org")
    auth.login(member)
    client.post("/account/email", data={"email": "new@example.org",
                                        "password": "correct horse battery"})
    run_jobs()
    [warning] = smtp.to("old@example.org")
    assert "new@example.org" in warning.get_body(preferencelist=("plain",)).get_content()
    [confirm] = smtp.to("new@example.org")
    db.session.refresh(member)
    assert member.email == "old@example.org"  # not until confirmed
    client.get(link_in(confirm))
    db.session.refresh(member)
    assert member.email == "new@example.org"
    assert client.get(link_in(confirm)).status_code == 400


def test_deactivation_ends_sessions_and_blocks_login(app, make_member):
    secretariat, member = make_member(role=Role.SECRETARIAT), make_member()
    member_client, sec_client = app.test_client(), app.test_client()
    member_client.post("/login", data={"email": member.email,
                                       "password": "correct horse battery"})
    sec_client.post("/login", data={"email": secretariat.email,
                                    "password": "correct horse battery"})
    sec_client.post(f"/secretariat/members/{member.id}/deactivate")
    assert member_client.get("/account/").status_code == 302
    response = member_client.post("/login", data={"email": member.email,
                                                  "password": "correct horse battery"})
    assert response.location.endswith("/status")
    assert "deactivated" in member_client.get("/status").get_data(as_text=True)


def test_directory_filters_and_email_privacy(client, make_member, auth):
    viewer = make_member(name="Viewer", country="FR", region="weog")
    make_member("kenya@example.org", name="Njeri Otieno", organization="KEPHIS",
                country="KE", region="africa", org_type="government", show_email=True)
    make_member("peru@example.org", name="Rosa Quispe", organization="INIA", country="PE",
                region="grulac", org_type="research")
    make_member("pending@example.org", name="Pending Person", status=MemberStatus.PENDING)
    auth.login(viewer)
    page = client.get("/members/?region=africa").get_data(as_text=True)
    assert "Njeri Otieno" in page and "Rosa Quispe" not in page
    page = client.get("/members/?q=inia").get_data(as_text=True)
    assert "Rosa Quispe" in page and "Njeri Otieno" not in page
    assert "Pending Person" not in client.get("/members/").get_data(as_text=True)
    kenya = db.session.scalar(db.select(Member).where(Member.email == "kenya@example.org"))
    peru = db.session.scalar(db.select(Member).where(Member.email == "peru@example.org"))
    assert "kenya@example.org" in client.get(f"/members/{kenya.id}").get_data(as_text=True)
    assert "peru@example.org" not in client.get(f"/members/{peru.id}").get_data(as_text=True)


def test_groups_are_closed_and_managed_by_their_managers(client, make_member, make_group, auth):
    manager, insider, outsider = make_member(), make_member(), make_member()
    group = make_group("liaison-x", members=(insider,), managers=(manager,))
    auth.login(outsider)
    assert client.get(f"/groups/{group.slug}").status_code == 404
    assert group.slug not in client.get("/groups/").get_data(as_text=True)
    auth.logout()
    auth.login(insider)
    assert client.get(f"/groups/{group.slug}").status_code == 200
    assert client.post(f"/groups/{group.slug}", data={"email": outsider.email}).status_code == 200
    assert outsider.name not in client.get(f"/groups/{group.slug}").get_data(as_text=True)
    auth.logout()
    auth.login(manager)
    client.post(f"/groups/{group.slug}", data={"email": outsider.email})
    assert outsider.name in client.get(f"/groups/{group.slug}").get_data(as_text=True)


def test_times_are_shown_in_the_members_zone(client, make_member, auth):
    member = make_member(timezone="Asia/Tokyo")
    from hub.models import ApiToken

    db.session.add(ApiToken(member_id=member.id, token_hash="x" * 64, prefix="hub_abc",
                            created_at=clock.now().replace(hour=23, minute=30, second=0,
                                                           microsecond=0)))
    db.session.commit()
    auth.login(member)
    page = client.get("/account/tokens").get_data(as_text=True)
    tokyo = (clock.now().replace(hour=23, minute=30) + timedelta(hours=9))
    assert f"{tokyo.hour % 12 or 12}:30" in page
    assert "Asia/Tokyo" in page


def test_directory_search_ignores_accents_and_case_and_uses_the_index(
        client, make_member, auth):
    viewer = make_member(name="Viewer")
    make_member("lucia-dir@example.org", name="Lucía Fernández",
                organization="Instituto Nacional de Tecnología Agropecuaria")
    make_member("other-dir@example.org", name="Jean Dupont", organization="Anses")
    auth.login(viewer)
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    from sqlalchemy import event
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        for q in ("lucia", "Fernandez", "LUCÍA fern", "tecnologia", "luc"):
            page = client.get(f"/members/?q={q}").get_data(as_text=True)
            assert "Lucía Fernández" in page and "Jean Dupont" not in page, q
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert not any(" LIKE " in s.upper() for s in statements)
    # A renamed member is found by the new name only.
    member = db.session.scalar(db.select(Member).where(Member.email == "other-dir@example.org"))
    member.name = "Jeanne Dupré"
    db.session.commit()
    assert "Jeanne Dupré" in client.get("/members/?q=dupre").get_data(as_text=True)
    assert "Jeanne Dupré" not in client.get("/members/?q=dupont").get_data(as_text=True)


def test_an_unconfirmed_application_cannot_be_approved(client, make_member, auth):
    secretariat = make_member(role=Role.SECRETARIAT)
    applicant = make_member("unconfirmed@example.org", name="Unconfirmed Applicant",
                            status=MemberStatus.UNVERIFIED, email_verified_at=None)
    auth.login(secretariat)
    page = client.get("/secretariat/applications").get_data(as_text=True)
    assert "Unconfirmed Applicant" in page
    assert f"/secretariat/applications/{applicant.id}/approve" not in page
    client.post(f"/secretariat/applications/{applicant.id}/approve")
    db.session.expire_all()
    assert db.session.get(Member, applicant.id).status == MemberStatus.UNVERIFIED
