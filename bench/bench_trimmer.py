"""Score and time listserv.trimmer against the email_reply_trimmer corpus.

Usage: python bench/bench_trimmer.py [CORPUS_DIR]

CORPUS_DIR defaults to ../shared/corpora/email_reply_trimmer next to the repo
root; it must contain test/emails, test/trimmed and test/elided.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# Run as a plain script from anywhere: make the project importable.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from listserv.trimmer import trim_reply  # noqa: E402

DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpora" / "email_reply_trimmer"
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
    print(f"trimmed exact: {trimmed_ok}/{total}")
    print(f"elided exact:  {elided_ok}/{total}")
    print("failing (trimmed):", ", ".join(failing) if failing else "none")
    print("failing (elided): ", ", ".join(elided_failing) if elided_failing else "none")

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
