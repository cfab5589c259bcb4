"""Parsing, validating, building and acknowledging X12 and EDIFACT."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.errors import PermanentError
from connectors.tradinggrid import edi
from connectors.tradinggrid.edi import Segment, Transaction

WHEN = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)

# An interchange (version 00501) with unusual separators: | elements, ^
# repetitions, > components, ! segment terminator, one segment per line.
X12_PIPES = (
    "ISA|00|          |00|          |ZZ|DEMORETAILER   |ZZ|DEMOSUPPLIER   "
    "|261123|0930|^|00501|000000777|0|P|>!\n"
    "GS|IN|DEMORETAILER|DEMOSUPPLIER|20261123|0930|77|X|004010!\n"
    "ST|810|0001!\n"
    "BIG|20261123|INV-55||PO-1001!\n"
    "IT1|1|10|EA|2.50||VP|WIDGET!\n"
    "TDS|2500!\n"
    "SE|5|0001!\n"
    "GE|1|77!\n"
    "IEA|1|000000777!\n"
)

EDIFACT_ORDERS = (
    "UNA:+.? '"
    "UNB+UNOC:3+DEMOSUPPLIER:ZZ+DEMODIST:ZZZ+261123:0930+ICR42'"
    "UNH+M1+ORDERS:D:96A:UN'"
    "BGM+220+PO?+77+9'"
    "DTM+137:20261123:102'"
    "UNT+4+M1'"
    "UNZ+1+ICR42'"
)


def order(number: str = "PO-1001") -> Transaction:
    return Transaction(
        "850",
        "0001",
        [
            Segment("BEG", ["00", "SA", number, "", "20261123"]),
            Segment("PO1", ["1", "10", "EA", "2.50", "", "VP", "WIDGET"]),
        ],
    )


def test_x12_separators_are_taken_from_the_isa_segment():
    # when
    interchange = edi.parse(X12_PIPES)

    # then
    assert interchange.separators == edi.Separators(
        element="|", component=">", segment="!", repetition="^"
    )
    assert interchange.standard == "X12"
    assert interchange.sender == "ZZ:DEMORETAILER"
    assert interchange.receiver == "ZZ:DEMOSUPPLIER"
    assert interchange.control_number == "000000777"
    assert [(g.functional_id, g.control_number) for g in interchange.groups] == [
        ("IN", "77")
    ]
    invoice = interchange.transactions[0]
    assert (invoice.type, invoice.control_number) == ("810", "0001")
    assert [s.tag for s in invoice.segments] == ["BIG", "IT1", "TDS"]
    assert invoice.segments[0].get(2) == "INV-55"


def test_the_summary_names_the_key_fields():
    assert edi.summary(edi.parse(X12_PIPES)) == {
        "standard": "X12",
        "sender": "ZZ:DEMORETAILER",
        "receiver": "ZZ:DEMOSUPPLIER",
        "control_number": "000000777",
        "doc_type": "810",
        "transaction_count": 1,
        "purchase_order_number": "PO-1001",
        "invoice_number": "INV-55",
        "shipment_identification": "",
    }


def test_an_x12_interchange_built_here_parses_back():
    # when
    text = edi.build_x12(
        "ZZ:DEMOSUPPLIER", "ZZ:DEMORETAILER", "000000042", [order()], when=WHEN
    )

    # then
    assert text.startswith(
        "ISA*00*          *00*          *ZZ*DEMOSUPPLIER   *ZZ*DEMORETAILER   "
        "*261123*0930*U*00401*000000042*0*P*:~GS*PO*DEMOSUPPLIER*DEMORETAILER"
        "*20261123*0930*421*X*004010~ST*850*0001~"
    )
    assert text.endswith("SE*4*0001~GE*1*421~IEA*1*000000042~\n")
    assert len(text.split("~")[0]) + 1 == 106  # ISA is fixed-length
    parsed = edi.parse(text)
    assert parsed.transactions[0].segments == order().segments
    assert edi.key_fields(parsed.transactions[0]) == {
        "purchase order number": "PO-1001"
    }


def test_edifact_with_una_and_release_characters():
    # when
    interchange = edi.parse(EDIFACT_ORDERS)

    # then
    assert interchange.standard == "EDIFACT"
    assert interchange.sender == "ZZ:DEMOSUPPLIER"
    assert interchange.receiver == "ZZZ:DEMODIST"
    assert interchange.control_number == "ICR42"
    message = interchange.transactions[0]
    assert (message.type, message.control_number) == ("ORDERS", "M1")
    assert message.segments[0] == Segment("BGM", ["220", "PO+77", "9"])
    assert edi.summary(interchange)["purchase_order_number"] == "PO+77"


def test_edifact_without_una_uses_the_default_separators():
    text = EDIFACT_ORDERS.removeprefix("UNA:+.? '")

    assert edi.parse(text).transactions[0].type == "ORDERS"


def test_an_edifact_interchange_built_here_parses_back():
    # given
    invoice = Transaction(
        "INVOIC",
        "1",
        [Segment("BGM", ["380", "INV+9", "9"]), Segment("RFF", ["ON:PO-1"])],
    )

    # when
    text = edi.build_edifact("ZZ:DEMOSUPPLIER", "ZZZ:DEMODIST", "55", [invoice])

    # then
    assert "BGM+380+INV?+9+9'" in text
    parsed = edi.parse(text)
    assert parsed.control_number == "55"
    assert edi.key_fields(parsed.transactions[0]) == {
        "invoice number": "INV+9",
        "purchase order number": "PO-1",
    }


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (
            X12_PIPES.replace("IEA|1|000000777!\n", ""),
            "The interchange is cut short: IEA missing to close interchange 000000777.",
        ),
        (
            X12_PIPES.replace("SE|5|0001", "SE|6|0001"),
            "SE01 says 6 segments but transaction set 0001 (810) has 5.",
        ),
        (
            X12_PIPES.replace("SE|5|0001", "SE|5|0002"),
            "SE02 0002 does not match ST02 0001: a transaction set was cut "
            "short or mixed up.",
        ),
        (
            X12_PIPES.replace("GE|1|77", "GE|2|77"),
            "GE01 says 2 transaction sets but functional group 77 holds 1.",
        ),
        (
            X12_PIPES.replace("IEA|1|000000777", "IEA|1|000000778"),
            "IEA02 000000778 does not match the interchange control number "
            "000000777 in ISA13.",
        ),
        (
            X12_PIPES.replace("SE|5|0001!\n", ""),
            "SE missing: ST 0001 is followed by GE before it is closed.",
        ),
        (
            X12_PIPES[:60],
            "The X12 interchange is cut short: the ISA segment must be 106 "
            "characters long, only 60 arrived.",
        ),
        (
            EDIFACT_ORDERS.replace("UNZ+1+ICR42'", ""),
            "The interchange is cut short: UNZ missing to close interchange ICR42.",
        ),
        (
            EDIFACT_ORDERS.replace("UNT+4+M1", "UNT+3+M1"),
            "UNT01 says 3 segments but message M1 (ORDERS) has 4.",
        ),
        (
            EDIFACT_ORDERS.replace("UNZ+1+ICR42", "UNZ+2+ICR42"),
            "UNZ01 says 2 messages or groups but interchange ICR42 holds 1.",
        ),
        (
            "hello",
            "The document is neither an X12 interchange (starting with ISA) nor "
            "an EDIFACT interchange (starting with UNA or UNB).",
        ),
    ],
)
def test_a_malformed_interchange_is_refused_naming_what_is_wrong(broken, message):
    # when
    with pytest.raises(edi.EdiError) as raised:
        edi.parse(broken)

    # then
    assert raised.value.message.startswith(message)
    assert isinstance(raised.value, PermanentError)


def test_an_interchange_cut_inside_a_transaction_set_names_the_missing_se():
    text = X12_PIPES.split("TDS")[0]

    with pytest.raises(edi.EdiError) as raised:
        edi.parse(text)

    assert raised.value.message == (
        "The interchange is cut short: SE missing for ST 0001."
    )


def test_a_997_acknowledges_each_group_and_transaction_set():
    # given
    received = edi.parse(X12_PIPES)

    # when
    ack = edi.parse(edi.acknowledgement(received, "000000900"))

    # then
    assert (ack.sender, ack.receiver, ack.control_number) == (
        "ZZ:DEMOSUPPLIER",
        "ZZ:DEMORETAILER",
        "000000900",
    )
    assert ack.groups[0].functional_id == "FA"
    assert ack.transactions[0].segments == [
        Segment("AK1", ["IN", "77"]),
        Segment("AK2", ["810", "0001"]),
        Segment("AK5", ["A"]),
        Segment("AK9", ["A", "1", "1", "1"]),
    ]


def test_a_negative_997_is_built_from_the_header_of_a_broken_interchange():
    # given
    envelope = edi.header(X12_PIPES.replace("IEA|1|000000777!\n", ""))

    # when
    ack = edi.parse(edi.acknowledgement(envelope, "000000901", accepted=False))

    # then
    assert ack.receiver == "ZZ:DEMORETAILER"
    assert ack.transactions[0].segments == [
        Segment("AK1", ["PO", "000000777"]),
        Segment("AK9", ["R", "0", "0", "0"]),
    ]


def test_a_contrl_accepts_or_rejects_an_edifact_interchange():
    received = edi.parse(EDIFACT_ORDERS)

    accepted = edi.parse(edi.acknowledgement(received, "9001"))
    rejected = edi.parse(
        edi.acknowledgement(received, "9002", accepted=False, note="UNT01 wrong")
    )

    assert accepted.transactions[0].type == "CONTRL"
    assert accepted.receiver == "ZZ:DEMOSUPPLIER"
    assert accepted.transactions[0].segments[1] == Segment(
        "UCI", ["ICR42", "DEMOSUPPLIER:ZZ", "DEMODIST:ZZZ", "7"]
    )
    assert rejected.transactions[0].segments[1].get(4) == "4"
    assert rejected.transactions[0].segments[2] == Segment(
        "FTX", ["AAO", "", "", "UNT01 wrong"]
    )


def test_the_control_number_is_derived_from_the_key():
    first = edi.control_number("run-7:step-2")

    assert first == edi.control_number("run-7:step-2")
    assert first != edi.control_number("run-8:step-2")
    assert len(first) == 9 and first.isdigit() and first != "000000000"


def test_bare_transaction_sets_are_read_with_the_default_separators():
    transactions = edi.segments_from_text(
        "ST*850*0001~BEG*00*SA*PO-9**20260101~SE*3*0001~\n"
        "ST*850*0002~BEG*00*SA*PO-10**20260101~SE*3*0002~",
        "X12",
    )

    assert [(t.type, t.control_number) for t in transactions] == [
        ("850", "0001"),
        ("850", "0002"),
    ]


def test_bare_segments_with_a_wrong_count_are_refused():
    with pytest.raises(edi.EdiError) as raised:
        edi.segments_from_text("ST*850*0001~BEG*00*SA*PO-9~SE*9*0001~", "X12")

    assert raised.value.message == (
        "SE01 says 9 segments but the transaction set has 3."
    )


def test_an_edi_address_needs_a_qualifier():
    with pytest.raises(PermanentError) as raised:
        edi.build_x12("DEMOSUPPLIER", "ZZ:X", "1", [order()])

    assert raised.value.message == (
        "“DEMOSUPPLIER” is not an EDI address: write it qualifier:ID, e.g. "
        "ZZ:DEMORETAILER."
    )


@pytest.mark.parametrize(
    ("text", "standard"),
    [
        ("ISA*00*", "X12"),
        ("\ufeffUNA:+.? 'UNB", "EDIFACT"),
        ("UNB+UNOC", "EDIFACT"),
        ('<?xml version="1.0"?><Order/>', "XML"),
        ("ST*850", None),
    ],
)
def test_detect(text, standard):
    assert edi.detect(text) == standard
