"""X12 and EDIFACT interchanges: parse, validate, build, acknowledge.

An interchange is an envelope (X12 ``ISA``/``IEA``, EDIFACT ``UNB``/``UNZ``)
around functional groups (``GS``/``GE``; EDIFACT's optional ``UNG``/``UNE``)
around transaction sets or messages (``ST``/``SE``, ``UNH``/``UNT``).

- X12 separators come from the ISA segment itself, which has a fixed
  length: the element separator is its 4th character, the repetition
  separator ISA11, the component separator ISA16 and the segment terminator
  the character after it.
- EDIFACT separators come from the optional ``UNA`` service string advice,
  else the defaults ``:+.? '``; the release character escapes a separator.
- ``parse`` checks what a receiver checks: the trailer is there, its counts
  and control numbers match the header. Anything wrong raises
  ``EdiError`` (a ``PermanentError``) naming the segment and the numbers.

``summary`` extracts the key fields xConnector shows and searches by
(purchase order number, invoice number, shipment identification), under the
content-key names Lens uses.
"""

from __future__ import annotations

from connectors.tradinggrid.edi.content import acknowledgement, key_fields, summary
from connectors.tradinggrid.edi.model import (
    EDIFACT,
    EDIFACT_DEFAULT,
    EDIFACT_TYPES,
    INVOICE_NUMBER,
    PO_NUMBER,
    SHIPMENT_ID,
    X12,
    X12_DEFAULT,
    X12_FUNCTIONAL_IDS,
    X12_TYPES,
    XML,
    EdiError,
    Group,
    Interchange,
    Segment,
    Separators,
    Transaction,
)
from connectors.tradinggrid.edi.reading import (
    detect,
    header,
    parse,
    segments_from_text,
    split_segments,
)
from connectors.tradinggrid.edi.writing import build_edifact, build_x12, control_number

__all__ = [
    "EDIFACT",
    "EDIFACT_DEFAULT",
    "EDIFACT_TYPES",
    "INVOICE_NUMBER",
    "PO_NUMBER",
    "SHIPMENT_ID",
    "X12",
    "X12_DEFAULT",
    "X12_FUNCTIONAL_IDS",
    "X12_TYPES",
    "XML",
    "EdiError",
    "Group",
    "Interchange",
    "Segment",
    "Separators",
    "Transaction",
    "acknowledgement",
    "build_edifact",
    "build_x12",
    "control_number",
    "detect",
    "header",
    "key_fields",
    "parse",
    "segments_from_text",
    "split_segments",
    "summary",
]
