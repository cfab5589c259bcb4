"""The pieces of an interchange, its separators and the standards' names."""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.errors import PermanentError

X12, EDIFACT, XML = "X12", "EDIFACT", "XML"

# X12 functional identifier code (GS01) of each transaction set we handle.
X12_FUNCTIONAL_IDS = {"850": "PO", "855": "PR", "856": "SH", "810": "IN", "997": "FA"}
EDIFACT_TYPES = {"ORDERS", "ORDRSP", "DESADV", "INVOIC", "CONTRL"}
X12_TYPES = set(X12_FUNCTIONAL_IDS)

PO_NUMBER = "purchase order number"
INVOICE_NUMBER = "invoice number"
SHIPMENT_ID = "shipment identification"


class EdiError(PermanentError):
    """The interchange is malformed: what is wrong, in plain words."""


@dataclass(frozen=True)
class Separators:
    element: str
    component: str
    segment: str
    repetition: str = ""
    release: str = ""
    decimal: str = "."


X12_DEFAULT = Separators(element="*", component=":", segment="~")
EDIFACT_DEFAULT = Separators(
    element="+", component=":", segment="'", release="?", decimal="."
)


@dataclass
class Segment:
    """One segment: its tag and its elements (components joined as read)."""

    tag: str
    elements: list[str] = field(default_factory=list)

    def get(self, position: int, default: str = "") -> str:
        """Element ``position`` counted from 1 as the standards do (``BEG03``)."""
        if 1 <= position <= len(self.elements):
            return self.elements[position - 1]
        return default


@dataclass
class Transaction:
    """One transaction set (X12) or message (EDIFACT), header to trailer."""

    type: str
    control_number: str
    segments: list[Segment]  # without the ST/SE or UNH/UNT


@dataclass
class Group:
    functional_id: str
    control_number: str
    version: str
    transactions: list[Transaction]


@dataclass
class Interchange:
    """A parsed interchange. Addresses are written ``qualifier:ID``."""

    standard: str
    sender: str
    receiver: str
    control_number: str
    groups: list[Group]
    separators: Separators
    prepared: str = ""  # ISA09/10 or UNB04 as sent

    @property
    def transactions(self) -> list[Transaction]:
        return [t for group in self.groups for t in group.transactions]
