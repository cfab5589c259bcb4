"""Documents between the steps of a run, kept on disk by their SHA-256.

A run can stop after any step and go on in another worker process, so a
document that one step produced and a later step sends cannot live in
memory: it is streamed to ``XCONNECTOR_BLOB_DIR`` as it arrives (hashed on
the way, never held whole) and the run context keeps a small reference::

    {"sha256": "...", "name": "contract.pdf", "media_type": "...", "size": 123}

The same bytes are stored once. In production the folder is shared storage
that every worker mounts (see docker/).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings

from connectors.base import Document
from connectors.errors import PermanentError

CHUNK = 1 << 16


def _root() -> Path:
    root = Path(settings.XCONNECTOR_BLOB_DIR)
    root.mkdir(parents=True, exist_ok=True)
    return root


def _path(sha256: str) -> Path:
    return _root() / sha256[:2] / sha256


def keep(document: Document) -> dict[str, Any]:
    """Stream ``document`` to the blob store; return its reference."""
    limit = settings.XCONNECTOR_MAX_DOCUMENT_BYTES
    if document.max_bytes is None or document.max_bytes > limit:
        document.max_bytes = limit
    root = _root()
    handle, temporary = tempfile.mkstemp(dir=root, prefix=".incoming-")
    try:
        with os.fdopen(handle, "wb") as file:
            for chunk in document:
                file.write(chunk)
        target = _path(document.sha256)
        target.parent.mkdir(exist_ok=True)
        os.replace(temporary, target)  # atomic: readers see all bytes or none
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return {
        "sha256": document.sha256,
        "name": document.name,
        "media_type": document.media_type,
        "size": document.size,
        "source_ref": document.source_ref,
    }


def open_document(ref: dict[str, Any]) -> Document:
    """A fresh stream of a kept document, checked against its size."""
    path = _path(ref["sha256"])
    if not path.exists():
        raise PermanentError(
            f"The document “{ref.get('name', '')}” is no longer in the document "
            "store; start the run again from its trigger."
        )
    return Document.from_path(
        path,
        ref.get("name", ""),
        media_type=ref.get("media_type") or "application/octet-stream",
        source_ref=ref.get("source_ref", ""),
    )
