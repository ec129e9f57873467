"""Attachments: the accepted types, the checks on a file, and its storage by content
hash. Used by the posting path (`forums.services`), which it does not import.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from forums.models import (
    Attachment,
    Post,
)
from hub.errors import (
    Invalid,
    StorageFull,
)

log = logging.getLogger(__name__)


# Accepted attachments: extension -> the type we serve it as. The browser's claim is
# ignored; images must also start with their format's signature.
ATTACHMENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "txt": "text/plain",
    "csv": "text/csv",
    "rtf": "application/rtf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "zip": "application/zip",
}


# Shown inline (<img>); everything else, SVG above all, is only ever downloaded.
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


_SIGNATURES = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
}


@dataclass(frozen=True)
class Upload:
    """A file to attach, as received (web form, API, email)."""

    filename: str
    content_type: str
    data: bytes


def store_attachments(post: Post, uploads: Sequence[Upload]) -> None:
    if not uploads:
        return
    if len(uploads) > int(current_app.config["HUB_ATTACHMENT_MAX_COUNT"]):
        raise Invalid(str(_l("At most %(n)d files per post.",
                             n=int(current_app.config["HUB_ATTACHMENT_MAX_COUNT"]))),
                      fields={"attachments": "too_many"})
    checked = [(upload, check_upload(upload)) for upload in uploads]
    for upload, content_type in checked:
        sha = save_blob(upload.data)
        post.attachments.append(Attachment(
            filename=clean_filename(upload.filename), content_type=content_type,
            size=len(upload.data), sha256=sha))


def clean_filename(name: str) -> str:
    name = os.path.basename((name or "").replace("\\", "/"))
    name = re.sub(r"[\x00-\x1f\x7f\"]", "", name).strip(" .") or "file"
    return name[-200:]


def check_upload(upload: Upload) -> str:
    """The type the file will be served as, or Invalid when size or type is refused."""
    limit = int(current_app.config["HUB_ATTACHMENT_MAX_BYTES"])
    if len(upload.data) > limit:
        raise Invalid(str(_l("%(name)s is larger than %(mb)s MB.", name=upload.filename,
                             mb=round(limit / 1024 / 1024, 1))),
                      fields={"attachments": "too_large"})
    if not upload.data:
        raise Invalid(str(_l("%(name)s is empty.", name=upload.filename)),
                      fields={"attachments": "empty"})
    ext = clean_filename(upload.filename).rpartition(".")[2].lower()
    content_type = ATTACHMENT_TYPES.get(ext)
    if content_type is None:
        raise Invalid(str(_l("Files of this type cannot be attached: %(name)s. Accepted: "
                             "%(types)s.", name=upload.filename,
                             types=", ".join(sorted(ATTACHMENT_TYPES)))),
                      fields={"attachments": "type"})
    signatures = _SIGNATURES.get(content_type)
    if content_type == "image/webp":
        ok = upload.data[:4] == b"RIFF" and upload.data[8:12] == b"WEBP"
    else:
        ok = signatures is None or upload.data.startswith(signatures)
    if not ok:
        raise Invalid(str(_l("%(name)s is not really a %(ext)s file.", name=upload.filename,
                             ext=ext.upper())), fields={"attachments": "type"})
    return content_type


def upload_dir() -> Path:
    return Path(current_app.config["HUB_UPLOAD_DIR"])


def blob_path(sha: str) -> Path:
    return upload_dir() / sha[:2] / sha


def save_blob(data: bytes) -> str:
    """Store bytes once by content hash (written atomically); returns the hash."""
    sha = hashlib.sha256(data).hexdigest()
    path = blob_path(sha)
    if path.exists():
        return sha
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".up-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        log.error("uploads: the disk is full (%s): %s", upload_dir(), exc)
        raise StorageFull(str(_l("The server has no room for files just now, so nothing "
                                 "was posted. Please try again later, or post without "
                                 "the attachment."))) from exc
    return sha

