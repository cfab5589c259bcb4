"""On-demand generation, batch submission and (sandbox-only) batch jobs.

- ``POST orchestration/api/v1/inputs/ondemand/<domain>/generate`` [V]:
  headers ``communicationId`` and ``driverDataSource`` (accepted, not
  checked [I]); the body is one customer record in JSON or XML. With
  ``Accept: application/pdf`` the answer is the PDF itself, otherwise
  ``{"data": [{fileName, fileExtension, content, engineOutputContext}]}``
  with one item per output queue of the communication.
- ``POST orchestration/api/v1/inputs/batch/<domain>/<ServiceName>`` [O]:
  the service name selects the communication (a ``communicationId`` header
  wins [I]); the body holds one or more records; the answer is
  ``{"data": [{"jobId", "id"}]}``.
- ``GET orchestration/api/v1/jobs/<jobId>`` and
  ``GET orchestration/api/v1/jobs/<jobId>/outputs/<outputId>``: SANDBOX
  ONLY [I]; no public job API is known. The status is computed from the
  clock: QUEUED, RUNNING, then COMPLETED, or FAILED when a record lacked a
  required field.

Problems with the communication or the driver data answer error items:
400 for unreadable data or a missing field, 404 for an unknown
communication, 409 for one that is not APPROVED.

An ``Idempotency-Key`` header [I] makes a repeat of the same request get
the stored answer (the same document, the same job); the same key with a
different request is refused with 422.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from connectors.exstream.emulator import driverdata, render, state
from connectors.exstream.emulator.responses import ItemError, ServerError, api
from connectors.exstream.sandbox.models import (
    CommunicationState,
    ExstreamCommunication,
    ExstreamIdempotentAnswer,
    ExstreamJob,
)

PDF = "application/pdf"


def communication(header: str | None, service_name: str = "") -> ExstreamCommunication:
    """The communication asked for, if it may generate; else an error item."""
    found = None
    if header:
        try:
            found = ExstreamCommunication.objects.filter(id=uuid.UUID(header)).first()
        except ValueError:
            found = None
        if found is None:
            raise ItemError(404, f"No communication with id {header} exists.")
    elif service_name:
        found = ExstreamCommunication.objects.filter(service_name=service_name).first()
        if found is None:
            raise ItemError(404, f"No service named {service_name} exists.")
    else:
        raise ItemError(400, "The communicationId header is required.")
    if found.state != CommunicationState.APPROVED:
        raise ItemError(
            409,
            f"The communication “{found.name}” is in state {found.state}: only "
            "APPROVED communications can generate.",
        )
    return found


def snapshot(found: ExstreamCommunication) -> dict[str, Any]:
    return {
        "id": str(found.id),
        "name": found.name,
        "version": found.version,
        "content_blocks": dict(found.content_blocks),
        "queues": list(found.queues),
    }


def _records(request: HttpRequest) -> list[dict[str, Any]]:
    try:
        return driverdata.parse(request.body, request.content_type or "")
    except driverdata.DriverDataError as problem:
        raise ItemError(400, problem.message) from None


def _output_item(output: render.Output, customer: Any) -> dict[str, Any]:
    return {
        "fileName": output.file_name,
        "fileExtension": output.extension,
        "content": base64.b64encode(output.content).decode(),
        "engineOutputContext": {
            "queueName": output.queue,
            "fileName": output.file_name,
            "customerNumber": None if customer is None else str(customer),
        },
    }


@api("POST")
def generate(request: HttpRequest, domain: str) -> HttpResponse:
    """Render one record now."""
    found = communication(request.headers.get("communicationId"))

    def produce() -> HttpResponse:
        records = _records(request)
        if len(records) != 1:
            raise ItemError(
                400,
                f"On-demand generation takes one customer record; the driver "
                f"data holds {len(records)}.",
            )
        record = records[0]
        try:
            driverdata.check_required(record, list(found.required_fields))
        except driverdata.DriverDataError as problem:
            raise ItemError(400, problem.message, problem.customer_number) from None
        outputs = render.render(snapshot(found), record)
        customer = record.get("customerNumber")
        if PDF in request.headers.get("Accept", ""):
            pdf = next(o for o in outputs if o.media_type == PDF)
            response = HttpResponse(pdf.content, content_type=PDF)
            response["Content-Disposition"] = f'attachment; filename="{pdf.file_name}"'
            return response
        return JsonResponse({"data": [_output_item(o, customer) for o in outputs]})

    return _idempotent(request, produce)


@api("POST")
def batch(request: HttpRequest, domain: str, service_name: str) -> HttpResponse:
    """Queue a job over every record of the driver data."""
    found = communication(request.headers.get("communicationId"), service_name)

    def produce() -> HttpResponse:
        records = _records(request)
        errors = []
        for record in records:
            try:
                driverdata.check_required(record, list(found.required_fields))
            except driverdata.DriverDataError as problem:
                errors.append(
                    {
                        "errorMessage": problem.message,
                        "statusCode": 400,
                        "engineOutputContext": {
                            "queueName": None,
                            "fileName": None,
                            "customerNumber": problem.customer_number,
                        },
                    }
                )
        now = timezone.now()
        job = ExstreamJob.objects.create(
            job_id=str(uuid.uuid4()),
            communication_id=found.id,
            snapshot=snapshot(found),
            records=records,
            errors=errors,
            created=now,
            ready_at=now + timedelta(seconds=state.job_seconds()),
        )
        return JsonResponse({"data": [{"jobId": job.job_id, "id": str(uuid.uuid4())}]})

    return _idempotent(request, produce)


def job_status(job: ExstreamJob) -> str:
    now = timezone.now()
    if now >= job.ready_at:
        return "FAILED" if job.errors else "COMPLETED"
    if now < job.created + (job.ready_at - job.created) / 3:
        return "QUEUED"
    return "RUNNING"


def _outputs(job: ExstreamJob) -> list[tuple[str, dict[str, Any], render.Output]]:
    found = []
    for number, record in enumerate(job.records, start=1):
        for output in render.render(job.snapshot, record):
            found.append((f"{number}-{output.queue.lower()}", record, output))
    return found


def _job(job_id: str) -> ExstreamJob:
    job = ExstreamJob.objects.filter(job_id=job_id).first()
    if job is None:
        raise ServerError(404, f"Job {job_id} not found.")
    return job


@api("GET")
def job(request: HttpRequest, job_id: str) -> HttpResponse:
    """SANDBOX ONLY [I]: a batch job's status and, once done, its outputs."""
    found = _job(job_id)
    status = job_status(found)
    body: dict[str, Any] = {
        "jobId": found.job_id,
        "status": status,
        "communicationId": str(found.communication_id),
        "submitted": found.created.isoformat(),
        "outputs": [],
    }
    if status == "COMPLETED":
        base = request.path.rstrip("/")
        body["outputs"] = [
            {
                "id": output_id,
                "fileName": output.file_name,
                "fileExtension": output.extension,
                "queueName": output.queue,
                "customerNumber": _text(record.get("customerNumber")),
                "href": request.build_absolute_uri(f"{base}/outputs/{output_id}"),
            }
            for output_id, record, output in _outputs(found)
        ]
    if status == "FAILED":
        body["errors"] = found.errors
    return JsonResponse(body)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


@api("GET")
def job_output(request: HttpRequest, job_id: str, output_id: str) -> HttpResponse:
    """SANDBOX ONLY [I]: the bytes of one output of a completed job."""
    found = _job(job_id)
    status = job_status(found)
    if status != "COMPLETED":
        raise ServerError(409, f"Job {job_id} is {status}: it has no outputs.")
    for candidate, _, output in _outputs(found):
        if candidate == output_id:
            response = HttpResponse(output.content, content_type=output.media_type)
            response["Content-Disposition"] = (
                f'attachment; filename="{output.file_name}"'
            )
            return response
    raise ServerError(404, f"Job {job_id} has no output {output_id}.")


# --- Idempotency ------------------------------------------------------------------


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (
        request.path,
        request.headers.get("communicationId", ""),
        request.headers.get("Accept", ""),
        request.content_type or "",
    ):
        digest.update(part.encode() + b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def _replay(answer: ExstreamIdempotentAnswer) -> HttpResponse:
    response = HttpResponse(
        bytes(answer.body), status=answer.status, content_type=answer.content_type
    )
    for name, value in answer.headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def _idempotent(
    request: HttpRequest, produce: Callable[[], HttpResponse]
) -> HttpResponse:
    """``produce()``, or the stored answer to the same ``Idempotency-Key``."""
    key = request.headers.get("Idempotency-Key", "").strip()[:200]
    if not key:
        return produce()
    fingerprint = _fingerprint(request)
    stored = ExstreamIdempotentAnswer.objects.filter(key=key).first()
    if stored is not None:
        if stored.fingerprint != fingerprint:
            raise ServerError(
                422, "This Idempotency-Key was already used for another request."
            )
        return _replay(stored)
    try:
        with transaction.atomic():
            response = produce()
            if response.status_code < 300:
                ExstreamIdempotentAnswer.objects.create(
                    key=key,
                    fingerprint=fingerprint,
                    status=response.status_code,
                    content_type=response["Content-Type"],
                    headers={
                        name: response[name]
                        for name in ("Content-Disposition",)
                        if name in response
                    },
                    body=response.content,
                    created=timezone.now(),
                )
    except IntegrityError:
        # The same request arrived twice at once: the first one's answer wins.
        return _replay(ExstreamIdempotentAnswer.objects.get(key=key))
    return response
