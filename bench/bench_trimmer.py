"""Score and time listserv.trimmer against the email_reply_trimmer corpus and the
project's own fixtures (tests/listserv/fixtures/trimmer_cases.py: generated cases and
small ones from github/email_reply_parser, MIT).

Usage: python bench/bench_trimmer.py [CORPUS_DIR]

CORPUS_DIR defaults to $HUB_CORPORA/email_reply_trimmer, else the shared corpora
(/work/shared/corpora or ../shared/corpora next to the repo root); it must contain
test/emails, test/trimmed and test/elided. The corpus cuts forwarded messages; the hub
keeps them as a quote (an explicit choice), so those cases are counted apart.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# Run as a plain script from anywhere: make the project importable.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from listserv.trimmer import trim_reply  # noqa: E402


def _default_corpus() -> Path:
    import os

    roots = [os.environ.get("HUB_CORPORA", ""), "/work/shared/corpora",
             str(REPO_ROOT.parent / "shared" / "corpora"),
             str(REPO_ROOT.parents[1] / "shared" / "corpora")]
    for root in roots:
        if root and (Path(root) / "email_reply_trimmer").is_dir():
            return Path(root) / "email_reply_trimmer"
    return Path(roots[1]) / "email_reply_trimmer"


DEFAULT_CORPUS = _default_corpus()
MIN_SECONDS = 1.0  # repeat the corpus until timing noise stops mattering


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args(argv)

    emails_dir = args.corpus / "test" / "emails"
    if not emails_dir.is_dir():
        print(f"corpus not found: {emails_dir}", file=sys.stderr)
        return 2

    cases = sorted(emails_dir.glob("*.txt"))
    texts = [p.read_text(encoding="utf-8") for p in cases]
    trimmed_ok = 0
    elided_ok = 0
    failing: list[str] = []
    elided_failing: list[str] = []
    for path, text in zip(cases, texts, strict=True):
        result = trim_reply(text)
        want_body = _read(args.corpus / "test" / "trimmed" / path.name).strip()
        want_elided = _read(args.corpus / "test" / "elided" / path.name).strip()
        if result.body == want_body:
            trimmed_ok += 1
        else:
            failing.append(path.stem)
        if result.elided == want_elided:
            elided_ok += 1
        else:
            elided_failing.append(path.stem)

    total = len(cases)
    kept_forwards = [name for name in failing if "forward" in name]
    print(f"load average: {os.getloadavg()[0]:.2f} (other agents share the machine)")
    print(f"trimmed exact: {trimmed_ok}/{total} "
          f"({len(kept_forwards)} forwards kept as a quote by design: "
          f"{', '.join(kept_forwards) or 'none'})")
    print(f"elided exact:  {elided_ok}/{total}")
    print("failing (trimmed):", ", ".join(failing) if failing else "none")
    print("failing (elided): ", ", ".join(elided_failing) if elided_failing else "none")

    from tests.listserv.fixtures.trimmer_cases import CASES, PUBLIC_CASES

    for label, cases_of in (("generated cases (interleaved, forwards, 6 languages)", CASES),
                            ("github/email_reply_parser fixtures", PUBLIC_CASES)):
        ok = [name for name, (text, want) in cases_of.items()
              if trim_reply(text).body == want]
        print(f"{label}: {len(ok)}/{len(cases_of)}")
        missed = sorted(set(cases_of) - set(ok))
        if missed:
            print("  failing:", ", ".join(missed))

    messages = 0
    started = time.perf_counter()
    elapsed = 0.0
    while elapsed < MIN_SECONDS:
        for text in texts:
            trim_reply(text)
        messages += len(texts)
        elapsed = time.perf_counter() - started
    rate = messages / elapsed
    print(
        f"throughput: {rate:,.0f} messages/s "
        f"({elapsed / messages * 1e6:.0f} µs/message, {messages} messages)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
