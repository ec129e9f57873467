"""listserv.trimmer: what of an inbound reply is the author's, and what was cut."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from listserv.trimmer import Trimmed, trim_reply
from tests.listserv.fixtures.trimmer_cases import CASES, PUBLIC_CASES

CORPUS = next((root / "shared/corpora/email_reply_trimmer"
               for root in Path(__file__).resolve().parents
               if (root / "shared/corpora/email_reply_trimmer").is_dir()),
              Path("/work/shared/corpora/email_reply_trimmer"))


def body(text: str) -> str:
    return trim_reply(text).body


# -- basics --------------------------------------------------------------------------------


def test_plain_text_is_kept_whole_and_stripped() -> None:
    assert trim_reply("\n\n  Just a reply.\n\nSecond paragraph.\n\n") == Trimmed(
        body="Just a reply.\n\nSecond paragraph.", elided=""
    )


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t\n"])
def test_blank_input_gives_empty_result(text: str) -> None:
    assert trim_reply(text) == Trimmed("", "")


def test_result_is_frozen() -> None:
    result = trim_reply("hi")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.body = "changed"  # type: ignore[misc]


def test_windows_and_old_mac_line_endings_are_normalised() -> None:
    assert body("one\r\ntwo\rthree\r\n") == "one\ntwo\nthree"


def test_inner_formatting_and_indentation_survive() -> None:
    text = "List:\n\n- A\n- B\n\n    code line\n        deeper\n\nEnd."
    assert body(text) == text


# -- quotes and attributions ---------------------------------------------------------------


def test_top_post_drops_attribution_and_quote() -> None:
    text = (
        "Sounds good to me.\n\n"
        "On Mon, Feb 5, 2024 at 10:00 AM Alice Smith <alice@example.com> wrote:\n\n"
        "> Shall we meet on Friday?\n> Alice\n"
    )
    result = trim_reply(text)
    assert result.body == "Sounds good to me."
    assert result.elided.startswith("On Mon, Feb 5, 2024")
    assert result.elided.endswith("> Alice")


def test_attribution_wrapped_over_lines_is_rejoined() -> None:
    text = (
        "Thanks!\n\n"
        "On Mon, Feb 5, 2024 at 10:00 AM Alice Smith via Biosafety Hub <\n"
        "list@example.org> wrote:\n\n"
        "> Hello\n"
    )
    result = trim_reply(text)
    assert result.body == "Thanks!"
    assert result.elided.splitlines()[0] == (
        "On Mon, Feb 5, 2024 at 10:00 AM Alice Smith via Biosafety Hub < list@example.org> wrote:"
    )


def test_attribution_with_blank_line_and_quoted_tail_is_rejoined() -> None:
    text = "Yes.\n\nOn Thu, 31 Mar 2016 at 11:16 Bob\n\n<\nmailto:bob@example.com\n> wrote:\n\nOld"
    result = trim_reply(text)
    assert result.body == "Yes."
    joined = "On Thu, 31 Mar 2016 at 11:16 Bob < mailto:bob@example.com > wrote:"
    assert result.elided == f"{joined}\n\nOld"


@pytest.mark.parametrize(
    "attribution",
    [
        "Le 4 janv. 2024 19:03, Anne Martin <anne@example.fr> a écrit :",
        "Am 03.02.2024 um 15:35 schrieb Max Mustermann <max@example.de>:",
        "Max Mustermann <max@example.de> schrieb am Fr., 28. Apr. 2023 um 11:53 Uhr:",
        "El jueves, 21 de noviembre de 2023, Pablo escribió:",
        "Em 2 de fevereiro de 2024 10:58, Ana <ana@example.br> escreveu:",
        "Il 26 marzo 2024 alle 13.16 Sara <sara@example.it> ha scritto:",
        "Op 2 feb. 2024 om 05:28 heeft Jan <jan@example.nl> het volgende geschreven:",
        "Dnia 14 lip 2024 o godz. 00:25 Michał <michal@example.pl> napisał(a):",
        "понедельник, 6 октября 2014 г. пользователь lidel написал:",
        '30 серп. 2016 р. 20:45 "Оля" <olya@example.ua> пише:',
        "在 2016年12月12日，下午8:45，Li Wei <li@example.cn> 写道：",
        "Den 15. jun. 2024 kl. 20.42 skrev Ola Nordmann <ola@example.no>:",
        "2024-03-03 17:21 GMT+01:00 Some One <some@example.com>:",
        "At 6/16/2016 08:32 PM, you wrote:",
        "---- On Tue, 22 Dec 2015 14:17:36 +0530 Sam <sam@example.com> wrote ----",
    ],
)
def test_attributions_in_many_languages(attribution: str) -> None:
    text = f"My answer.\n\n{attribution}\n\n> quoted\n> more quoted\n"
    result = trim_reply(text)
    assert result.body == "My answer."
    assert result.elided.startswith(attribution)


def test_quoted_attribution_counts_too() -> None:
    text = "Agreed.\n\n> On 2 Feb 2024, at 05:28, Jan <jan@example.nl> wrote:\n>\n> old\n"
    assert body(text) == "Agreed."


def test_unquoted_history_below_attribution_is_cut() -> None:
    text = (
        'Top reply.\n\n\nOn Mon, Feb 1, 2016 at 4:58 AM -0800, "Some One" <a@example.com> '
        "wrote:\n\n\nEarlier message.\n\nOn Sun, Jan 31, 2016 at 9:58 PM, B <b@example.com> "
        "wrote:\n\nFirst message.\n"
    )
    assert body(text) == "Top reply."


def test_bottom_post_keeps_only_the_new_text() -> None:
    text = (
        "On Mon, Aug 19, 2013 at 2:36 AM, Someone <someone@example.com> wrote:\n\n"
        "> The old question\n> continues here.\n>\n\n"
        "The new answer\non two lines.\n"
    )
    result = trim_reply(text)
    assert result.body == "The new answer\non two lines."
    assert "The old question" in result.elided


def test_inline_reply_keeps_quotes_for_context() -> None:
    text = (
        "On Mon, 5 Feb 2024 at 10:00, Bob <bob@example.com> wrote:\n"
        "> Can you come?\n\nYes.\n\n> And bring food?\n\nSure.\n"
    )
    result = trim_reply(text)
    assert result.body == "> Can you come?\n\nYes.\n\n> And bring food?\n\nSure."
    assert result.elided == "On Mon, 5 Feb 2024 at 10:00, Bob <bob@example.com> wrote:"


def test_quote_without_attribution_before_text_is_kept() -> None:
    assert body("> a point\n\nMy reply.") == "> a point\n\nMy reply."


def test_message_that_is_only_a_quote_is_kept() -> None:
    assert body("> only a quote") == "> only a quote"


def test_trailing_quote_without_attribution_is_dropped() -> None:
    result = trim_reply("My reply.\n\n> the old text\n> more\n")
    assert result == Trimmed("My reply.", "> the old text\n> more")


def test_nested_quoted_attributions_only_leave_nothing() -> None:
    text = (
        "> On Thu, Apr 30, 2020 at 10:07 AM, A <a@example.com> wrote:\n>\n"
        ">> On Thu, Apr 30, 2020 at 10:06 AM, B <b@example.com> wrote:\n>>\n>>> hi\n"
    )
    result = trim_reply(text)
    assert result.body == ""
    assert result.elided.startswith("> On Thu")


def test_supercite_quotes_are_recognised_and_normalised_when_cut() -> None:
    text = "Before.\n\nOn Wed, Sep 25, 2013, at 03:57 PM, richard wrote:\n\nRichard> the old text\n"
    result = trim_reply(text)
    assert result.body == "Before."
    assert "> the old text" in result.elided.splitlines()


# -- forwarded mail and header blocks ------------------------------------------------------


@pytest.mark.parametrize(
    "marker",
    [
        "-----Original Message-----",
        "-------- Original Message --------",
        "*-------- Original Message --------*",
        "-----Ursprüngliche Nachricht-----",
        "-----Mensaje original-----",
    ],
)
def test_original_message_markers_end_the_reply(marker: str) -> None:
    text = f"See below.\n\n{marker}\nFrom: A <a@example.com>\nSubject: Old\n\nOld body.\n"
    result = trim_reply(text)
    assert result.body == "See below."
    assert result.elided.startswith(marker)


def test_outlook_header_block_after_underscores() -> None:
    text = (
        "Works for me.\n\n________________________________\n"
        "From: Alice <alice@example.com>\nSent: Monday, February 5, 2024 10:00 AM\n"
        "To: List <list@example.org>\nSubject: Re: meeting\n\nOld text\n"
    )
    result = trim_reply(text)
    assert result.body == "Works for me."
    assert result.elided.startswith("________________________________\nFrom: Alice")


def test_header_block_without_separator_and_with_bold_names() -> None:
    text = (
        "Reply.\n\n*From:* Outlook user\n*Sent:* 2016-01-27\n*To:* info@example.org\n"
        "*Subject:* Hi\n\nOld\n"
    )
    assert body(text) == "Reply."


def test_localised_header_block() -> None:
    text = (
        "Hej!\n\nFrån: Foo Bar [mailto:noreply@example.se]\nSkickat: den 5 juni 2017 12:22\n"
        "Till: someone@example.se\nÄmne: Bilder\n\nGammal text\n"
    )
    assert body(text) == "Hej!"


@pytest.mark.parametrize("marker", ["---------- Forwarded message ---------",
                                    "Begin forwarded message:",
                                    "-------- Message transféré --------"])
def test_a_forward_keeps_the_forwarded_message_as_a_quote(marker: str) -> None:
    text = f"See below.\n\n{marker}\nFrom: A <a@example.com>\nSubject: Old\n\nOld body.\n"
    result = trim_reply(text)
    assert result.body == (f"See below.\n\n> {marker}\n> From: A <a@example.com>\n"
                           "> Subject: Old\n>\n> Old body.")
    assert result.elided == ""


def test_bare_forward_keeps_the_forwarded_text() -> None:
    text = (
        "---------- Forwarded message ----------\nFrom: Some One <foo@example.com>\n"
        "Date: Thu, Jan 28, 2016 at 4:00 PM\nSubject: A subject that\nspans two lines\n"
        "To: list@example.org\n\n\nThe forwarded text.\n"
    )
    result = trim_reply(text)
    assert result.body.startswith("> ---------- Forwarded message ----------\n")
    assert result.body.endswith(">\n>\n> The forwarded text.")


@pytest.mark.parametrize("name", sorted(CASES) + sorted(PUBLIC_CASES))
def test_fixtures_keep_the_authors_words(name: str) -> None:
    text, want = CASES.get(name) or PUBLIC_CASES[name]
    assert trim_reply(text).body == want


def test_scattered_header_names_in_prose_are_not_a_block() -> None:
    text = "Q: does it work?\nA: yes it does\nSubject: whatever\n\nok"
    assert body(text) == text


# -- signatures and separators -------------------------------------------------------------


def test_dash_dash_space_signature_is_cut() -> None:
    result = trim_reply("Hello\n\n-- \nJohn Doe\nACME Corp\n")
    assert result == Trimmed("Hello", "-- \nJohn Doe\nACME Corp")


@pytest.mark.parametrize(
    "signature",
    [
        "Sent from my iPhone",
        "Sent from my Galaxy S22 Ultra, please excuse typos.",
        "Sent from Outlook Mobile<https://aka.ms/x>",
        "Get Outlook for iOS<https://aka.ms/o0ukef>",
        "Get [Outlook for Android](https://aka.ms/ghei36)",
        "(Sent from mobile device)",
        "Envoyé depuis mon iPhone",
        "Von meinem Mobilgerät gesendet",
        "Enviado desde mi teléfono",
        "Inviato da iPhone",
        "Sendt fra min iPad",
        "Verzonden met BlackBerry Work",
        "從我的 iPhone 傳送",
    ],
)
def test_mobile_signatures_end_the_reply(signature: str) -> None:
    attribution = "On Sun, Feb 7, 2016 at 12:12 AM, A <a@example.com> wrote:"
    text = f"Thank you.\n\n{signature}\n\n{attribution}\n\nOld"
    result = trim_reply(text)
    assert result.body == "Thank you."
    assert result.elided.startswith(signature)


@pytest.mark.parametrize(
    "line",
    [
        "From my point of view, this is wrong.",
        "Sent via FedEx yesterday, tracking 123.",
        "On the other hand, she wrote:",
        "Here's what my colleague wrote:",
        "Thanks @bob for this, see you at 10:30.",
    ],
)
def test_ordinary_sentences_are_not_mistaken_for_markers(line: str) -> None:
    text = f"Intro.\n\n{line}\n\nThe rest of my message.\n"
    assert body(text) == text.strip()


@pytest.mark.parametrize("separator", ["_______________", "-----", "***", "ᐧ"])
def test_separator_before_short_tail_is_cut(separator: str) -> None:
    result = trim_reply(f"My reply.\n\n{separator}\nAnd here's my signature.\n")
    assert result.body == "My reply."
    assert result.elided == f"{separator}\nAnd here's my signature."


def test_separator_inside_a_long_reply_is_a_markdown_rule() -> None:
    text = "Part one.\n\n---\n\n" + "\n".join(f"Part two, line {n}." for n in range(10))
    assert body(text) == text


def test_dashes_inside_a_sentence_are_text() -> None:
    assert body("This is not a ---------- delimiter.") == "This is not a ---------- delimiter."


def test_setext_heading_underline_is_kept() -> None:
    assert body("Title\n=====\n\nSome text.") == "Title\n=====\n\nSome text."


def test_markdown_table_is_kept() -> None:
    text = "Here:\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    assert body(text) == text


def test_fenced_code_is_never_trimmed() -> None:
    text = "See:\n\n```\n# comment\n--\n####\n> not a quote\n```\n\nbye"
    assert body(text) == text


def test_unclosed_fence_does_not_protect_the_history() -> None:
    attribution = "On Mon, Feb 5, 2024 at 10:00 AM Alice <a@example.com> wrote:"
    text = f"See:\n\n```\ncode\n\n{attribution}\n> old"
    assert body(text) == "See:\n\n```\ncode"


# -- our own marker ------------------------------------------------------------------------


def test_reply_above_this_line_marker_cuts_it_and_below() -> None:
    text = "My reply.\n## Reply above this line ##\nYou received this because...\n"
    result = trim_reply(text)
    assert result == Trimmed(
        "My reply.", "## Reply above this line ##\nYou received this because..."
    )


def test_reply_marker_inside_quoted_notification() -> None:
    text = (
        "Thanks, sounds good!\n\n"
        "On Tue, 6 Feb 2024, 09:12 Biosafety Hub <hub@example.org> wrote:\n\n"
        "> -- ## Reply above this line ## --\n>\n> Alice posted in Training:\n"
    )
    result = trim_reply(text)
    assert result.body == "Thanks, sounds good!"
    assert result.elided.endswith("> Alice posted in Training:")
    assert "## Reply above this line ##" in result.elided


def test_reply_marker_wins_even_without_other_clues() -> None:
    assert body("Line one\nLine two ## Reply above this line ## tail\nmore") == "Line one"


# -- speed ---------------------------------------------------------------------------------


def test_typical_message_is_fast() -> None:
    text = (
        "Thanks, I'll have a look at the protocol tomorrow.\n\nBest,\nAna\n\n"
        "On Mon, Feb 5, 2024 at 10:00 AM Alice Smith <alice@example.com> wrote:\n\n"
        + "> A quoted line of the earlier message, wrapped at 70 columns.\n"
        * 40
    )
    runs = 300
    started = time.perf_counter()
    for _ in range(runs):
        trim_reply(text)
    per_message = (time.perf_counter() - started) / runs
    # The requirement is hundreds per second; allow a slow CI box plenty of slack.
    assert per_message < 0.005


def test_pathological_input_stays_linear() -> None:
    text = "text\n" + "-----\nsome text here\n" * 3000 + "a" * 200_000
    started = time.perf_counter()
    trim_reply(text)
    assert time.perf_counter() - started < 2.0


# -- the reference corpus (only where the shared checkout exists) --------------------------


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared email_reply_trimmer corpus not present")
def test_reference_corpus() -> None:
    test_dir = CORPUS / "test"
    cases = sorted((test_dir / "emails").glob("*.txt"))
    assert len(cases) == 64
    wrong = [
        path.stem
        for path in cases
        if trim_reply(path.read_text(encoding="utf-8")).body
        != (test_dir / "trimmed" / path.name).read_text(encoding="utf-8").strip()
    ]
    assert len(cases) - len(wrong) >= 60, f"wrong: {wrong}"
