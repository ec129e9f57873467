"""Statistics for moderators: participants and contributions by country, region and type
of organization, the share of participants who posted, contributions per round."""

from __future__ import annotations

from conferences import agenda, participation, services
from forums import services as forums

from .conftest import round_topic


def test_the_figures(client, auth, in_session, people, make_member):
    third = make_member("third@example.org", name="Third", country="KE", region="africa",
                        org_type="ngo")
    participation.approve(people.moderator, participation.apply(third, in_session, "Me too"))
    topic = round_topic(in_session, 1)
    forums.create_reply(people.participant, topic, "One")
    forums.create_reply(people.participant, topic, "Two")
    forums.create_reply(people.participant2, topic, "Three")
    forums.create_reply(people.moderator, topic, "A moderator's nudge")
    agenda.post_summary(people.moderator, in_session.rounds[0], "Summary")
    forums.create_topic(people.participant2, in_session.board, "Side", "Four")
    stats = services.statistics(in_session)
    assert (stats.participants, stats.posters, stats.posts, stats.summaries) == (3, 2, 5, 1)
    assert round(stats.share_posted, 3) == 0.667
    by_country = {b.label: (b.participants, b.posts) for b in stats.by_country}
    # The moderator (Mexico) is not a participant, but their post counts.
    assert by_country == {"Kenya": (2, 2), "India": (1, 2), "Mexico": (0, 1)}
    assert {b.key: (b.participants, b.posts) for b in stats.by_region} == {
        "africa": (2, 2), "asia_pacific": (1, 2), "grulac": (0, 1)}
    assert {b.key: (b.participants, b.posts) for b in stats.by_org_type} == {
        "government": (1, 3), "research": (1, 2), "ngo": (1, 0)}
    assert stats.per_round == [(1, "Problem formulation", 4), (2, "Uncertainty", 0)]
    assert stats.other_posts == 1
    auth.login(people.moderator)
    page = client.get("/conferences/risk/statistics").get_data(as_text=True)
    assert "67%" in page and "<th scope=\"row\">1. Problem formulation</th>" in page
    assert "Latin American and Caribbean" in page
