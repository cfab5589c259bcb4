"""The OpenText Exstream connector: generate customer communications, run
batches, govern templates and hear about deliveries.

Assumptions where the documentation is silent, and why:

- **Waiting for a batch job** polls the job (sandbox-only endpoint [I])
  every ``poll_seconds`` for at most ``wait_seconds``; a job still running
  then raises TransientError, so the engine retries the step later instead
  of a worker sleeping for minutes. The retry sends the same
  ``Idempotency-Key`` [I], so it finds the same job rather than starting a
  second one (on an Exstream that ignores the header, a retry would submit
  again).
- **Generating** asks for ``Accept: application/pdf`` and holds the PDF in
  memory: on-demand documents are small, and the answer is one body.
- **Delivery events** are signed by the sender with ``X-Exstream-Signature:
  sha256=<hex HMAC-SHA256(secret, "{X-Exstream-Timestamp}.{body}")>`` [I]
  (the sandbox's scheme; no public Exstream event API is known); deliveries
  older than 5 minutes are refused as possible replays; the event id is
  the body's ``eventId``, so a repeated delivery is dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator

from connectors.base import (
    CHECK_TIMEOUT,
    ActionContext,
    ActionResult,
    CheckResult,
    Config,
    Connector,
    Document,
    Empty,
    InboundRequest,
    TriggerEvent,
    action,
    describe_errors,
    trigger,
)
from connectors.errors import AuthError, PermanentError, TransientError
from connectors.exstream.client import ExstreamClient, token_url
from connectors.exstream.schemas import (
    CommunicationOut,
    DeliveryEvent,
    FetchedFile,
    FetchOutputsIn,
    FetchOutputsOut,
    GenerateIn,
    GenerateOut,
    JobOut,
    JobOutput,
    ListCommunicationsIn,
    ListCommunicationsOut,
    SetStateIn,
    SubmitBatchIn,
    UpdateContentBlockIn,
)
from connectors.http.safety import web_address

SIGNATURE_HEADER = "x-exstream-signature"
TIMESTAMP_HEADER = "x-exstream-timestamp"
EVENT_ID_HEADER = "x-exstream-event-id"
TOLERANCE_SECONDS = 5 * 60
RUNNING = ("QUEUED", "RUNNING")


class ExstreamConfig(Config):
    """Settings of an Exstream connection."""

    base_url: str = Field(
        title="Exstream address",
        description="Where Exstream answers, e.g. https://exstream.example.com/ "
        "(the orchestration and design APIs lie below it).",
    )
    otds_url: str = Field(
        "",
        title="OTDS address",
        description="OpenText Directory Services, e.g. https://otds.example.com/; "
        "empty: the Exstream address.",
    )
    tenant: str = Field(
        "", title="OTDS tenant", description="Only for tenant deployments."
    )
    client_id: str = Field(title="Service client id", min_length=1)
    client_secret: SecretStr = Field(title="Service client secret")
    client_auth: Literal["body", "basic"] = Field(
        "body",
        title="Send the client secret",
        description="In the form body (OTDS's usual way) or in a Basic header.",
    )
    domain: str = Field(
        "default", title="Domain", min_length=1, pattern=r"^[A-Za-z0-9_.-]+$"
    )
    driver_data_source: str = Field(
        "",
        title="Driver data source",
        description="The production data source name (prodDsn) sent as the "
        "driverDataSource header; empty: not sent.",
    )
    wait_seconds: int = Field(
        30,
        title="Wait for a batch job at most (seconds)",
        description="After that, the step is tried again later.",
        ge=0,
        le=600,
    )
    poll_seconds: float = Field(
        2.0, title="Check a batch job every (seconds)", ge=0.1, le=60
    )
    webhook_secret: SecretStr | None = Field(
        None,
        title="Delivery event secret",
        description="The secret delivery events are signed with.",
    )
    verify_tls: bool = Field(
        True,
        title="Verify TLS certificates",
        description="Turn off only for a test system with a self-signed certificate.",
    )

    @field_validator("base_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        return web_address(value)

    @field_validator("otds_url")
    @classmethod
    def _otds_address(cls, value: str) -> str:
        return web_address(value) if value else value


class ExstreamConnector(Connector):
    """Customer communications in OpenText Exstream over its REST APIs."""

    key = "exstream"
    label = "Exstream"
    category = "output"
    description = (
        "Generate letters and statements from OpenText Exstream templates, "
        "run batches and follow their delivery."
    )
    icon = "file-text"
    Config = ExstreamConfig
    config: ExstreamConfig

    def __init__(self, config: Config, *, connection_id: int | None = None) -> None:
        super().__init__(config, connection_id=connection_id)
        self._client: ExstreamClient | None = None
        self._sleep = time.sleep  # tests may replace it

    @property
    def client(self) -> ExstreamClient:
        if self._client is None:
            self._client = self._new_client()
        return self._client

    def _new_client(self, timeout: float | None = None) -> ExstreamClient:
        config = self.config
        return ExstreamClient(
            config.base_url,
            token_url(config.otds_url or config.base_url, config.tenant),
            config.client_id,
            config.client_secret.get_secret_value(),
            domain=config.domain,
            driver_data_source=config.driver_data_source,
            client_auth=config.client_auth,
            verify=config.verify_tls,
            timeout=timeout,
        )

    def check(self) -> CheckResult:
        client = self._new_client(timeout=CHECK_TIMEOUT / 2)
        try:
            client.token()
            version = client.version()
        finally:
            client.close()
        host = urlsplit(self.config.base_url).hostname or self.config.base_url
        return CheckResult(
            f"Signed in to OTDS as {self.config.client_id}; Exstream "
            f"{version.get('versionString', '(unknown version)')} reachable at {host}"
        )

    # -- Actions --

    @action(
        "generate",
        "Generate a document",
        description="Render one customer's document from an approved "
        "communication; the PDF goes to the next steps.",
        input=GenerateIn,
        output=GenerateOut,
    )
    def generate(self, data: GenerateIn, context: ActionContext) -> ActionResult:
        body, content_type = _driver_data(data.data, data.data_xml)
        pdf, name = self.client.generate_pdf(
            data.communication_id,
            body,
            content_type,
            idempotency_key=_key(context, "generate"),
        )
        name = data.file_name or name or f"{data.communication_id}.pdf"
        document = Document.from_bytes(
            name,
            pdf,
            media_type="application/pdf",
            source_ref=f"exstream:communication/{data.communication_id}",
        )
        out = GenerateOut(
            file_name=name,
            media_type="application/pdf",
            size=len(pdf),
            sha256=hashlib.sha256(pdf).hexdigest(),
            communication_id=data.communication_id,
        )
        return ActionResult(out, [document])

    @action(
        "submit_batch",
        "Run a batch",
        description="Submit customer records to a batch service and wait for "
        "the job; a long job is checked again later.",
        input=SubmitBatchIn,
        output=JobOut,
    )
    def submit_batch(self, data: SubmitBatchIn, context: ActionContext) -> JobOut:
        body, content_type = _driver_data(data.records or None, data.data_xml)
        job_id = self.client.submit_batch(
            data.service_name,
            body,
            content_type,
            communication_id=data.communication_id,
            idempotency_key=_key(context, "batch"),
        )
        wait = (
            self.config.wait_seconds if data.wait_seconds is None else data.wait_seconds
        )
        return self._wait(job_id, wait)

    def _wait(self, job_id: str, wait: float) -> JobOut:
        deadline = time.monotonic() + wait
        poll = self.config.poll_seconds
        while True:
            job = self.client.job(job_id)
            status = str(job.get("status") or "")
            if status == "COMPLETED":
                return _job_out(job_id, job)
            if status == "FAILED":
                raise _job_failed(job_id, job)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TransientError(
                    f"Exstream is still working on batch job {job_id} ({status}): "
                    "the step will check again later.",
                    detail=f"waited {wait:g} s",
                    retry_after=max(poll, 5.0),
                )
            self._sleep(min(poll, left))

    @action(
        "fetch_outputs",
        "Fetch batch outputs",
        description="Hand the files of a completed batch job to the next steps.",
        input=FetchOutputsIn,
        output=FetchOutputsOut,
    )
    def fetch_outputs(
        self, data: FetchOutputsIn, context: ActionContext
    ) -> ActionResult:
        job = self.client.job(data.job_id)
        status = str(job.get("status") or "")
        if status in RUNNING:
            raise TransientError(
                f"Exstream batch job {data.job_id} is {status}: its files are "
                "not ready yet.",
                retry_after=max(self.config.poll_seconds, 5.0),
            )
        if status == "FAILED":
            raise _job_failed(data.job_id, job)
        wanted = data.queue_name.upper()
        files, documents = [], []
        for output in _job_out(data.job_id, job).outputs:
            if wanted and output.queue_name != wanted:
                continue
            document = self.client.download_output(
                data.job_id, output.id, output.file_name
            )
            documents.append(document)
            files.append(
                FetchedFile(
                    file_name=output.file_name,
                    queue_name=output.queue_name,
                    customer_number=output.customer_number,
                    size=document.declared_size,
                )
            )
        return ActionResult(FetchOutputsOut(job_id=data.job_id, files=files), documents)

    @action(
        "update_content_block",
        "Update a content block",
        description="Change governed text of a communication; it goes back to "
        "DRAFT (or REVIEW) and must be approved again before it generates.",
        input=UpdateContentBlockIn,
        output=CommunicationOut,
    )
    def update_content_block(
        self, data: UpdateContentBlockIn, context: ActionContext
    ) -> CommunicationOut:
        resource = self.client.update_content_block(
            data.communication_id, data.block, data.content, data.submit_for_review
        )
        return _communication(resource)

    @action(
        "set_state",
        "Approve or reject a communication",
        description="Move a communication along its workflow: submit a draft "
        "for review, approve it so that it generates, or reject it.",
        input=SetStateIn,
        output=CommunicationOut,
    )
    def set_state(self, data: SetStateIn, context: ActionContext) -> CommunicationOut:
        return _communication(self.client.set_state(data.communication_id, data.state))

    @action(
        "list_communications",
        "List communications",
        description="The communications (templates), optionally in one workflow state.",
        input=ListCommunicationsIn,
        output=ListCommunicationsOut,
    )
    def list_communications(
        self, data: ListCommunicationsIn, context: ActionContext
    ) -> ListCommunicationsOut:
        found: list[CommunicationOut] = []
        offset, total = 0, 0
        while len(found) < data.max_items:
            page = self.client.communications(data.state, data.page_size, offset)
            items = page.get("data") or []
            total = int(page.get("total") or 0)
            found += [_communication(item) for item in items]
            offset += len(items)
            if not items or offset >= total:
                break
        return ListCommunicationsOut(
            communications=found[: data.max_items], total=total
        )

    # -- Trigger --

    @trigger(
        "receive",
        "When a delivery event arrives",
        kind="webhook",
        description="Runs once per delivered, bounced or viewed event.",
        output=DeliveryEvent,
    )
    def receive_event(
        self, params: Empty, request: InboundRequest
    ) -> list[TriggerEvent]:
        headers = {name.lower(): value for name, value in request.headers.items()}
        self._verify(request.body, headers)
        try:
            body = json.loads(request.body)
        except ValueError:
            raise PermanentError("The delivery event is not valid JSON.") from None
        if not isinstance(body, dict):
            raise PermanentError("The delivery event must be a JSON object.")
        try:
            event = DeliveryEvent(
                event=str(body.get("eventType") or "").lower(),
                communication=str(body.get("communicationId") or ""),
                channel=str(body.get("channel") or ""),
                recipient=str(body.get("recipient") or ""),
                occurred_at=body.get("occurredAt"),
            )
        except ValidationError as error:
            raise PermanentError(
                f"The delivery event is not valid: {describe_errors(error)}"
            ) from None
        event_id = str(body.get("eventId") or headers.get(EVENT_ID_HEADER) or "")
        if not event_id:
            raise PermanentError("The delivery event has no eventId.")
        return [
            TriggerEvent(
                event_id=f"exstream:{event_id}",
                payload=event.model_dump(mode="json"),
                occurred_at=event.occurred_at,
            )
        ]

    def _verify(self, body: bytes, headers: dict[str, str]) -> None:
        secret = self.config.webhook_secret
        if secret is None or not secret.get_secret_value():
            raise AuthError(
                "This connection has no delivery event secret: enter the secret "
                "the events are signed with."
            )
        signature = headers.get(SIGNATURE_HEADER, "")
        timestamp = headers.get(TIMESTAMP_HEADER, "")
        if not signature or not timestamp:
            raise AuthError(
                "The delivery event is not signed: it has no X-Exstream-Signature "
                "or X-Exstream-Timestamp header."
            )
        try:
            age = time.time() - float(timestamp)
        except ValueError:
            raise AuthError(
                "The X-Exstream-Timestamp header is not a Unix time."
            ) from None
        if abs(age) > TOLERANCE_SECONDS:
            raise AuthError(
                "The delivery event is dated more than 5 minutes away from now: "
                "it may be a replay, or the sender's clock is wrong."
            )
        message = timestamp.encode() + b"." + body
        expected = hmac.new(
            secret.get_secret_value().encode(), message, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(signature.encode(), f"sha256={expected}".encode()):
            raise AuthError(
                "The signature of the delivery event does not match: the sender "
                "does not know this connection's secret."
            )


# --- Helpers ---------------------------------------------------------------------


def _key(context: ActionContext, action: str) -> str:
    return f"{context.idempotency_key}:{action}" if context.idempotency_key else ""


def _driver_data(data: Any, xml: str) -> tuple[bytes, str]:
    if xml:
        return xml.encode(), "application/xml"
    return json.dumps(data).encode(), "application/json"


def _job_out(job_id: str, job: dict[str, Any]) -> JobOut:
    outputs = [
        JobOutput(
            id=str(item.get("id")),
            file_name=str(item.get("fileName") or item.get("id")),
            queue_name=str(item.get("queueName") or ""),
            customer_number=item.get("customerNumber"),
        )
        for item in job.get("outputs") or []
        if isinstance(item, dict)
    ]
    return JobOut(job_id=job_id, status=job.get("status", "COMPLETED"), outputs=outputs)


def _job_failed(job_id: str, job: dict[str, Any]) -> PermanentError:
    errors = [
        str(item.get("errorMessage"))
        for item in job.get("errors") or []
        if isinstance(item, dict) and item.get("errorMessage")
    ]
    reason = f": {errors[0]}" if errors else "."
    more = f" ({len(errors) - 1} more errors)" if len(errors) > 1 else ""
    return PermanentError(
        f"Exstream batch job {job_id} failed{reason}{more}",
        detail="; ".join(errors)[:2000],
    )


def _communication(resource: dict[str, Any]) -> CommunicationOut:
    return CommunicationOut(
        id=str(resource.get("id")),
        name=str(resource.get("name") or ""),
        state=resource.get("state"),
        version=int(resource.get("version") or 1),
        required_fields=list(resource.get("requiredFields") or []),
        channels=[
            str(queue.get("name")) if isinstance(queue, dict) else str(queue)
            for queue in resource.get("queues") or []
        ],
    )
