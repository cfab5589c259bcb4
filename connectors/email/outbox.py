"""The local outbox of the demo: an .eml file plus an OutboxMessage row.

Files lie under ``VAR_DIR / "outbox" / "<yyyy-mm>/<uuid>.eml"``; the row
keeps the path relative to ``VAR_DIR`` so the folder can move.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from connectors.email.schemas import AttachmentInfo, SendInput
from connectors.errors import PermanentError
from connectors.models import OutboxMessage

OUTBOX_FOLDER = "outbox"


def outbox_root() -> Path:
    return Path(settings.VAR_DIR) / OUTBOX_FOLDER


def ensure_writable() -> Path:
    """The outbox folder, created if need be; PermanentError if it cannot be."""
    root = outbox_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise PermanentError(
            "The local outbox folder cannot be created: ask the administrator "
            "to check the server's data folder.",
            detail=f"{root}: {error.strerror}",
        ) from None
    if not os.access(root, os.W_OK):
        raise PermanentError(
            "The local outbox folder is not writable: ask the administrator "
            "to check the server's data folder.",
            detail=str(root),
        )
    return root


def find(message_id: str) -> OutboxMessage | None:
    """The message already in the outbox under this Message-ID, if any."""
    return (
        OutboxMessage.objects.filter(message_id=message_id)
        .order_by("created_at", "pk")
        .first()
    )


def deliver(
    *,
    connection_id: int | None,
    message_id: str,
    from_address: str,
    data: SendInput,
    attachments: list[AttachmentInfo],
    eml: bytes,
) -> OutboxMessage:
    """Write the .eml file, then its row; a row already there for the
    Message-ID wins (and the new file is removed)."""
    ensure_writable()
    relative = Path(OUTBOX_FOLDER, timezone.now().strftime("%Y-%m"))
    relative /= f"{uuid.uuid4().hex}.eml"
    path = Path(settings.VAR_DIR) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(eml)
    os.replace(partial, path)
    try:
        with transaction.atomic():
            return OutboxMessage.objects.create(
                connection_id=connection_id,
                message_id=message_id,
                from_address=from_address,
                to=list(data.to),
                cc=list(data.cc),
                bcc=list(data.bcc),
                subject=data.subject,
                body_text=data.body_text,
                attachments=[a.model_dump() for a in attachments],
                eml_path=relative.as_posix(),
            )
    except IntegrityError:
        # A concurrent send with the same key won the (future) unique
        # constraint on message_id: keep its row and drop our copy.
        path.unlink(missing_ok=True)
        existing = find(message_id)
        if existing is None:
            raise
        return existing
    except BaseException:
        path.unlink(missing_ok=True)
        raise
