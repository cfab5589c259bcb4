"""Building the MIME message: addresses, Message-ID and attachments."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from email import encoders
from email.mime.base import MIMEBase
from email.utils import formataddr, make_msgid
from typing import Any

from django.core.mail import EmailMultiAlternatives

from connectors.base import Document
from connectors.email.schemas import (
    AttachmentInfo,
    SendInput,
    envelope_address,
    split_address,
)
from connectors.errors import PermanentError

MESSAGE_ID_DOMAIN = "xconnector"
# Characters kept as they are in the left part of a Message-ID (RFC 5322
# dot-atom-text); every other one is written as =XX per UTF-8 byte, "=" too,
# so that two different idempotency keys never give the same Message-ID.
_KEPT = re.compile(r"[A-Za-z0-9_+-]")
_MAX_ID_LENGTH = 200
_UNSAFE_IN_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


def message_id_for(idempotency_key: str) -> str:
    """The Message-ID of a send: derived from the key, so a retry is recognisable.

    Without a key every message gets a new, random Message-ID.
    """
    if not idempotency_key:
        return make_msgid(domain=MESSAGE_ID_DOMAIN)
    key = idempotency_key
    parts: list[str] = []
    for index, char in enumerate(key):
        inner_dot = char == "." and 0 < index < len(key) - 1 and key[index - 1] != "."
        if _KEPT.match(char) or inner_dot:
            parts.append(char)
        else:
            parts.extend(f"={byte:02X}" for byte in char.encode())
    left = "".join(parts)
    if len(left) > _MAX_ID_LENGTH:
        left = "sha256-" + hashlib.sha256(key.encode()).hexdigest()
    return f"<{left}@{MESSAGE_ID_DOMAIN}>"


def unique_recipients(data: SendInput) -> list[str]:
    """The envelope recipients (To, Cc, Bcc), each address once."""
    seen: dict[str, str] = {}
    for address in [*data.to, *data.cc, *data.bcc]:
        bare = envelope_address(address)
        seen.setdefault(bare.lower(), bare)
    return list(seen.values())


def read_attachments(
    documents: Iterable[Document], max_total_bytes: int
) -> list[tuple[MIMEBase, AttachmentInfo]]:
    """Read each document into a base64 MIME part, with its size and SHA-256.

    Every part is base64, text too: the receiver gets the very bytes whose
    SHA-256 is reported (8bit text would have its line ends rewritten).
    """
    parts = []
    total = 0
    for document in documents:
        chunks = []
        for chunk in document:
            total += len(chunk)
            if total > max_total_bytes:
                raise PermanentError(
                    f"The attachments are larger than the {max_total_bytes:,} "
                    "bytes allowed for one message: send fewer or smaller "
                    "documents."
                )
            chunks.append(chunk)
        name = _attachment_name(document.name)
        maintype, _, subtype = document.media_type.partition("/")
        if not (maintype and subtype):
            maintype, subtype = "application", "octet-stream"
        part = MIMEBase(maintype, subtype)
        part.set_payload(b"".join(chunks))
        encoders.encode_base64(part)
        filename: str | tuple[str, str, str] = name
        if not name.isascii():
            filename = ("utf-8", "", name)  # RFC 2231
        part.add_header("Content-Disposition", "attachment", filename=filename)
        info = AttachmentInfo(
            name=name,
            media_type=f"{maintype}/{subtype}",
            size=document.size,
            sha256=document.sha256,
        )
        parts.append((part, info))
    return parts


def build_message(
    data: SendInput,
    *,
    from_address: str,
    message_id: str,
    attachments: Iterable[MIMEBase],
) -> EmailMultiAlternatives:
    """The message as Django builds it; Bcc stays out of the headers."""
    message = EmailMultiAlternatives(
        subject=data.subject,
        body=data.body_text,
        from_email=_header_address(from_address),
        to=[_header_address(a) for a in data.to],
        cc=[_header_address(a) for a in data.cc],
        bcc=[_header_address(a) for a in data.bcc],
        reply_to=[_header_address(a) for a in data.reply_to],
        headers={"Message-ID": message_id},
    )
    if data.body_html:
        message.attach_alternative(data.body_html, "text/html")
    for part in attachments:
        message.attach(part)
    return message


def as_bytes(message: EmailMultiAlternatives) -> bytes:
    """The message as it goes over the wire and into an .eml file."""
    mime: Any = message.message()
    return mime.as_bytes(linesep="\r\n")


def _header_address(address: str) -> str:
    # Quotes display names with commas or other specials ("Doe, Jane").
    name, bare = split_address(address)
    return formataddr((name, envelope_address(bare)))


def _attachment_name(name: str) -> str:
    name = _UNSAFE_IN_NAME.sub("_", name).strip()
    return name[-200:] or "attachment"
