"""Routing: a document sent from one company's outbound mailbox lands in its
partner's inbound mailbox, recorded as a transaction Lens can find.

The rules a real network applies, kept small:

- the receiver address must be a trading partner of the sender (else 404
  ``PARTNER_NOT_FOUND``);
- an X12 or EDIFACT interchange is parsed and validated; a malformed one is
  recorded as Rejected, not routed, and the sender gets a negative
  functional acknowledgement (997 ``AK9*R`` / CONTRL action 4);
- the envelope's sender and receiver must be the mailbox owner and the
  receiver address [I];
- a control number a sender has used before for the same standard is
  refused (409 ``DUPLICATE_INTERCHANGE`` naming the first transaction), so
  a retried send is never delivered twice;
- every routed interchange is acknowledged (997 / CONTRL) back to the sender,
  and the scripted demo partners may answer (``partners``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from connectors.tradinggrid import edi
from connectors.tradinggrid.emulator.responses import ApiError
from connectors.tradinggrid.emulator.state import (
    COMPANIES,
    PARTNERS,
    Company,
    company_by_address,
)
from connectors.tradinggrid.sandbox.models import TgMailboxDocument, TgTransaction

ACK_TYPES = {"997", "CONTRL"}


@dataclass
class Outbound:
    """What a company asked the network to send."""

    payload: str
    receiver_address: str
    doc_type: str = ""
    file_name: str = ""
    control_number: str = ""  # for XML, which has no envelope [I]


def deliver(
    sender: Company,
    receiver: Company,
    payload: str,
    *,
    editype: str,
    doc_type: str,
    control: str,
    keys: dict[str, str] | None = None,
    correlation: str = "",
    file_name: str = "",
) -> TgTransaction:
    """Record a Delivered transaction and put it in the receiver's mailbox."""
    now = timezone.now()
    record = TgTransaction.objects.create(
        transaction_id=f"TX{uuid.uuid4().hex[:18].upper()}",
        sender_company=sender.id,
        receiver_company=receiver.id,
        sender_address=sender.address,
        receiver_address=receiver.address,
        sender_name=sender.name,
        receiver_name=receiver.name,
        editype=editype,
        doc_type=doc_type,
        control_number=control,
        status=TgTransaction.Status.DELIVERED,
        correlation_id=correlation,
        content_keys=keys or {},
        file_name=file_name or f"{doc_type}_{control or 'document'}.txt",
        payload=payload,
        arrival_time=now,
    )
    TgMailboxDocument.objects.create(
        mailbox=receiver.id, transaction=record, created=now
    )
    return record


def send(sender: Company, outbound: Outbound) -> TgTransaction:
    """Route ``outbound``; raises ApiError for what the network refuses."""
    receiver = company_by_address(outbound.receiver_address)
    if receiver is None or receiver.id not in PARTNERS[sender.id]:
        raise ApiError(
            404,
            f"No trading partner has the address {outbound.receiver_address}: "
            "check the partner directory.",
            "PARTNER_NOT_FOUND",
        )
    standard = edi.detect(outbound.payload)
    if standard is None:
        raise ApiError(
            415,
            "The payload is neither X12, EDIFACT nor XML.",
            "UNSUPPORTED_FORMAT",
        )
    if standard == edi.XML:
        return _send_xml(sender, receiver, outbound)
    try:
        interchange = edi.parse(outbound.payload)
    except edi.EdiError as problem:
        rejected = _reject(sender, receiver, outbound, standard, problem.message)
        raise ApiError(
            400,
            f"The interchange was rejected: {problem.message}",
            "MALFORMED_INTERCHANGE",
            transactionId=rejected.transaction_id,
        ) from None
    _check_envelope(sender, receiver, interchange, outbound)
    kind = interchange.transactions[0].type if interchange.transactions else ""
    keys: dict[str, str] = {}
    for item in interchange.transactions:
        for name, value in edi.key_fields(item).items():
            keys.setdefault(name, value)
    with transaction.atomic():
        _refuse_repeat(sender, standard, interchange.control_number)
        try:
            with transaction.atomic():
                record = deliver(
                    sender,
                    receiver,
                    outbound.payload,
                    editype=standard,
                    doc_type=kind,
                    control=interchange.control_number,
                    keys=keys,
                    file_name=outbound.file_name,
                )
        except IntegrityError:
            _refuse_repeat(sender, standard, interchange.control_number)
            raise
        if kind not in ACK_TYPES:
            _acknowledge(receiver, sender, interchange, record)
            from connectors.tradinggrid.emulator import partners

            partners.react(record, interchange)
    return record


def _check_envelope(
    sender: Company, receiver: Company, interchange: edi.Interchange, outbound: Outbound
) -> None:
    if interchange.sender.upper() != sender.address.upper():
        raise ApiError(
            400,
            f"The envelope names the sender {interchange.sender}, but this mailbox "
            f"sends as {sender.address}.",
            "SENDER_MISMATCH",
        )
    if interchange.receiver.upper() != receiver.address.upper():
        raise ApiError(
            400,
            f"The envelope is addressed to {interchange.receiver}, not to "
            f"receiverAddress {receiver.address}.",
            "RECEIVER_MISMATCH",
        )
    kinds = {t.type for t in interchange.transactions}
    if outbound.doc_type and outbound.doc_type not in kinds:
        raise ApiError(
            400,
            f"docType {outbound.doc_type} does not match the interchange, which "
            f"holds {', '.join(sorted(kinds)) or 'no transaction'}.",
            "DOCTYPE_MISMATCH",
        )


def _refuse_repeat(sender: Company, standard: str, control: str) -> None:
    if not control:
        return
    first = TgTransaction.objects.filter(
        sender_address=sender.address, editype=standard, control_number=control
    ).first()
    if first is not None:
        raise ApiError(
            409,
            f"Interchange control number {control} was already used by "
            f"{sender.address} (transaction {first.transaction_id}).",
            "DUPLICATE_INTERCHANGE",
            transactionId=first.transaction_id,
        )


def _send_xml(sender: Company, receiver: Company, outbound: Outbound) -> TgTransaction:
    if not outbound.doc_type:
        raise ApiError(400, "docType is required for an XML document.", "BAD_REQUEST")
    with transaction.atomic():
        _refuse_repeat(sender, edi.XML, outbound.control_number)
        return deliver(
            sender,
            receiver,
            outbound.payload,
            editype=edi.XML,
            doc_type=outbound.doc_type,
            control=outbound.control_number,
            file_name=outbound.file_name,
        )


def _reject(
    sender: Company, receiver: Company, outbound: Outbound, standard: str, why: str
) -> TgTransaction:
    """Record the rejection and send the negative acknowledgement."""
    record = TgTransaction.objects.create(
        transaction_id=f"TX{uuid.uuid4().hex[:18].upper()}",
        sender_company=sender.id,
        receiver_company=receiver.id,
        sender_address=sender.address,
        receiver_address=receiver.address,
        sender_name=sender.name,
        receiver_name=receiver.name,
        editype=standard,
        doc_type=outbound.doc_type,
        control_number="",  # a corrected resend may reuse the number
        status=TgTransaction.Status.REJECTED,
        error_code="MALFORMED_INTERCHANGE",
        error_message=why,
        file_name=outbound.file_name,
        payload=outbound.payload,
        arrival_time=timezone.now(),
    )
    envelope = edi.header(outbound.payload)
    if envelope is not None:
        control = edi.control_number(f"nak:{record.transaction_id}")
        payload = edi.acknowledgement(envelope, control, accepted=False, note=why)
        deliver(
            receiver,
            sender,
            payload,
            editype=standard,
            doc_type="997" if standard == edi.X12 else "CONTRL",
            control=control,
            correlation=record.transaction_id,
        )
    return record


def _acknowledge(
    receiver: Company,
    sender: Company,
    interchange: edi.Interchange,
    record: TgTransaction,
) -> None:
    control = edi.control_number(f"ack:{record.transaction_id}")
    deliver(
        receiver,
        sender,
        edi.acknowledgement(interchange, control),
        editype=interchange.standard,
        doc_type="997" if interchange.standard == edi.X12 else "CONTRL",
        control=control,
        correlation=record.transaction_id,
    )


def reply(
    sender_id: str, receiver_id: str, payload: str, correlation: str
) -> TgTransaction:
    """A scripted partner's own interchange, already built and valid."""
    interchange = edi.parse(payload)
    keys: dict[str, str] = {}
    for item in interchange.transactions:
        keys.update(edi.key_fields(item))
    return deliver(
        COMPANIES[sender_id],
        COMPANIES[receiver_id],
        payload,
        editype=interchange.standard,
        doc_type=interchange.transactions[0].type,
        control=interchange.control_number,
        keys=keys,
        correlation=correlation,
    )
