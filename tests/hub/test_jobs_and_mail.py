"""Background jobs and the hub's own mail: SMTP over a real socket, the dev mailbox when
no server is configured, retries with backoff and quarantine."""

from __future__ import annotations

from datetime import timedelta

from hub import clock, jobs
from hub.extensions import db
from hub.mailer import send_mail
from hub.models import DevMail, Job, Role


def test_mail_goes_over_smtp_with_text_and_html(app, smtp, run_jobs, make_member):
    member = make_member("to@example.org", name="Zoë Ñandú")
    send_mail(member.email, "approved", name=member.name, member=member, url="http://x/login")
    db.session.commit()
    assert smtp.received == []  # nothing is sent inside the transaction that queued it
    assert run_jobs() == 1
    [delivery] = smtp.received
    assert delivery["mail_from"] == "noreply@lists.hub.test"
    assert delivery["rcpt_tos"] == ["to@example.org"]
    msg = delivery["message"]
    assert msg["To"] == "Zoë Ñandú <to@example.org>"
    assert msg["Message-ID"].endswith("@lists.hub.test>")
    assert msg.get_body(preferencelist=("plain",)).get_content().startswith("Hello Zoë Ñandú,")
    assert '<a href="http://x/login">' in msg.get_body(preferencelist=("html",)).get_content()


def test_without_smtp_mail_lands_in_the_dev_mailbox(client, run_jobs, make_member, auth):
    secretariat = make_member(role=Role.SECRETARIAT)
    member = make_member("dev@example.org")
    send_mail(member.email, "approved", member=member, url="http://x/login")
    db.session.commit()
    run_jobs()
    [kept] = db.session.scalars(db.select(DevMail)).all()
    assert kept.recipients == "dev@example.org"
    auth.login(secretariat)
    box = client.get("/secretariat/mailbox").get_data(as_text=True)
    assert "Welcome to the Biosafety Capacity-Building Network" in box
    page = client.get(f"/secretariat/mailbox/{kept.id}").get_data(as_text=True)
    assert "http://x/login" in page
    auth.logout()
    auth.login(member)
    assert client.get("/secretariat/mailbox").status_code == 403


def test_temporary_failures_retry_with_backoff_then_quarantine(app, smtp, run_jobs, make_member):
    member = make_member()
    send_mail(member.email, "approved", member=member, url="x")
    db.session.commit()
    smtp.fail_next.extend(["451 try again later"] * 3)
    run_jobs()
    job = db.session.scalar(db.select(Job))
    assert job.status == "queued" and job.attempts == 1 and "451" in job.last_error
    assert run_jobs() == 0  # not due yet: backoff
    start = clock.now()
    try:
        for attempt in range(2, 4):
            clock.freeze(start + timedelta(hours=attempt * 7))
            run_jobs()
            db.session.refresh(job)
            assert job.attempts == attempt
        clock.freeze(start + timedelta(days=2))
        run_jobs()
    finally:
        clock.freeze(None)
    db.session.refresh(job)
    assert job.status == "done"
    assert len(smtp.to(member.email)) == 1


def test_a_poison_job_is_quarantined_and_can_be_retried(client, run_jobs, make_member, auth):
    calls = []

    @jobs.handler("test.flaky")
    def flaky(payload):
        calls.append(payload)
        if len(calls) == 1:
            raise jobs.PermanentError("bad payload")

    jobs.enqueue("test.flaky", {"n": 1})
    db.session.commit()
    run_jobs()
    job = db.session.scalar(db.select(Job))
    assert job.status == "failed" and "bad payload" in job.last_error
    auth.login(make_member(role=Role.SECRETARIAT))
    assert "bad payload" in client.get("/secretariat/jobs").get_data(as_text=True)
    client.post(f"/secretariat/jobs/{job.id}/retry")
    run_jobs()
    db.session.refresh(job)
    assert job.status == "done" and len(calls) == 2


def test_a_job_enqueued_in_a_rolled_back_transaction_never_runs(app, run_jobs):
    jobs.enqueue("mail.send", {"to": "x@example.org"})
    db.session.rollback()
    assert run_jobs() == 0


def test_a_crashed_workers_claim_expires(app, run_jobs, make_member):
    member = make_member()
    send_mail(member.email, "approved", member=member, url="x")
    db.session.commit()
    [job] = jobs.claim()  # claimed by a worker that then died
    assert run_jobs() == 0
    clock.freeze(clock.now() + jobs.lease() + timedelta(seconds=1))
    try:
        assert run_jobs() == 1
    finally:
        clock.freeze(None)


class _Anything(str):
    """Any value a mail template asks for: a long accented text with line breaks, whose
    attributes, items and calls are the same again; an empty list when iterated."""

    def __new__(cls) -> _Anything:
        return super().__new__(cls, "\nÉvaluation des risques\r\n des organismes vivants "
                                    "modifiés — l'atelier régional de formation\n")

    def __getattribute__(self, name: str) -> object:
        # `meeting.title` is a field, not str.title: every public name is a value again.
        if name.startswith("_"):
            return super().__getattribute__(name)
        return _Anything()

    def __getitem__(self, key: object) -> _Anything:
        return _Anything()

    def __call__(self, *args: object, **kwargs: object) -> _Anything:
        return _Anything()

    def __iter__(self):
        return iter(())

    def __index__(self) -> int:  # for %(n)d
        return 3

    def __int__(self) -> int:
        return 3


def test_no_mail_template_gives_a_header_with_a_line_break(app, client, run_jobs,
                                                         make_member, auth):
    """Every email template, in every language, with texts full of line breaks: each
    Subject is one line in the sent bytes, and the dev mailbox shows it."""
    from pathlib import Path

    from jinja2 import meta

    folder = Path(app.root_path).parent / "templates" / "email"
    names = sorted(p.stem for p in folder.glob("*.txt")
                   if not p.stem.startswith("_") and not p.stem.startswith("list_post"))
    assert len(names) > 30
    sent = 0
    for name in names:
        source = (folder / f"{name}.txt").read_text()
        wanted = meta.find_undeclared_variables(app.jinja_env.parse(source))
        context = {v: 3 if v in {"count", "hours", "days"} else _Anything()
                   for v in wanted if v not in app.jinja_env.globals
                   and v not in {"_", "gettext", "ngettext", "config", "request", "name"}}
        for language in ("en", "es", "fr"):
            send_mail(f"{name}-{language}@example.org", name, language=language,
                      **context)
            sent += 1
    db.session.commit()
    assert run_jobs() == sent
    for row in db.session.scalars(db.select(DevMail)):
        head = row.raw.split(b"\r\n\r\n", 1)[0]
        subject = [line for line in head.split(b"\r\n") if line.startswith(b"Subject:")]
        assert subject and subject[0].strip() != b"Subject:", row.recipients
        assert b"\n" not in row.raw.split(b"Subject:", 1)[1].split(b"\r\n", 1)[0]
        assert row.subject and "\n" not in row.subject and "\r" not in row.subject
        assert not row.subject.startswith(" "), row.recipients


def test_the_dev_mailbox_links_its_addresses_and_filters_by_recipient(
        client, run_jobs, make_member, auth):
    secretariat = make_member(role=Role.SECRETARIAT)
    ana, ben = make_member("ana@example.org"), make_member("ben@example.org")
    send_mail(ana.email, "approved", member=ana, url="http://hub.test/login?next=%2F")
    send_mail(ben.email, "approved", member=ben, url="http://hub.test/login")
    db.session.commit()
    run_jobs()
    auth.login(secretariat)
    box = client.get("/secretariat/mailbox?to=ANA@").get_data(as_text=True)
    assert "ana@example.org" in box and "ben@example.org" not in box
    kept = db.session.scalar(db.select(DevMail).where(DevMail.recipients == ana.email))
    page = client.get(f"/secretariat/mailbox/{kept.id}").get_data(as_text=True)
    assert '<a href="http://hub.test/login?next=%2F"' in page
