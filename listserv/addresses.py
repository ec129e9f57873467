"""List addresses and the tokens they carry (DESIGN.md §4).

A board `SLUG` has `SLUG@HUB_MAIL_DOMAIN`; commands go to `SLUG-request@`, mail for the
people who run it to `SLUG-owner@` (and `postmaster@` reaches the Secretariat); reply,
digest and bounce addresses carry a token after a `+`:

- `SLUG+r-POST-MEMBER-MAC`  the per-recipient Reply-To: bound to one member and the
  post (hence the thread) they were sent;
- `SLUG+d-MEMBER-MAC`       the Reply-To of a digest (replies get a helpful refusal);
- `SLUG+b-MEMBER-MAC`       the VERP envelope sender: bounces name the member;
- `SLUG+m-POST-MEMBER-MAC`  the Reply-To of a held-post notification: bound to one held
  post and one moderator, it takes "approve" or "reject <reason>" (`listserv.moderation`);
- `SLUG+e-EDIT-MEMBER-MAC`  the same for an edit of a published post waiting for approval;
- `SLUG+c-REQUEST-MEMBER-MAC`  the Reply-To of a confirmation request: a reply to it
  confirms a change asked for by email (`listserv.confirmations`); the same token, after
  "confirm", is what the member may also write in a subject or follow as a link.

Tokens are lower case (some MTAs fold local parts) and signed with the hub's secret,
so nobody can mint one for another member. Imports `hub` only.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from flask import current_app

from hub.mailer import safe_header

REQUEST_SUFFIX = "-request"
OWNER_SUFFIX = "-owner"
NOREPLY = "noreply"
POSTMASTER = "postmaster"  # RFC 5321 4.5.1: every mail domain must accept it
_MAC_LEN = 16
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_TOKEN = re.compile(
    r"^(?P<kind>[rdbumec])-(?P<ids>[0-9a-z]+(?:-[0-9a-z]+)*)-(?P<mac>[0-9a-f]{16})$")


def _b36(n: int) -> str:
    if n < 0:
        raise ValueError("negative id")
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _B36[r] + out
        if n == 0:
            return out


_keyed: dict[str, hmac.HMAC] = {}


def _mac(kind: str, ids: str) -> str:
    """16 hex digits (64 bits) of HMAC-SHA256 under the hub's secret."""
    secret = current_app.config["SECRET_KEY"]
    base = _keyed.get(secret)
    if base is None:
        base = _keyed[secret] = hmac.new(secret.encode(), digestmod=hashlib.sha256)
    mac = base.copy()
    mac.update(f"listserv:{kind}:{ids}".encode())
    return mac.hexdigest()[:_MAC_LEN]


def domain() -> str:
    return current_app.config["HUB_MAIL_DOMAIN"].lower()


def list_address(slug: str) -> str:
    return safe_header(f"{slug}@{domain()}")


def request_address(slug: str) -> str:
    return safe_header(f"{slug}{REQUEST_SUFFIX}@{domain()}")


def owner_address(slug: str) -> str:
    return safe_header(f"{slug}{OWNER_SUFFIX}@{domain()}")


def list_id(slug: str) -> str:
    """The RFC 2919 List-Id value (without the display name)."""
    return f"{slug}.{domain()}"


def _token(kind: str, *ids: int) -> str:
    joined = "-".join(_b36(i) for i in ids)
    return f"{kind}-{joined}-{_mac(kind, joined)}"


def reply_address(slug: str, post_id: int, member_id: int) -> str:
    return f"{slug}+{_token('r', post_id, member_id)}@{domain()}"


def moderation_address(slug: str, post_id: int, member_id: int) -> str:
    """The Reply-To of the notification that `post_id` waits for moderator `member_id`."""
    return f"{slug}+{_token('m', post_id, member_id)}@{domain()}"


def edit_moderation_address(slug: str, edit_id: int, member_id: int) -> str:
    """The Reply-To of the notification that edit `edit_id` waits for `member_id`."""
    return f"{slug}+{_token('e', edit_id, member_id)}@{domain()}"


def digest_address(slug: str, member_id: int) -> str:
    return f"{slug}+{_token('d', member_id)}@{domain()}"


def bounce_address(slug: str, member_id: int) -> str:
    """The VERP envelope sender of one member's copy."""
    return f"{slug}+{_token('b', member_id)}@{domain()}"


def unsubscribe_token(member_id: int, board_id: int) -> str:
    """The one-click unsubscribe token (RFC 8058): works without signing in, for one
    member and one board, and only unsubscribes."""
    return _token("u", member_id, board_id)


def _parse_pair(kind: str, token: str) -> tuple[int, int] | None:
    """The two ids of a signed token of `kind`, or None when it does not verify."""
    match = _TOKEN.match((token or "").strip().lower())
    if match is None or match["kind"] != kind:
        return None
    if not hmac.compare_digest(match["mac"], _mac(kind, match["ids"])):
        return None
    ids = [int(part, 36) for part in match["ids"].split("-")]
    return (ids[0], ids[1]) if len(ids) == 2 else None


def parse_unsubscribe_token(token: str) -> tuple[int, int] | None:
    return _parse_pair("u", token)


def confirm_token(request_id: int, member_id: int) -> str:
    """The token of one member's request waiting for confirmation."""
    return _token("c", request_id, member_id)


def parse_confirm_token(token: str) -> tuple[int, int] | None:
    """(request id, member id) of a confirmation token, or None for a forged one."""
    return _parse_pair("c", token)


def confirm_address(slug: str, request_id: int, member_id: int) -> str:
    """The Reply-To of a confirmation request: replying confirms."""
    return f"{slug}+{confirm_token(request_id, member_id)}@{domain()}"


@dataclass(frozen=True)
class ListAddress:
    """What an address at the list domain means."""

    address: str
    slug: str  # the board slug ("" for the hub's noreply address)
    # "post" | "request" | "owner" | "reply" | "moderate" | "digest" | "bounce" | "confirm"
    # | "noreply" | "postmaster"
    kind: str
    post_id: int | None = None
    member_id: int | None = None
    edit_id: int | None = None  # "moderate" for a waiting edit rather than a held post
    bad_token: bool = False  # a token was present but did not verify
    token: str = ""  # the token after the "+" (a confirmation is looked up by it)


def parse(address: str) -> ListAddress | None:
    """Split an address at our domain into slug and token; None for other domains.

    The board is not looked up here: a ListAddress only says what the address claims.
    """
    address = (address or "").strip().strip("<>").lower()
    local, at, dom = address.rpartition("@")
    if not at or not local or dom != domain():
        return None
    if local == NOREPLY:
        return ListAddress(address, "", "noreply")
    if local == POSTMASTER:
        return ListAddress(address, "", "postmaster")
    base, plus, token = local.partition("+")
    if not plus:
        if base.endswith(REQUEST_SUFFIX):
            return ListAddress(address, base[: -len(REQUEST_SUFFIX)], "request")
        if base.endswith(OWNER_SUFFIX):
            return ListAddress(address, base[: -len(OWNER_SUFFIX)], "owner")
        return ListAddress(address, base, "post")
    match = _TOKEN.match(token)
    if match is None:
        return ListAddress(address, base, "post", bad_token=True)
    kind, ids_text, mac = match["kind"], match["ids"], match["mac"]
    if not hmac.compare_digest(mac, _mac(kind, ids_text)):
        # A confirmation with a bad token still deserves the confirmation's answer.
        return ListAddress(address, base, "confirm" if kind == "c" else "post",
                           bad_token=True, token=token)
    ids = [int(part, 36) for part in ids_text.split("-")]
    if kind == "r" and len(ids) == 2:
        return ListAddress(address, base, "reply", post_id=ids[0], member_id=ids[1])
    if kind == "m" and len(ids) == 2:
        return ListAddress(address, base, "moderate", post_id=ids[0], member_id=ids[1])
    if kind == "e" and len(ids) == 2:
        return ListAddress(address, base, "moderate", edit_id=ids[0], member_id=ids[1])
    if kind == "d" and len(ids) == 1:
        return ListAddress(address, base, "digest", member_id=ids[0])
    if kind == "b" and len(ids) == 1:
        return ListAddress(address, base, "bounce", member_id=ids[0])
    if kind == "c" and len(ids) == 2:
        return ListAddress(address, base, "confirm", member_id=ids[1], token=token)
    return ListAddress(address, base, "post", bad_token=True)
