"""The OpenText Trading Grid connector: exchange EDI documents with trading
partners, talk to them on collaboration threads, find transactions.

How the contract is kept, and why:

- **Safe to repeat a send.** The interchange control number (ISA13 / UNB05,
  and ``controlNumber`` for XML) is derived from the run's idempotency key,
  and the network refuses a control number a sender has used before. A
  retried send therefore carries the number of the first attempt; the
  refusal names the first transaction, which the action reports as its
  result (``duplicate``), so nothing is delivered twice.
- The document is always put in a fresh envelope with our address, the
  partner's address and that control number; a full interchange given as
  input is validated (``edi.parse``) and its transaction sets are kept.
- **Threads** are found by case reference before one is opened; a message
  carries the idempotency key as ``clientReference``, which the network
  de-duplicates per thread [I].
- **Polling** lists the mailbox's new documents and reports each one with
  its parsed envelope; the document stays new until ``acknowledge()``,
  called by the engine after the run that consumed it committed, marks it
  acknowledged. Nothing is kept in the cursor: a document not acknowledged
  is simply offered again on the next poll.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime
from typing import Any

from pydantic import Field, SecretStr, field_validator

from connectors.base import (
    CHECK_TIMEOUT,
    ActionContext,
    ActionResult,
    CheckResult,
    Config,
    Connector,
    Document,
    PollResult,
    TriggerEvent,
    action,
    trigger,
)
from connectors.errors import PermanentError, TransientError
from connectors.http.safety import web_address
from connectors.tradinggrid import edi
from connectors.tradinggrid.client import TradingGridClient
from connectors.tradinggrid.lens import build_query, transactions_out
from connectors.tradinggrid.schemas import (
    AcknowledgementsIn,
    AcknowledgementsOut,
    FetchDocumentsIn,
    FetchDocumentsOut,
    FetchedDocument,
    InboundDocumentEvent,
    MessageOut,
    NewDocumentsIn,
    NotifyPartnersIn,
    NotifyPartnersOut,
    OpenThreadIn,
    PartnerThread,
    PostMessageIn,
    RequestDocumentIn,
    SearchTransactionsIn,
    SearchTransactionsOut,
    SendDocumentIn,
    SendDocumentOut,
    ThreadOut,
    edi_address,
)

MAX_DOCUMENTS_PER_POLL = 50
MAX_ATTACHMENT_BYTES = 5 << 20
TRIGGER = "new_inbound_documents"
EVENT_PREFIX = "tg-doc-"


class TradingGridConfig(Config):
    """Settings of a Trading Grid connection."""

    base_url: str = Field(
        "https://api.grid.opentext.com/",
        title="API address",
        description="https://api.grid.opentext.com/ (beta: "
        "https://apibetagrid.opentext.com/).",
    )
    company_id: str = Field(
        min_length=4,
        max_length=20,
        title="Company ID (BUID)",
        description="Your company's business unit id, e.g. GC00804444LX.",
    )
    edi_address: str = Field(
        title="Our EDI address",
        description="qualifier:ID as partners know you, e.g. ZZ:DEMOSUPPLIER.",
    )
    consumer_key: str = Field(min_length=1, title="Consumer key")
    consumer_secret: SecretStr = Field(title="Consumer secret")
    verify_tls: bool = Field(True, title="Verify TLS certificates")
    mailbox_path: str = Field(
        "mailboxes",
        title="Mailbox API path",
        description="Where the document mailbox API lives below the API address.",
    )
    collaboration_path: str = Field(
        "collaboration/threads", title="Collaboration API path"
    )

    @field_validator("base_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        return web_address(value)

    @field_validator("edi_address")
    @classmethod
    def _address(cls, value: str) -> str:
        return edi_address(value)


class TradingGridConnector(Connector):
    """B2B document exchange over OpenText Trading Grid."""

    key = "tradinggrid"
    label = "Trading Grid"
    category = "b2b"
    description = (
        "Send and receive EDI documents (X12, EDIFACT, XML) with trading "
        "partners on OpenText Trading Grid, and collaborate on cases."
    )
    icon = "route"
    Config = TradingGridConfig
    config: TradingGridConfig

    def __init__(self, config: Config, *, connection_id: int | None = None) -> None:
        super().__init__(config, connection_id=connection_id)
        self.client = TradingGridClient(
            self.config.base_url,
            self.config.company_id,
            self.config.consumer_key,
            self.config.consumer_secret.get_secret_value(),
            mailbox_path=self.config.mailbox_path,
            collaboration_path=self.config.collaboration_path,
            verify=self.config.verify_tls,
        )

    def check(self) -> CheckResult:
        company = self.client.company(timeout=CHECK_TIMEOUT / 2)
        name = company.get("companyName") or self.config.company_id
        return CheckResult(
            f"Signed in to Trading Grid as {name} ({self.config.company_id})."
        )

    # -- Documents --

    @action(
        "send_document",
        "Send a document",
        description="Puts an X12, EDIFACT or XML document in an envelope and "
        "sends it to a trading partner.",
        input=SendDocumentIn,
        output=SendDocumentOut,
    )
    def send_document(
        self, data: SendDocumentIn, context: ActionContext
    ) -> SendDocumentOut:
        text, file_name = _content(data, context)
        control = edi.control_number(context.idempotency_key or secrets.token_hex(16))
        standard, doc_type, payload = self._envelope(text, data, control)
        result, duplicate = self.client.send(
            payload,
            data.receiver_address,
            doc_type,
            file_name=file_name,
            control_number=control if standard == edi.XML else "",
        )
        return SendDocumentOut(
            transaction_id=str(result.get("transactionId") or ""),
            status=str(result.get("status") or ""),
            standard=standard,
            doc_type=doc_type,
            control_number=control,
            receiver_address=data.receiver_address,
            duplicate=duplicate,
        )

    def _envelope(
        self, text: str, data: SendDocumentIn, control: str
    ) -> tuple[str, str, str]:
        """The standard, the document type and the payload to send."""
        standard = edi.detect(text)
        if standard == edi.XML:
            if not data.doc_type:
                raise PermanentError("Say which document type the XML document is.")
            return edi.XML, data.doc_type, text
        if standard is not None:
            interchange = edi.parse(text)
            transactions = interchange.transactions
            version = interchange.groups[0].version if interchange.groups else ""
        else:
            head = text.lstrip()[:3]
            standard = {"ST*": edi.X12, "UNH": edi.EDIFACT}.get(head)
            if standard is None:
                raise PermanentError(
                    "The document is neither X12 (ISA... or ST...), EDIFACT "
                    "(UNA/UNB... or UNH...) nor XML."
                )
            transactions = edi.segments_from_text(text, standard)
            version = ""
        kinds = [t.type for t in transactions]
        doc_type = data.doc_type or kinds[0]
        if doc_type not in kinds:
            raise PermanentError(
                f"The document holds {', '.join(kinds)}, not {doc_type}: check "
                "the document type."
            )
        if standard == edi.X12:
            payload = edi.build_x12(
                self.config.edi_address,
                data.receiver_address,
                control,
                transactions,
                version=version or "004010",
            )
        else:
            payload = edi.build_edifact(
                self.config.edi_address, data.receiver_address, control, transactions
            )
        return standard, doc_type, payload

    @trigger(
        TRIGGER,
        "When a document arrives",
        kind="poll",
        description="One run per new document in the inbound mailbox; it is "
        "acknowledged once the run has finished.",
        input=NewDocumentsIn,
        output=InboundDocumentEvent,
    )
    def new_inbound_documents(
        self, params: NewDocumentsIn, cursor: str | None
    ) -> PollResult:
        wanted = {t.strip().upper() for t in params.doc_types if t.strip()}
        events = []
        for item in self.client.inbound("new", limit=MAX_DOCUMENTS_PER_POLL):
            if wanted and str(item.get("docType", "")).upper() not in wanted:
                continue
            events.append(self._event(item))
        return PollResult(events, cursor)

    def _event(self, item: dict[str, Any]) -> TriggerEvent:
        document_id = str(item["documentId"])
        name = str(item.get("fileName") or f"document-{document_id}.edi")
        download = self.client.content(document_id, name=name)
        raw = download.read()
        payload: dict[str, Any] = {
            "document_id": document_id,
            "transaction_id": str(item.get("transactionId") or ""),
            "file_name": name,
            "standard": str(item.get("editype") or ""),
            "doc_type": str(item.get("docType") or ""),
            "sender": str(item.get("senderAddress") or ""),
            "receiver": str(item.get("receiverAddress") or ""),
            "control_number": str(item.get("controlNumber") or ""),
            "correlation_id": str(item.get("correlationId") or ""),
            "received_at": str(item.get("receivedAt") or ""),
        }
        text = raw.decode("utf-8", errors="replace")
        if edi.detect(text) in (edi.X12, edi.EDIFACT):
            try:
                payload.update(edi.summary(edi.parse(text)))
            except edi.EdiError as problem:
                payload["problem"] = problem.message
        event = InboundDocumentEvent.model_validate(payload)
        data = event.model_dump()
        if "problem" in payload:
            data["problem"] = payload["problem"]
        return TriggerEvent(
            event_id=f"{EVENT_PREFIX}{document_id}",
            payload=data,
            occurred_at=_moment(event.received_at),
            documents=[
                Document.from_bytes(
                    name,
                    raw,
                    media_type=download.media_type,
                    source_ref=f"tradinggrid:{self.config.company_id}:{document_id}",
                )
            ],
        )

    def acknowledge(
        self,
        key: str,
        params: Any,
        event: TriggerEvent,
        *,
        ok: bool,
        reason: str = "",
    ) -> None:
        """Mark the document acknowledged (or failed, with the reason) in the
        mailbox, so it is not offered again. Safe to call twice."""
        if key != TRIGGER or not event.event_id.startswith(EVENT_PREFIX):
            return
        document_id = event.event_id.removeprefix(EVENT_PREFIX)
        self.client.ack(document_id, ok=ok, reason=reason[:2000])

    # -- Collaboration --

    @action(
        "request_document",
        "Request a document from a partner",
        description="Asks a partner for a document on the collaboration thread "
        "of the reference (opened when needed).",
        input=RequestDocumentIn,
        output=MessageOut,
    )
    def request_document(
        self, data: RequestDocumentIn, context: ActionContext
    ) -> MessageOut:
        thread = self._thread(
            data.partner_address,
            f"Request for {data.doc_type} {data.reference}",
            f"REQ-{data.doc_type}-{data.reference}",
        )
        text = data.text or (f"Please send the {data.doc_type} for {data.reference}.")
        message = self.client.post_message(
            str(thread["threadId"]),
            text,
            requested_doc_type=data.doc_type,
            client_reference=context.idempotency_key,
        )
        return _message_out(thread, message)

    @action(
        "open_thread",
        "Open a collaboration thread",
        description="Opens the thread of a case with a partner, or finds it.",
        input=OpenThreadIn,
        output=ThreadOut,
    )
    def open_thread(self, data: OpenThreadIn, context: ActionContext) -> ThreadOut:
        reference = data.case_reference or context.idempotency_key[:100]
        thread = self._thread(data.partner_address, data.subject, reference)
        message_id = ""
        if data.text:
            message = self.client.post_message(
                str(thread["threadId"]),
                data.text,
                client_reference=context.idempotency_key,
            )
            message_id = str(message.get("messageId") or "")
        return ThreadOut(
            thread_id=str(thread["threadId"]),
            subject=str(thread.get("subject") or ""),
            case_reference=str(thread.get("caseReference") or ""),
            status=str(thread.get("status") or ""),
            partner_address=str(thread.get("partnerAddress") or ""),
            message_id=message_id,
        )

    def _thread(self, partner: str, subject: str, reference: str) -> dict[str, Any]:
        if reference:
            for thread in self.client.find_threads(reference):
                if str(thread.get("partnerAddress", "")).upper() == partner.upper():
                    return thread
        return self.client.open_thread(partner, subject, reference)

    @action(
        "post_message",
        "Post to a collaboration thread",
        description="Posts a message (with the run's documents) and may close "
        "or reopen the thread.",
        input=PostMessageIn,
        output=MessageOut,
    )
    def post_message(self, data: PostMessageIn, context: ActionContext) -> MessageOut:
        attachments = (
            [_attachment(d) for d in context.documents] if data.attach_documents else []
        )
        message = self.client.post_message(
            data.thread_id,
            data.text,
            attachments=attachments,
            client_reference=context.idempotency_key,
        )
        thread = (
            self.client.set_thread_status(data.thread_id, data.status)
            if data.status
            else self.client.thread(data.thread_id)
        )
        return _message_out(thread, message)

    @action(
        "fetch_documents",
        "Collect what a partner sent",
        description="Hands the documents the partner attached on a thread to "
        "the next steps; waits (and looks again later) while there are none.",
        input=FetchDocumentsIn,
        output=FetchDocumentsOut,
    )
    def fetch_documents(
        self, data: FetchDocumentsIn, context: ActionContext
    ) -> ActionResult:
        thread = self.client.thread(data.thread_id)
        partner = str(thread.get("partnerAddress") or "")
        files, documents = [], []
        for message in thread.get("messages") or []:
            if str(message.get("author") or "").upper() != partner.upper():
                continue
            for item in message.get("attachments") or []:
                name = str(item.get("fileName") or "attachment")
                documents.append(
                    self.client.attachment(
                        data.thread_id,
                        str(message["messageId"]),
                        int(item.get("index", len(files))),
                        name,
                    )
                )
                files.append(
                    FetchedDocument(
                        file_name=name,
                        media_type=str(item.get("mediaType") or ""),
                        size=int(item.get("size") or 0),
                        message_id=str(message["messageId"]),
                    )
                )
        if not documents:
            raise TransientError(
                f"{partner} has not sent anything on “{thread.get('subject')}” "
                "yet: the step will look again later.",
                retry_after=300.0,
            )
        out = FetchDocumentsOut(
            thread_id=data.thread_id,
            case_reference=str(thread.get("caseReference") or ""),
            partner_address=partner,
            files=files,
        )
        return ActionResult(out, documents)

    @action(
        "notify_partners",
        "Notify several partners",
        description="Posts the same message to each partner, on one thread per "
        "partner for the case (a recall, a quality incident).",
        input=NotifyPartnersIn,
        output=NotifyPartnersOut,
    )
    def notify_partners(
        self, data: NotifyPartnersIn, context: ActionContext
    ) -> NotifyPartnersOut:
        threads = []
        for partner in data.partner_addresses:
            thread = self._thread(partner, data.subject, data.case_reference)
            message = self.client.post_message(
                str(thread["threadId"]),
                data.text,
                client_reference=f"{context.idempotency_key}:{partner}"[:100],
            )
            threads.append(
                PartnerThread(
                    partner_address=partner,
                    thread_id=str(thread["threadId"]),
                    message_id=str(message.get("messageId") or ""),
                    acknowledged=bool(message.get("partnerAcknowledged")),
                )
            )
        return NotifyPartnersOut(case_reference=data.case_reference, threads=threads)

    @action(
        "acknowledgements",
        "Check who acknowledged",
        description="For a case, which partners have read our last message on "
        "their thread and which have not yet.",
        input=AcknowledgementsIn,
        output=AcknowledgementsOut,
    )
    def acknowledgements(
        self, data: AcknowledgementsIn, context: ActionContext
    ) -> AcknowledgementsOut:
        done, pending = [], []
        for found in self.client.find_threads(data.case_reference):
            thread = self.client.thread(str(found["threadId"]))
            partner = str(thread.get("partnerAddress") or "")
            ours = [
                m
                for m in thread.get("messages") or []
                if str(m.get("author") or "").upper() != partner.upper()
            ]
            if not ours:
                continue
            (done if ours[-1].get("partnerAcknowledged") else pending).append(partner)
        if not done and not pending:
            raise PermanentError(
                f"No partner was notified about “{data.case_reference}”."
            )
        total = len(done) + len(pending)
        summary = f"{len(done)} of {total} partners acknowledged"
        if pending:
            summary += "; waiting for " + ", ".join(pending)
        return AcknowledgementsOut(
            case_reference=data.case_reference,
            acknowledged=done,
            pending=pending,
            all_acknowledged=not pending,
            summary=summary,
        )

    # -- Lens --

    @action(
        "search_transactions",
        "Search transactions",
        description="Finds transactions in Lens by text, type, partner or key "
        "field (PO, invoice, shipment number).",
        input=SearchTransactionsIn,
        output=SearchTransactionsOut,
    )
    def search_transactions(
        self, data: SearchTransactionsIn, context: ActionContext
    ) -> SearchTransactionsOut:
        found = self.client.search(build_query(data))
        return SearchTransactionsOut(
            count=int(found.get("count") or 0),
            total=int(found.get("total") or 0),
            offset=int(found.get("offset") or 0),
            transactions=transactions_out(found.get("transactions") or []),
        )


def _moment(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def _content(data: SendDocumentIn, context: ActionContext) -> tuple[str, str]:
    if data.content:
        return data.content, data.file_name
    if not context.documents:
        raise PermanentError(
            "There is nothing to send: give the content, or run the action on "
            "a document."
        )
    document = context.documents[0]
    raw = document.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # X12 basic character set is a subset
    return text, data.file_name or document.name


def _attachment(document: Document) -> dict[str, str]:
    raw = b"".join(document)
    if len(raw) > MAX_ATTACHMENT_BYTES:
        raise PermanentError(
            f"{document.name} is larger than the 5 MB a collaboration message "
            "may carry."
        )
    return {
        "fileName": document.name,
        "mediaType": document.media_type,
        "content": base64.b64encode(raw).decode(),
    }


def _message_out(thread: dict[str, Any], message: dict[str, Any]) -> MessageOut:
    return MessageOut(
        thread_id=str(thread.get("threadId") or ""),
        message_id=str(message.get("messageId") or ""),
        partner_acknowledged=bool(message.get("partnerAcknowledged")),
        thread_status=str(thread.get("status") or ""),
        attachments=[str(a.get("fileName")) for a in message.get("attachments") or []],
    )
