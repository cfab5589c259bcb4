"""The Trading Grid REST client: the only code that talks to Trading Grid.

Written against /work/shared/EXTERNAL_APIS.md section 3:

- a token from ``POST v1/oauth2/tokens?grant_type=client_credentials`` with
  HTTP Basic consumer key and secret [V], sent as ``Authorization: Bearer``;
  it lasts about ten hours and is cached by ``OAuth2ClientCredentials``,
  which fetches a fresh one and repeats the call once on 401;
- Community Management under ``TGCommunityServices/v1/companies/{BUID}``
  and Lens ``POST visibility_transaction_search`` (GraphQL) [V];
- the mailbox (``mailboxes/{BUID}/...``) and collaboration thread calls
  follow the sandbox recommendation [I]: no public REST API for exchanging
  documents was found, so their paths are settings of the connection.

Errors come as ``{"status", "message", "error-code"}``; ``HttpClient``
turns them into ``connectors.errors`` quoting ``message``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from connectors.auth import OAuth2ClientCredentials
from connectors.base import Document
from connectors.errors import PartnerError
from connectors.http import HttpClient
from connectors.http.client import Timeout

SYSTEM = "Trading Grid"
# What the network answers when the partner side refuses a document: a person
# has to take it up with the partner (``PartnerError``), not retry it.
PARTNER_REFUSALS = {"PARTNER_NOT_FOUND", "MALFORMED_INTERCHANGE"}
TOKEN_PATH = "v1/oauth2/tokens?grant_type=client_credentials"  # noqa: S105 - a path


class TradingGridClient:
    """Calls to Trading Grid as one company (its BUID)."""

    def __init__(
        self,
        base_url: str,
        company_id: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        mailbox_path: str = "mailboxes",
        collaboration_path: str = "collaboration/threads",
        verify: bool = True,
        timeout: Timeout | None = None,
    ) -> None:
        base = base_url.rstrip("/") + "/"
        self.company_id = company_id
        self.auth = OAuth2ClientCredentials(
            base + TOKEN_PATH,
            consumer_key,
            consumer_secret,
            client_auth="basic",
            verify=verify,
            timeout=timeout,
        )
        self.http = HttpClient(
            base, auth=self.auth, verify=verify, timeout=timeout, system_label=SYSTEM
        )
        self.mailbox = f"{mailbox_path.strip('/')}/{quote(company_id, safe='')}"
        self.threads_path = collaboration_path.strip("/")

    # -- Community Management [V] --

    def company(self, *, timeout: Timeout | None = None) -> dict[str, Any]:
        path = f"TGCommunityServices/v1/companies/{quote(self.company_id, safe='')}"
        return self.http.request_json("GET", path, timeout=timeout) or {}

    def partners(self, name: str = "") -> list[dict[str, Any]]:
        path = (
            f"TGCommunityServices/v1/companies/{quote(self.company_id, safe='')}"
            "/partnerDirectory"
        )
        params = {"partnerCompanyName": name} if name else None
        body = self.http.request_json("GET", path, params=params) or {}
        return list(body.get("partners") or [])

    # -- Mailbox [I] --

    def send(
        self,
        payload: str,
        receiver_address: str,
        doc_type: str,
        *,
        file_name: str = "",
        control_number: str = "",
    ) -> tuple[dict[str, Any], bool]:
        """Send one document; the transaction and whether it was a repeat.

        A repeat (409 ``DUPLICATE_INTERCHANGE``: the control number was
        used before) is the same send tried again: it is reported with the
        first transaction's id, not as an error. An unknown partner or an
        interchange the network rejected raises ``PartnerError``.
        """
        body = {
            "payload": payload,
            "receiverAddress": receiver_address,
            "docType": doc_type,
            "fileName": file_name,
        }
        if control_number:
            body["controlNumber"] = control_number
        response = self.http.request(
            "POST",
            f"{self.mailbox}/outbound",
            json=body,
            allow_status=(400, 404, 409),
        )
        if response.status_code < 400:
            return (response.json() if response.content else {}), False
        error = self.http.status_error(response)
        code = _error_code(response)
        if code == "DUPLICATE_INTERCHANGE":
            data = response.json()
            return {
                "transactionId": data.get("transactionId", ""),
                "status": "Delivered",
            }, True
        if code in PARTNER_REFUSALS:
            raise PartnerError(
                error.message,
                partner=receiver_address,
                detail=error.detail,
                status=response.status_code,
            )
        raise error

    def inbound(self, status: str = "new", limit: int = 100) -> list[dict[str, Any]]:
        body = self.http.request_json(
            "GET", f"{self.mailbox}/inbound", params={"status": status, "limit": limit}
        )
        return list((body or {}).get("documents") or [])

    def content(self, document_id: str, name: str = "") -> Document:
        return self.http.stream_download(
            f"{self.mailbox}/inbound/{quote(document_id, safe='')}/content", name=name
        )

    def ack(
        self, document_id: str, *, ok: bool = True, reason: str = ""
    ) -> dict[str, Any]:
        body = {"status": "acknowledged" if ok else "failed", "reason": reason}
        return (
            self.http.request_json(
                "POST",
                f"{self.mailbox}/inbound/{quote(document_id, safe='')}/ack",
                json=body,
            )
            or {}
        )

    # -- Collaboration [I] --

    def find_threads(self, case_reference: str) -> list[dict[str, Any]]:
        body = self.http.request_json(
            "GET", self.threads_path, params={"caseReference": case_reference}
        )
        return list((body or {}).get("threads") or [])

    def open_thread(
        self, partner_address: str, subject: str, case_reference: str
    ) -> dict[str, Any]:
        body = {
            "partnerAddress": partner_address,
            "subject": subject,
            "caseReference": case_reference,
        }
        return self.http.request_json("POST", self.threads_path, json=body) or {}

    def thread(self, thread_id: str) -> dict[str, Any]:
        path = f"{self.threads_path}/{quote(thread_id, safe='')}"
        return self.http.request_json("GET", path) or {}

    def set_thread_status(self, thread_id: str, status: str) -> dict[str, Any]:
        path = f"{self.threads_path}/{quote(thread_id, safe='')}"
        return self.http.request_json("PATCH", path, json={"status": status}) or {}

    def post_message(
        self,
        thread_id: str,
        text: str,
        *,
        requested_doc_type: str = "",
        attachments: list[dict[str, str]] | None = None,
        client_reference: str = "",
    ) -> dict[str, Any]:
        path = f"{self.threads_path}/{quote(thread_id, safe='')}/messages"
        body = {
            "text": text,
            "requestedDocType": requested_doc_type,
            "attachments": attachments or [],
            "clientReference": client_reference,
        }
        return self.http.request_json("POST", path, json=body) or {}

    def attachment(
        self, thread_id: str, message_id: str, index: int, name: str
    ) -> Document:
        path = (
            f"{self.threads_path}/{quote(thread_id, safe='')}/messages/"
            f"{quote(message_id, safe='')}/attachments/{index}"
        )
        return self.http.stream_download(path, name=name)

    # -- Lens [V] --

    def search(self, graphql: str) -> dict[str, Any]:
        """Run a Lens query; the ``getTransactions`` object of the answer."""
        body = self.http.request_json(
            "POST", "visibility_transaction_search", json={"query": graphql}
        )
        return ((body or {}).get("data") or {}).get("getTransactions") or {}

    def close(self) -> None:
        self.http.close()


def _error_code(response: Any) -> str:
    """The ``error-code`` of a Trading Grid error body ("" if it has none)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error-code") or "") if isinstance(body, dict) else ""
