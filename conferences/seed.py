"""Demo conferences for `hub seed-demo` (registered in `app.extensions["hub_seeders"]`):
one in session with rounds and posts (pre-moderated: the moderator has approved them),
one upcoming with registration open, and one closed with published proceedings.

Everything goes through the services (the posting path included); the closed one is
held while the clock is "now" and then moved into the past, so its posts keep their
order and the schedule treats it as long finished. Imports `hub`, `forums`,
`conferences`.
"""

from __future__ import annotations

import io
import logging
from datetime import datetime, timedelta

from conferences import agenda, editing, participation
from conferences.models import Announcement, Conference, Registration, Round
from forums import attachments, moderation
from forums import services as forums
from forums.models import Post, Topic
from hub import clock
from hub.errors import HubError
from hub.extensions import db
from hub.models import Member

log = logging.getLogger(__name__)


def _logo(text: str, color: tuple[int, int, int]) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (240, 96), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, 88, 88), fill=color)
    draw.rectangle((100, 30, 230, 42), fill=color)
    draw.rectangle((100, 54, 200, 66), fill=(150, 150, 150))
    draw.text((36, 40), text, fill="white")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _join(conference: Conference, member: Member, anonymous: bool = False) -> None:
    """An approved registration, without the welcome mail."""
    db.session.add(Registration(conference_id=conference.id, member_id=member.id,
                                status="approved", motivation="I work on this.",
                                anonymous=anonymous, decided_at=clock.now()))
    participation._join(conference, member)
    db.session.commit()


def _published(moderator: Member, topic: Topic, author: Member, body: str) -> Post:
    post = forums.create_reply(author, topic, body)
    if post.status == "held":
        moderation.approve_post(moderator, post)
    return post


def _claim(conference: Conference, *keys: str) -> None:
    for key in keys:
        db.session.add(Announcement(conference_id=conference.id, key=key, sent=False))
    db.session.commit()


def _shift(conference: Conference, delta: timedelta, stamps: dict[int, datetime]) -> None:
    """Move a conference and its discussion into the past by `delta`."""
    for name in ("registration_opens_at", "opens_at", "closes_at", "announced_at"):
        setattr(conference, name, getattr(conference, name) - delta)
    board = conference.board
    board.opens_at, board.closes_at = conference.opens_at, conference.closes_at
    topics = db.session.scalars(db.select(Topic).where(Topic.board_id == board.id)).all()
    for topic in topics:
        for post in db.session.scalars(db.select(Post).where(Post.topic_id == topic.id)):
            post.created_at = stamps.get(post.id, post.created_at - delta)
        topic.created_at -= delta
        topic.last_post_at = max(p.created_at for p in db.session.scalars(
            db.select(Post).where(Post.topic_id == topic.id)))
    board.last_post_at = max((t.last_post_at for t in topics), default=None)
    for registration in db.session.scalars(db.select(Registration).where(
            Registration.conference_id == conference.id)):
        registration.created_at -= delta
        registration.decided_at = registration.created_at


def seed_demo(members: list[Member]) -> None:
    if db.session.scalar(db.select(Conference.id).limit(1)) is not None:
        return
    people = {m.email.split("@")[0]: m for m in members}
    sec, mod = people["secretariat"], people["moderator"]
    now = clock.now().replace(minute=0, second=0, microsecond=0)
    try:
        _in_session(sec, mod, people, now)
        _upcoming(sec, mod, people, now)
        _closed(sec, mod, people, now)
    except HubError as exc:  # demo content must never stop a hub from starting
        db.session.rollback()
        log.warning("demo conferences incomplete: %s", exc.message)


def _in_session(sec: Member, mod: Member, people: dict[str, Member], now: datetime) -> None:
    conference = editing.create_conference(sec, editing.ConferenceData(
        slug="lmo-risk-assessment", title="Risk assessment of LMOs in practice",
        theme="What works when national authorities assess living modified organisms",
        description=("Regulators, researchers and practitioners compare how they carry out "
                     "**risk assessments** of living modified organisms under the Cartagena "
                     "Protocol: problem formulation, the evidence needed, and how to deal "
                     "with uncertainty.\n\nThe conference runs in two rounds; each opens with "
                     "a question from the moderator."),
        registration_opens_at=now - timedelta(days=20), opens_at=now - timedelta(days=5),
        closes_at=now + timedelta(days=9), premoderated=True, moderators=[mod.email],
        contact_name="Amina Diallo", contact_email="secretariat@example.org",
        thematic_area="risk-assessment", keywords="risk assessment, LMO, uncertainty",
        translations={
            "es": {"title": "La evaluación del riesgo de los OVM en la práctica",
                   "theme": "Qué funciona cuando las autoridades nacionales evalúan los "
                            "organismos vivos modificados",
                   "description": "Reguladores, investigadores y profesionales comparan cómo "
                                  "realizan la **evaluación del riesgo** de los organismos "
                                  "vivos modificados en el marco del Protocolo de Cartagena: "
                                  "la formulación del problema, las pruebas necesarias y el "
                                  "manejo de la incertidumbre.\n\nLa conferencia tiene dos "
                                  "rondas; cada una empieza con una pregunta del moderador."},
            "fr": {"title": "L'évaluation des risques des OVM en pratique",
                   "theme": "Ce qui marche quand les autorités nationales évaluent les "
                            "organismes vivants modifiés",
                   "description": "Régulateurs, chercheurs et praticiens comparent leur "
                                  "manière de conduire l'**évaluation des risques** des "
                                  "organismes vivants modifiés au titre du Protocole de "
                                  "Cartagena : la formulation du problème, les données "
                                  "nécessaires et la prise en compte de l'incertitude.\n\n"
                                  "La conférence se déroule en deux cycles ; chacun s'ouvre "
                                  "sur une question du modérateur."}}))
    editing.add_partner(sec, conference, "African Biosafety Network of Expertise",
                        "https://example.org/abne",
                        attachments.Upload("abne.png", "image/png", _logo("ABNE", (11, 93, 59))))
    editing.add_document(sec, conference, "Guidance on risk assessment of LMOs",
                         "https://example.org/guidance.pdf")
    first = agenda.add_round(mod, conference, agenda.RoundData(
        title="Problem formulation",
        question=("How does your authority **formulate the problem** at the start of a risk "
                  "assessment? Which protection goals do you use, and who sets them?"),
        opens_at=now - timedelta(days=5), closes_at=now + timedelta(days=2),
        translations={
            "es": {"title": "La formulación del problema",
                   "question": "¿Cómo **formula el problema** su autoridad al comienzo de una "
                             "evaluación del riesgo? ¿Qué objetivos de protección utiliza "
                             "y quién los fija?"},
            "fr": {"title": "La formulation du problème",
                   "question": "Comment votre autorité **formule-t-elle le problème** au début "
                             "d'une évaluation des risques ? Quels objectifs de protection "
                             "retenez-vous, et qui les fixe ?"}}))
    agenda.add_round(mod, conference, agenda.RoundData(
        title="Dealing with uncertainty",
        question="When the evidence is incomplete, how do you decide? Share an example.",
        opens_at=now + timedelta(days=2), closes_at=now + timedelta(days=9),
        translations={
            "es": {"title": "El manejo de la incertidumbre",
                   "question": "Cuando las pruebas son incompletas, ¿cómo decide? Comparta "
                               "un ejemplo."},
            "fr": {"title": "Faire face à l'incertitude",
                   "question": "Quand les données sont incomplètes, comment décidez-vous ? "
                               "Donnez un exemple."}}))
    for key in ("wanjiru", "raj", "lucia", "mei", "kofi"):
        _join(conference, people[key])
    db.session.add(Registration(conference_id=conference.id, member_id=people["olena"].id,
                                status="pending",
                                motivation="I lead the biosafety unit of our ministry."))
    db.session.commit()
    _claim(conference, "open", f"round:{first.id}")
    topic = db.session.get(Round, first.id).topic
    _published(mod, topic, people["wanjiru"],
               "In Kenya we start from the protection goals in our Biosafety Act and agree "
               "them with the other agencies before the dossier is reviewed.")
    _published(mod, topic, people["raj"],
               "We use a checklist that the institutional committees fill in first; it "
               "helps, but it can turn problem formulation into form filling.")
    _published(mod, topic, people["lucia"],
               "En Argentina la formulación del problema se discute con el solicitante en "
               "una reunión previa. Saves a lot of time later.")
    _published(mod, topic, people["kofi"],
               "Could the moderators share an example of protection goals from a country "
               "that has just started?")


def _upcoming(sec: Member, mod: Member, people: dict[str, Member], now: datetime) -> None:
    conference = editing.create_conference(sec, editing.ConferenceData(
        slug="public-participation", title="Public awareness and participation",
        theme="Reaching the public on biosafety decisions (Article 23)",
        description=("How do countries inform and consult the public on decisions about "
                     "living modified organisms? Bring your experience of campaigns, "
                     "consultations and school programmes."),
        registration_opens_at=now - timedelta(days=2),
        registration_closes_at=now + timedelta(days=12),
        opens_at=now + timedelta(days=14), closes_at=now + timedelta(days=28),
        premoderated=False, moderators=[mod.email], contact_name="Amina Diallo",
        contact_email="secretariat@example.org", thematic_area="public-awareness",
        translations={
            "es": {"title": "Concienciación y participación del público",
                   "theme": "Llegar al público en las decisiones sobre seguridad de la "
                            "biotecnología (artículo 23)",
                   "description": "¿Cómo informan y consultan los países al público sobre las "
                                  "decisiones relativas a los organismos vivos modificados? "
                                  "Comparta su experiencia con campañas, consultas y "
                                  "programas escolares."},
            "fr": {"title": "Sensibilisation et participation du public",
                   "theme": "Toucher le public sur les décisions de biosécurité "
                            "(article 23)",
                   "description": "Comment les pays informent-ils et consultent-ils le public "
                                  "sur les décisions concernant les organismes vivants "
                                  "modifiés ? Partagez votre expérience des campagnes, "
                                  "consultations et programmes scolaires."}}))
    agenda.add_round(mod, conference, agenda.RoundData(
        title="Informing the public", question="What has worked to inform the public?",
        opens_at=now + timedelta(days=14), closes_at=now + timedelta(days=21)))
    agenda.add_round(mod, conference, agenda.RoundData(
        title="Consultations", question="How do you consult the public before a decision?",
        opens_at=now + timedelta(days=21), closes_at=now + timedelta(days=28)))
    _join(conference, people["jean"])
    db.session.add(Registration(conference_id=conference.id, member_id=people["olena"].id,
                                status="pending", motivation="We are planning a campaign."))
    db.session.commit()


def _closed(sec: Member, mod: Member, people: dict[str, Member], now: datetime) -> None:
    conference = editing.create_conference(sec, editing.ConferenceData(
        slug="socio-economic-decisions",
        title="Socio-economic considerations in decision-making",
        theme="Article 26 in practice",
        description=("Which socio-economic considerations do countries take into account "
                     "when deciding on living modified organisms, and how?"),
        registration_opens_at=now - timedelta(hours=3), opens_at=now - timedelta(hours=2),
        closes_at=now + timedelta(hours=2), premoderated=False, moderators=[mod.email],
        contact_name="Amina Diallo", contact_email="secretariat@example.org",
        thematic_area="socio-economic", keywords="socio-economic, Article 26"))
    editing.add_partner(sec, conference, "Regional Biosafety Training Centre",
                        "https://example.org/rbtc",
                        attachments.Upload("rbtc.png", "image/png", _logo("RBTC", (20, 70, 140))))
    rounds = [agenda.add_round(mod, conference, agenda.RoundData(
        title=title, question=question, opens_at=now - timedelta(hours=2),
        closes_at=now + timedelta(hours=1)))
        for title, question in (
            ("Which considerations?", "Which socio-economic considerations does your "
                                      "country include, and where are they written down?"),
            ("Methods and evidence", "How do you gather the evidence: surveys, expert "
                                     "panels, public hearings?"))]
    for key, anonymous in (("wanjiru", False), ("raj", False), ("olena", False),
                           ("lucia", False), ("mei", True), ("kofi", False)):
        _join(conference, people[key], anonymous)
    texts = [
        [("wanjiru", "Our regulations list impacts on smallholder farmers and on trade; the "
                     "authority weighs them after the risk assessment."),
         ("olena", "We have no explicit list yet; the ministry asks for an expert opinion "
                   "case by case."),
         ("mei", "In our region the considerations are voluntary, which keeps them from "
                 "delaying decisions but also from being used."),
         ("raj", "Consistency matters: the same consideration should be weighed the same way "
                 "for every application.")],
        [("lucia", "Encuestas a productores y una audiencia pública: the hearing brought "
                   "points the surveys missed."),
         ("kofi", "Expert panels, with one economist and one sociologist at least."),
         ("wanjiru", "We commission a study from the university when the crop matters to "
                     "food security.")],
    ]
    stamps: dict[int, datetime] = {}
    past = now - timedelta(days=40)
    for number, (item, entries) in enumerate(zip(rounds, texts, strict=True)):
        topic = db.session.get(Round, item.id).topic
        start = past + timedelta(days=7 * number)
        first = db.session.scalar(db.select(Post).where(Post.topic_id == topic.id,
                                                        Post.position == 1))
        stamps[first.id] = start
        for i, (key, body) in enumerate(entries, start=1):
            post = _published(mod, topic, people[key], body)
            stamps[post.id] = start + timedelta(hours=9 * i)
        summary = agenda.post_summary(
            mod, db.session.get(Round, item.id),
            ("Participants described " + ("which considerations they include and where "
                                          "they are written down." if number == 0 else
                                          "surveys, hearings, expert panels and studies.")
             + " Most agreed that consistency and transparency matter more than the list."))
        stamps[summary.id] = start + timedelta(days=6)
    # Into the past: opened 40 days ago for two weeks, one week per round.
    conference = db.session.get(Conference, conference.id)
    delta = now - timedelta(hours=2) - past
    _shift(conference, delta, stamps)
    conference.closes_at = past + timedelta(days=14)
    conference.board.closes_at = conference.closes_at
    for number, item in enumerate(sorted(conference.rounds, key=lambda r: r.id)):
        item.opens_at = past + timedelta(days=7 * number)
        item.closes_at = past + timedelta(days=7 * (number + 1))
        item.topic.locked = item.auto_locked = True
    conference.schedule_done = True
    db.session.commit()
    _claim(conference, "open", "close", *(f"round:{r.id}" for r in conference.rounds))
    from conferences import proceedings

    proceedings.compile_draft(sec, conference, "en")
    proceedings.update_draft(sec, conference, conclusions=(
        "The participants asked the Secretariat to collect national examples of "
        "socio-economic considerations in a shared resource."))
    try:
        proceedings.publish(sec, conference)
    except HubError as exc:
        log.warning("the demo proceedings are a draft: %s", exc.message)
    editing.set_archive(sec, conference, "members")

