"""The Exstream REST client: the only code that talks to Exstream.

Written against /work/shared/EXTERNAL_APIS.md section 2:

- an OTDS OAuth2 bearer token (client credentials) from
  ``{otds}/otdsws/oauth2/token`` (``otdstenant/{tenant}/otdsws/...`` for a
  tenant) [V]; ``connectors.auth.OAuth2ClientCredentials`` caches it and,
  when Exstream answers 401 (the token expired), fetches a new one and
  repeats the call once;
- on-demand generation with the ``communicationId`` and
  ``driverDataSource`` headers, ``Accept: application/pdf`` for the PDF
  itself [V]; batch input by service name [O];
- communications through the design and asset service (DAS) [V paths];
- batch job status and outputs under ``orchestration/api/v1/jobs/`` and
  governed content block updates are [I]: they exist in the sandbox only,
  no public API for them is known;
- ``Idempotency-Key`` [I]: the sandbox replays its stored answer (same
  document, same job); a real Exstream may ignore the header.

Errors: generation failures come as error items ``{"data":
[{errorMessage, statusCode, engineOutputContext}]}``, other failures as
``{"timestamp", "status", "message", "details"}``; both become
PermanentError with the system's message. 401/403, 429, 5xx and timeouts
are handled by ``HttpClient`` (AuthError, TransientError with Retry-After).
"""

from __future__ import annotations

from typing import Any, Literal

import requests

from connectors.auth import OAuth2ClientCredentials
from connectors.base import Document
from connectors.errors import ConnectorError, PermanentError
from connectors.http import HttpClient
from connectors.http.client import Timeout, attachment_name

SYSTEM = "Exstream"
ORCHESTRATION = "orchestration/api/v1"
DESIGN = "design/api/v1"
COMMUNICATION_TYPE = "exstrapplication"


class ExstreamRefusal(PermanentError):
    """Exstream refused the request: ``system_message`` says why."""

    def __init__(self, message: str, *, system_message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.system_message = system_message


def token_url(otds_url: str, tenant: str = "") -> str:
    base = otds_url.rstrip("/") + "/"
    if tenant:
        base += f"otdstenant/{tenant}/"
    return base + "otdsws/oauth2/token"


class ExstreamClient:
    """Calls to one Exstream domain as one OTDS service client."""

    def __init__(
        self,
        base_url: str,
        otds_token_url: str,
        client_id: str,
        client_secret: str,
        *,
        domain: str,
        driver_data_source: str = "",
        client_auth: Literal["basic", "body"] = "body",
        verify: bool = True,
        timeout: Timeout | None = None,
    ) -> None:
        self.auth = OAuth2ClientCredentials(
            otds_token_url,
            client_id,
            client_secret,
            client_auth=client_auth,
            verify=verify,
            timeout=timeout,
        )
        self.http = HttpClient(
            base_url.rstrip("/") + "/",
            auth=self.auth,
            verify=verify,
            timeout=timeout,
            system_label=SYSTEM,
        )
        self.domain = domain
        self.driver_data_source = driver_data_source

    # -- Sending --

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self.http.request(method, path, raise_errors=False, **kwargs)
        if response.status_code >= 400:
            error = self._error(response)
            response.close()
            raise error
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._send(method, path, **kwargs)
        try:
            body = response.json()
        except ValueError:
            raise PermanentError(
                "Exstream answered with something that is not JSON: check the "
                "Exstream address of the connection.",
                status=response.status_code,
            ) from None
        if not isinstance(body, dict):
            raise PermanentError("Exstream answered with an unexpected JSON value.")
        return body

    def _error(self, response: requests.Response) -> ConnectorError:
        status = response.status_code
        if status in (401, 403, 408, 429) or status >= 500:
            return self.http.status_error(response)
        said, is_item = _system_message(response)
        detail = f"HTTP {status} from {response.request.method} {response.url}"
        detail += f": {said}" if said else ""
        text = said.rstrip(".") + "." if said else f"HTTP {status}."
        if status == 400 and is_item:
            message = f"Exstream refused the driver data: {text}"
        elif status == 404:
            message = f"Exstream could not find what was asked for: {text}"
        else:
            message = f"Exstream refused the request: {text}"
        return ExstreamRefusal(
            message, system_message=said, detail=detail, status=status
        )

    # -- Calls --

    def token(self) -> str:
        """A valid bearer token (proves the client id and secret)."""
        return self.auth.token()

    def version(self) -> dict[str, Any]:
        return self._json("GET", f"{ORCHESTRATION}/version")

    def _driver_headers(self, communication_id: str, idempotency_key: str) -> dict:
        headers = {}
        if communication_id:
            headers["communicationId"] = communication_id
        if self.driver_data_source:
            headers["driverDataSource"] = self.driver_data_source
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    def generate_pdf(
        self,
        communication_id: str,
        body: bytes,
        content_type: str,
        *,
        idempotency_key: str = "",
    ) -> tuple[bytes, str]:
        """The PDF rendered from one record, and the file name Exstream gave it."""
        headers = {
            **self._driver_headers(communication_id, idempotency_key),
            "Content-Type": content_type,
            "Accept": "application/pdf",
        }
        response = self._send(
            "POST",
            f"{ORCHESTRATION}/inputs/ondemand/{self.domain}/generate",
            data=body,
            headers=headers,
        )
        if not response.headers.get("Content-Type", "").startswith("application/pdf"):
            raise PermanentError(
                "Exstream did not answer with a PDF: check that the communication "
                "has a PDF output queue.",
                detail=f"Content-Type {response.headers.get('Content-Type')}",
            )
        return response.content, attachment_name(response)

    def submit_batch(
        self,
        service_name: str,
        body: bytes,
        content_type: str,
        *,
        communication_id: str = "",
        idempotency_key: str = "",
    ) -> str:
        """The id of the job started for ``body`` through the named service."""
        headers = {
            **self._driver_headers(communication_id, idempotency_key),
            "Content-Type": content_type,
        }
        answer = self._json(
            "POST",
            f"{ORCHESTRATION}/inputs/batch/{self.domain}/{service_name}",
            data=body,
            headers=headers,
        )
        items = answer.get("data") or []
        job_id = items[0].get("jobId") if items and isinstance(items[0], dict) else None
        if not job_id:
            raise PermanentError("Exstream accepted the batch but returned no job id.")
        return str(job_id)

    def job(self, job_id: str) -> dict[str, Any]:
        """A batch job's status and outputs (sandbox-only endpoint [I])."""
        return self._json("GET", f"{ORCHESTRATION}/jobs/{job_id}")

    def download_output(self, job_id: str, output_id: str, name: str) -> Document:
        """One output file of a completed job, streamed ([I], sandbox only)."""
        return self.http.stream_download(
            f"{ORCHESTRATION}/jobs/{job_id}/outputs/{output_id}", name=name
        )

    def communications(
        self, state: str | None, count: int, offset: int
    ) -> dict[str, Any]:
        """One page of communications (DAS resources of type exstrapplication)."""
        rule = f"types:{COMMUNICATION_TYPE}"
        if state:
            rule += f";states:{state}"
        return self._json(
            "GET",
            f"{DESIGN}/resources/{self.domain}",
            params={"filter": rule, "count": count, "offset": offset},
        )

    def update_content_block(
        self, communication_id: str, block: str, content: str, submit: bool
    ) -> dict[str, Any]:
        """Change a governed content block; the communication as it is now."""
        answer = self._json(
            "PUT",
            f"{DESIGN}/resources/{self.domain}/{communication_id}/contentblocks/{block}",
            json={"content": content, "submitForReview": submit},
        )
        return dict(answer.get("data") or {})

    def set_state(self, communication_id: str, state: str) -> dict[str, Any]:
        """Move a communication along its workflow (DRAFT, REVIEW, APPROVED...)."""
        answer = self._json(
            "PUT",
            f"{DESIGN}/resources/{self.domain}/{communication_id}/state",
            json={"state": state},
        )
        return dict(answer.get("data") or {})

    def close(self) -> None:
        self.http.close()


def _system_message(response: requests.Response) -> tuple[str, bool]:
    """The error item's ``errorMessage`` (and True), or the server error's
    ``message`` (and False)."""
    try:
        body = response.json()
    except ValueError:
        return "", False
    if not isinstance(body, dict):
        return "", False
    items = body.get("data")
    if isinstance(items, list) and items and isinstance(items[0], dict):
        return str(items[0].get("errorMessage") or ""), True
    return str(body.get("message") or body.get("error_description") or ""), False
