"""Writing interchanges: envelopes with counts and control numbers."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from connectors.errors import PermanentError
from connectors.tradinggrid.edi.model import (
    X12_DEFAULT,
    X12_FUNCTIONAL_IDS,
    Segment,
    Separators,
    Transaction,
)


def control_number(key: str) -> str:
    """A nine-digit interchange control number derived from ``key``.

    The same key always gives the same number, so a retried send carries
    the control number of the first attempt and the network recognises it.
    """
    number = int(hashlib.sha256(key.encode()).hexdigest(), 16) % 999_999_999 + 1
    return f"{number:09d}"


def _split_address(address: str) -> tuple[str, str]:
    qualifier, sep, ident = address.partition(":")
    if not sep or not qualifier or not ident:
        raise PermanentError(
            f"“{address}” is not an EDI address: write it qualifier:ID, "
            "e.g. ZZ:DEMORETAILER."
        )
    return qualifier.strip(), ident.strip()


def _segment_text(segment: Segment, separators: Separators) -> str:
    return separators.element.join([segment.tag, *segment.elements])


def build_x12(
    sender: str,
    receiver: str,
    control: str,
    transactions: list[Transaction],
    *,
    version: str = "004010",
    when: datetime | None = None,
    test: bool = False,
) -> str:
    """An X12 interchange with one functional group per transaction type."""
    when = when or datetime.now(UTC)
    s_qual, s_id = _split_address(sender)
    r_qual, r_id = _split_address(receiver)
    sep = X12_DEFAULT
    isa = Segment(
        "ISA",
        [
            "00",
            " " * 10,
            "00",
            " " * 10,
            s_qual[:2].ljust(2),
            s_id[:15].ljust(15),
            r_qual[:2].ljust(2),
            r_id[:15].ljust(15),
            when.strftime("%y%m%d"),
            when.strftime("%H%M"),
            "U",  # ISA11 in version 00401: the standards identifier
            "00401",
            f"{int(control):09d}",
            "0",
            "T" if test else "P",
            sep.component,
        ],
    )
    lines = [_segment_text(isa, sep)]
    by_type: dict[str, list[Transaction]] = {}
    for transaction in transactions:
        by_type.setdefault(transaction.type, []).append(transaction)
    for number, (kind, members) in enumerate(by_type.items(), start=1):
        group_control = str(int(control) % 100_000_000 * 10 + number)[-9:]
        lines.append(
            _segment_text(
                Segment(
                    "GS",
                    [
                        X12_FUNCTIONAL_IDS.get(kind, "PO"),
                        s_id,
                        r_id,
                        when.strftime("%Y%m%d"),
                        when.strftime("%H%M"),
                        group_control,
                        "X",
                        version,
                    ],
                ),
                sep,
            )
        )
        for position, transaction in enumerate(members, start=1):
            st_control = transaction.control_number or f"{position:04d}"
            body = [Segment("ST", [kind, st_control]), *transaction.segments]
            body.append(Segment("SE", [str(len(body) + 1), st_control]))
            lines.extend(_segment_text(s, sep) for s in body)
        lines.append(
            _segment_text(Segment("GE", [str(len(members)), group_control]), sep)
        )
    lines.append(_segment_text(Segment("IEA", [str(len(by_type)), isa.get(13)]), sep))
    return sep.segment.join(lines) + sep.segment + "\n"


def build_edifact(
    sender: str,
    receiver: str,
    control: str,
    transactions: list[Transaction],
    *,
    when: datetime | None = None,
) -> str:
    """An EDIFACT D.96A interchange (UNA, UNB, messages, UNZ)."""
    when = when or datetime.now(UTC)
    s_qual, s_id = _split_address(sender)
    r_qual, r_id = _split_address(receiver)
    lines = [
        _edifact_text(
            Segment(
                "UNB",
                [
                    "UNOC:3",
                    f"{s_id}:{s_qual}",
                    f"{r_id}:{r_qual}",
                    f"{when:%y%m%d}:{when:%H%M}",
                    control,
                ],
            )
        )
    ]
    for position, message in enumerate(transactions, start=1):
        reference = message.control_number or str(position)
        body = [Segment("UNH", [reference, f"{message.type}:D:96A:UN"])]
        body.extend(message.segments)
        body.append(Segment("UNT", [str(len(body) + 1), reference]))
        lines.extend(_edifact_text(s) for s in body)
    lines.append(_edifact_text(Segment("UNZ", [str(len(transactions)), control])))
    return "UNA:+.? '" + "'".join(lines) + "'\n"


def _edifact_text(segment: Segment) -> str:
    # Element separators, terminators and release characters inside a value
    # are escaped; a ``:`` stays a component separator.
    values = [re.sub(r"([?+'])", r"?\1", v) for v in segment.elements]
    return "+".join([segment.tag, *values])
