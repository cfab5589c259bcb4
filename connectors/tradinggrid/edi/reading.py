"""Reading interchanges: detect the standard, take the separators, split
segments, and check envelopes, counts and control numbers."""

from __future__ import annotations

import re

from connectors.tradinggrid.edi.model import (
    EDIFACT,
    EDIFACT_DEFAULT,
    X12,
    X12_DEFAULT,
    XML,
    EdiError,
    Group,
    Interchange,
    Segment,
    Separators,
    Transaction,
)

# --- Recognising and splitting ------------------------------------------------------


def detect(text: str) -> str | None:
    """``X12``, ``EDIFACT``, ``XML`` from the first characters, or None."""
    head = text.lstrip("\ufeff \r\n\t")[:3]
    if head == "ISA":
        return X12
    if head in ("UNA", "UNB"):
        return EDIFACT
    if head.startswith("<"):
        return XML
    return None


def _x12_separators(text: str) -> Separators:
    if len(text) < 106:
        raise EdiError(
            "The X12 interchange is cut short: the ISA segment must be 106 "
            f"characters long, only {len(text)} arrived."
        )
    element = text[3]
    isa = text[:106]
    fields = isa[:105].split(element)
    if len(fields) != 17:
        raise EdiError(
            f"The ISA segment has {len(fields) - 1} elements instead of 16: "
            "it must be fixed-length, with the separators as its 4th, 83rd "
            "and 105th characters."
        )
    return Separators(
        element=element,
        component=isa[104],
        segment=isa[105],
        repetition=fields[11] if fields[12] >= "00402" else "",
    )


def _edifact_separators(text: str) -> tuple[Separators, str]:
    if not text.startswith("UNA"):
        return EDIFACT_DEFAULT, text
    if len(text) < 9:
        raise EdiError("The EDIFACT UNA service string advice is cut short.")
    una = text[3:9]
    return (
        Separators(
            component=una[0],
            element=una[1],
            decimal=una[2],
            release=una[3] if una[3] != " " else "",
            segment=una[5],
        ),
        text[9:],
    )


def split_segments(text: str, separators: Separators) -> list[Segment]:
    """The segments of ``text``; line breaks between segments are ignored."""
    segments = []
    for raw in _split(text, separators.segment, separators.release):
        raw = raw.strip("\r\n")
        if not raw.strip():
            continue
        parts = _split(raw, separators.element, separators.release)
        values = [_unescape(p, separators.release) for p in parts]
        segments.append(Segment(values[0].strip(), values[1:]))
    return segments


def _split(text: str, separator: str, release: str) -> list[str]:
    if not release:
        return text.split(separator)
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append(release + char)
            escaped = False
        elif char == release:
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _unescape(text: str, release: str) -> str:
    if not release:
        return text
    return re.sub(re.escape(release) + "(.)", r"\1", text)


# --- Parsing ------------------------------------------------------------------------


def parse(text: str) -> Interchange:
    """Parse and validate one X12 or EDIFACT interchange."""
    text = text.lstrip("\ufeff \r\n\t")
    standard = detect(text)
    if standard == X12:
        return _parse_x12(text)
    if standard == EDIFACT:
        return _parse_edifact(text)
    raise EdiError(
        "The document is neither an X12 interchange (starting with ISA) nor "
        "an EDIFACT interchange (starting with UNA or UNB)."
    )


def _expect(segments: list[Segment], index: int, tag: str, context: str) -> Segment:
    if index >= len(segments):
        raise EdiError(f"The interchange is cut short: {tag} missing {context}.")
    return segments[index]


def _count(value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise EdiError(f"{what} is “{value}”, not a number.") from None


def _parse_x12(text: str) -> Interchange:
    separators = _x12_separators(text)
    segments = split_segments(text, separators)
    isa = segments[0]
    control = isa.get(13).strip()
    groups: list[Group] = []
    index = 1
    while index < len(segments) and segments[index].tag == "GS":
        group, index = _x12_group(segments, index)
        groups.append(group)
    iea = _expect(segments, index, "IEA", f"to close interchange {control}")
    if iea.tag != "IEA":
        raise EdiError(
            f"Segment {index + 1} is {iea.tag} where GS or IEA was expected "
            f"in interchange {control}."
        )
    if _count(iea.get(1), "IEA01") != len(groups):
        raise EdiError(
            f"IEA01 says {iea.get(1)} functional groups but interchange "
            f"{control} holds {len(groups)}."
        )
    if iea.get(2).strip() != control:
        raise EdiError(
            f"IEA02 {iea.get(2)} does not match the interchange control "
            f"number {control} in ISA13."
        )
    if index + 1 != len(segments):
        raise EdiError(f"Segments follow the IEA of interchange {control}.")
    return Interchange(
        standard=X12,
        sender=f"{isa.get(5).strip()}:{isa.get(6).strip()}",
        receiver=f"{isa.get(7).strip()}:{isa.get(8).strip()}",
        control_number=control,
        groups=groups,
        separators=separators,
        prepared=f"{isa.get(9)}{isa.get(10)}",
    )


def _x12_group(segments: list[Segment], index: int) -> tuple[Group, int]:
    gs = segments[index]
    control = gs.get(6)
    transactions = []
    index += 1
    while index < len(segments) and segments[index].tag == "ST":
        st = segments[index]
        body, index = _until(segments, index + 1, "SE", f"ST {st.get(2)}")
        se = segments[index]
        counted = len(body) + 2
        if _count(se.get(1), "SE01") != counted:
            raise EdiError(
                f"SE01 says {se.get(1)} segments but transaction set "
                f"{st.get(2)} ({st.get(1)}) has {counted}."
            )
        if se.get(2) != st.get(2):
            raise EdiError(
                f"SE02 {se.get(2)} does not match ST02 {st.get(2)}: a "
                "transaction set was cut short or mixed up."
            )
        transactions.append(Transaction(st.get(1), st.get(2), body))
        index += 1
    named = f"functional group {control}" if control else "the functional group"
    ge = _expect(segments, index, "GE", f"to close {named}")
    if ge.tag != "GE":
        raise EdiError(
            f"Segment {index + 1} is {ge.tag} where ST or GE was expected in {named}."
        )
    if _count(ge.get(1), "GE01") != len(transactions):
        raise EdiError(
            f"GE01 says {ge.get(1)} transaction sets but {named} holds "
            f"{len(transactions)}."
        )
    if ge.get(2) != control:
        raise EdiError(f"GE02 {ge.get(2)} does not match GS06 {control}.")
    return Group(gs.get(1), control, gs.get(8), transactions), index + 1


def _until(
    segments: list[Segment], index: int, trailer: str, opened: str
) -> tuple[list[Segment], int]:
    body = []
    headers = {"ST", "GS", "GE", "IEA", "UNH", "UNG", "UNE", "UNZ"}
    while index < len(segments) and segments[index].tag != trailer:
        if segments[index].tag in headers:
            raise EdiError(
                f"{trailer} missing: {opened} is followed by "
                f"{segments[index].tag} before it is closed."
            )
        body.append(segments[index])
        index += 1
    if index >= len(segments):
        raise EdiError(f"The interchange is cut short: {trailer} missing for {opened}.")
    return body, index


def _parse_edifact(text: str) -> Interchange:
    separators, rest = _edifact_separators(text)
    segments = split_segments(rest, separators)
    unb = segments[0]
    if unb.tag != "UNB":
        raise EdiError(f"The interchange starts with {unb.tag} instead of UNB.")
    control = unb.get(5)
    groups: list[Group] = []
    index = 1
    loose: list[Transaction] = []
    while index < len(segments) and segments[index].tag in ("UNH", "UNG"):
        if segments[index].tag == "UNG":
            group, index = _edifact_group(segments, index, separators)
            groups.append(group)
        else:
            message, index = _edifact_message(segments, index, separators)
            loose.append(message)
    unz = _expect(segments, index, "UNZ", f"to close interchange {control}")
    if unz.tag != "UNZ":
        raise EdiError(
            f"Segment {index + 1} is {unz.tag} where UNH or UNZ was expected "
            f"in interchange {control}."
        )
    counted = len(groups) + len(loose)
    if _count(unz.get(1), "UNZ01") != counted:
        raise EdiError(
            f"UNZ01 says {unz.get(1)} messages or groups but interchange "
            f"{control} holds {counted}."
        )
    if unz.get(2) != control:
        raise EdiError(
            f"UNZ02 {unz.get(2)} does not match the interchange control "
            f"reference {control} in UNB05."
        )
    if index + 1 != len(segments):
        raise EdiError(f"Segments follow the UNZ of interchange {control}.")
    if loose:
        groups.append(Group("", "", "", loose))
    component = separators.component
    return Interchange(
        standard=EDIFACT,
        sender=_edifact_party(unb.get(2), component),
        receiver=_edifact_party(unb.get(3), component),
        control_number=control,
        groups=groups,
        separators=separators,
        prepared=unb.get(4).replace(component, ""),
    )


def _edifact_party(value: str, component: str) -> str:
    # UNB02/03 are ID:qualifier; xConnector writes addresses qualifier:ID.
    ident, _, qualifier = value.partition(component)
    qualifier = qualifier.partition(component)[0]
    return f"{qualifier or 'ZZZ'}:{ident}"


def _edifact_message(
    segments: list[Segment], index: int, separators: Separators
) -> tuple[Transaction, int]:
    unh = segments[index]
    reference = unh.get(1)
    kind = unh.get(2).split(separators.component)[0]
    body, index = _until(segments, index + 1, "UNT", f"UNH {reference}")
    unt = segments[index]
    counted = len(body) + 2
    if _count(unt.get(1), "UNT01") != counted:
        raise EdiError(
            f"UNT01 says {unt.get(1)} segments but message {reference} "
            f"({kind}) has {counted}."
        )
    if unt.get(2) != reference:
        raise EdiError(
            f"UNT02 {unt.get(2)} does not match the message reference "
            f"{reference} in UNH01."
        )
    return Transaction(kind, reference, body), index + 1


def _edifact_group(
    segments: list[Segment], index: int, separators: Separators
) -> tuple[Group, int]:
    ung = segments[index]
    control = ung.get(5)
    messages = []
    index += 1
    while index < len(segments) and segments[index].tag == "UNH":
        message, index = _edifact_message(segments, index, separators)
        messages.append(message)
    une = _expect(segments, index, "UNE", f"to close group {control}")
    if une.tag != "UNE" or _count(une.get(1), "UNE01") != len(messages):
        raise EdiError(f"Group {control} is not closed by a matching UNE.")
    return Group(ung.get(1), control, "", messages), index + 1


def segments_from_text(text: str, standard: str) -> list[Transaction]:
    """Bare transaction sets or messages (``ST..SE`` / ``UNH..UNT``) with the
    default separators, to be put in an envelope; counts are checked."""
    if standard == X12:
        segments = split_segments(text, X12_DEFAULT)
        header, trailer, name = "ST", "SE", "transaction set"
    else:
        segments = split_segments(text, EDIFACT_DEFAULT)
        header, trailer, name = "UNH", "UNT", "message"
    transactions, index = [], 0
    while index < len(segments):
        opening = segments[index]
        if opening.tag != header:
            raise EdiError(f"Expected {header} to open a {name}, found {opening.tag}.")
        body, index = _until(segments, index + 1, trailer, f"{header} {opening.get(2)}")
        closing = segments[index]
        if _count(closing.get(1), f"{trailer}01") != len(body) + 2:
            raise EdiError(
                f"{trailer}01 says {closing.get(1)} segments but the {name} has "
                f"{len(body) + 2}."
            )
        kind = opening.get(1) if standard == X12 else opening.get(2).split(":")[0]
        reference = opening.get(2) if standard == X12 else opening.get(1)
        transactions.append(Transaction(kind, reference, body))
        index += 1
    if not transactions:
        raise EdiError(f"The document holds no {name}.")
    return transactions


def header(text: str) -> Interchange | None:
    """The envelope of a possibly broken interchange (sender, receiver,
    control number, standard) without validating the rest, or None when
    even the header cannot be read."""
    text = text.lstrip("\ufeff \r\n\t")
    try:
        if detect(text) == X12:
            separators = _x12_separators(text)
            isa = split_segments(text[:106], separators)[0]
            return Interchange(
                X12,
                f"{isa.get(5).strip()}:{isa.get(6).strip()}",
                f"{isa.get(7).strip()}:{isa.get(8).strip()}",
                isa.get(13).strip(),
                [],
                separators,
            )
        if detect(text) == EDIFACT:
            separators, rest = _edifact_separators(text)
            unb = split_segments(rest.split(separators.segment, 1)[0], separators)[0]
            if unb.tag != "UNB":
                return None
            return Interchange(
                EDIFACT,
                _edifact_party(unb.get(2), separators.component),
                _edifact_party(unb.get(3), separators.component),
                unb.get(5),
                [],
                separators,
            )
    except (EdiError, IndexError):
        return None
    return None
