"""Reading driver data (the customer records a communication is filled with).

JSON: one object is one record; an array of objects, or ``{"records":
[...]}``, is several. XML: an element whose children are all leaves is one
record (``<customer><customerNumber>..</customerNumber></customer>``); a
root whose children have children of their own holds several records.
Values are kept as text (XML) or as given (JSON). XML is parsed with
defusedxml, so entity expansion attacks are refused. [I]: Exstream's own
driver files are mapped by a data source design; this generic mapping is
the sandbox's.
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

MAX_RECORDS = 1000


class DriverDataError(Exception):
    """Driver data that cannot be read or lacks what the template needs."""

    def __init__(self, message: str, customer_number: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.customer_number = customer_number


def parse(body: bytes, content_type: str) -> list[dict[str, Any]]:
    """The records in ``body``; DriverDataError when it is neither JSON nor
    XML, or holds no record."""
    kind = content_type.split(";")[0].strip().lower()
    text = body.strip()
    if not text:
        raise DriverDataError("The driver data is empty.")
    if kind.endswith("xml") or (not kind.endswith("json") and text[:1] == b"<"):
        records = _xml(text)
    else:
        records = _json(text)
    if not records:
        raise DriverDataError("The driver data holds no customer record.")
    if len(records) > MAX_RECORDS:
        raise DriverDataError(f"The driver data holds more than {MAX_RECORDS} records.")
    return records


def _json(text: bytes) -> list[dict[str, Any]]:
    try:
        value = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise DriverDataError(
            "The driver data is neither valid JSON nor valid XML."
        ) from None
    if isinstance(value, dict) and isinstance(value.get("records"), list):
        value = value["records"]
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, dict) for item in items):
        raise DriverDataError(
            "The driver data must be a JSON object (one record) or an array of objects."
        )
    return [dict(item) for item in items]


def _xml(text: bytes) -> list[dict[str, Any]]:
    try:
        root = ElementTree.fromstring(text)
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        raise DriverDataError(
            "The driver data is neither valid JSON nor valid XML."
        ) from None
    children = list(root)
    if children and all(len(child) for child in children):
        return [_record(child) for child in children]
    return [_record(root)]


def _record(element: Element) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for child in element:
        record[_local(child.tag)] = (child.text or "").strip()
    return record


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]  # drop a namespace


def check_required(record: dict[str, Any], required: list[str]) -> None:
    """DriverDataError naming the required fields ``record`` lacks."""
    missing = [name for name in required if record.get(name) in (None, "")]
    if missing:
        names = ", ".join(missing)
        customer = record.get("customerNumber")
        raise DriverDataError(
            f"The driver data lacks the field{'s' if len(missing) > 1 else ''} "
            f"{names} that the communication requires.",
            str(customer) if customer not in (None, "") else None,
        )
