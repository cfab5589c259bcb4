"""Rendering a communication's content with one customer's driver data.

The PDF is a real document (fpdf2): the communication's name, each content
block with its ``{field}`` placeholders filled in, and a table of the
driver data. Its creation date and file id are fixed, so the same data
gives the same bytes and different data gives different bytes.

The other channels are [I] (not verified against Exstream): a print stream
is a small PostScript program, email an HTML page, SMS plain text of at
most 160 characters; the portal copy is the PDF.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fpdf import FPDF

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
FIXED_DATE = datetime(2024, 1, 1, tzinfo=UTC)
SMS_LIMIT = 160
# queue name -> (file extension, media type)
QUEUE_FILES = {
    "PDF": ("pdf", "application/pdf"),
    "PORTAL": ("pdf", "application/pdf"),
    "PRINT": ("ps", "application/postscript"),
    "EMAIL": ("html", "text/html"),
    "SMS": ("txt", "text/plain"),
}


@dataclass(frozen=True)
class Output:
    """One rendered file of one channel."""

    queue: str
    file_name: str
    extension: str
    media_type: str
    content: bytes


def fill(template: str, data: dict[str, Any]) -> str:
    """``template`` with each ``{field}`` replaced by the data's value."""
    return PLACEHOLDER.sub(lambda m: _text(data.get(m.group(1), "")), template)


def placeholders(template: str) -> set[str]:
    return set(PLACEHOLDER.findall(template))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "communication"


def file_stem(snapshot: dict[str, Any], data: dict[str, Any]) -> str:
    customer = re.sub(r"[^A-Za-z0-9_-]+", "-", _text(data.get("customerNumber")))
    return f"{slug(snapshot['name'])}-{customer or 'customer'}"


def render(snapshot: dict[str, Any], data: dict[str, Any]) -> list[Output]:
    """Every channel output of the communication ``snapshot`` for ``data``.

    ``snapshot`` holds ``name``, ``content_blocks`` and ``queues``.
    """
    stem = file_stem(snapshot, data)
    outputs = []
    for queue in snapshot["queues"]:
        extension, media_type = QUEUE_FILES[queue]
        content = _RENDERERS[queue](snapshot, data)
        name = f"{stem}.{extension}" if queue != "PORTAL" else f"{stem}-portal.pdf"
        outputs.append(Output(queue, name, extension, media_type, content))
    return outputs


def _paragraphs(snapshot: dict[str, Any], data: dict[str, Any]) -> list[str]:
    blocks = snapshot["content_blocks"]
    return [fill(text, data) for name, text in blocks.items() if name != "sms"]


def _latin1(text: str) -> str:
    # The core PDF fonts cover Latin-1 only; other characters print as "?".
    return text.encode("latin-1", "replace").decode("latin-1")


def render_pdf(snapshot: dict[str, Any], data: dict[str, Any]) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_title(_latin1(snapshot["name"]))
    pdf.set_creator("Exstream sandbox")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin1(snapshot["name"]), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", size=11)
    for paragraph in _paragraphs(snapshot, data):
        pdf.multi_cell(0, 6, _latin1(paragraph), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 6, "Driver data", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    for key in sorted(data):
        line = f"{key}: {_text(data[key])}"
        pdf.multi_cell(0, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _postscript(snapshot: dict[str, Any], data: dict[str, Any]) -> bytes:
    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    lines = [snapshot["name"], *"\n".join(_paragraphs(snapshot, data)).splitlines()]
    program = [
        "%!PS-Adobe-3.0",
        "%%Pages: 1",
        "/Helvetica findfont 11 scalefont setfont",
    ]
    y = 800
    for line in lines:
        program.append(f"72 {y} moveto ({escape(_latin1(line))}) show")
        y -= 16
    program += ["showpage", "%%EOF", ""]
    return "\n".join(program).encode("latin-1")


def _email(snapshot: dict[str, Any], data: dict[str, Any]) -> bytes:
    body = "".join(
        f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>"
        for p in _paragraphs(snapshot, data)
    )
    title = html.escape(snapshot["name"])
    page = (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}'
        f"</title></head><body><h1>{title}</h1>{body}</body></html>"
    )
    return page.encode()


def _sms(snapshot: dict[str, Any], data: dict[str, Any]) -> bytes:
    template = snapshot["content_blocks"].get("sms") or " ".join(
        snapshot["content_blocks"].values()
    )
    return " ".join(fill(template, data).split())[:SMS_LIMIT].encode()


_RENDERERS = {
    "PDF": render_pdf,
    "PORTAL": render_pdf,
    "PRINT": _postscript,
    "EMAIL": _email,
    "SMS": _sms,
}
