"""The Dynamics 365 triggers, mixed into the connector: webhook intake
(``RemoteExecutionContext``, see ``connectors.dynamics.events``) and change
tracking polls whose cursor is the delta link."""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterator
from typing import Any

from connectors.base import InboundRequest, PollResult, TriggerEvent, trigger
from connectors.dynamics import events
from connectors.dynamics.client import DataverseClient
from connectors.dynamics.schemas import (
    ChangeEvent,
    ChangesIn,
    PolledChange,
    RecordOut,
    WebhookIn,
)
from connectors.errors import AuthError, PermanentError


class ChangeTriggers:
    """What starts flows: Dataverse webhooks and change tracking."""

    client: DataverseClient
    config: Any

    @trigger(
        "receive",
        "A record changed (webhook)",
        kind="webhook",
        description="Dataverse posts to this connection's address when a "
        "registered step runs (Create, Update, Delete).",
        input=WebhookIn,
        output=ChangeEvent,
    )
    def receive_webhook(
        self, data: WebhookIn, request: InboundRequest
    ) -> list[TriggerEvent]:
        self._authenticate(request)
        try:
            body = json.loads(request.body or b"")
        except ValueError:
            raise PermanentError(
                "The Dynamics 365 notification is not valid JSON, so it cannot be read."
            ) from None
        event = events.parse_context(body)
        if data.entities and event["entity"] not in data.entities:
            return []
        if data.messages and event["message"] not in data.messages:
            return []
        payload = ChangeEvent.model_validate(event).model_dump(mode="json")
        return [
            TriggerEvent(
                event_id=events.event_id(body),
                payload=payload,
                occurred_at=event["occurred_at"],
            )
        ]

    def _authenticate(self, request: InboundRequest) -> None:
        config = self.config
        if config.webhook_key is None:
            raise AuthError(
                "The connection has no webhook key: enter the authvalue of the "
                "Dataverse service endpoint in the connection's settings."
            )
        if config.webhook_auth == "WebhookKey":
            sent = request.query.get("code", "")
        elif config.webhook_auth == "HttpHeader":
            sent = request.headers.get(config.webhook_key_name.lower(), "")
        else:
            sent = request.query.get(config.webhook_key_name, "")
        expected = config.webhook_key.get_secret_value()
        if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
            raise AuthError(
                "The webhook request did not carry this connection's webhook "
                "key: check the authvalue of the Dataverse service endpoint."
            )

    @trigger(
        "changes",
        "Records changed (change tracking)",
        kind="poll",
        description="Created, changed and deleted records of a table, read "
        "with Dataverse change tracking (the table must have it enabled).",
        input=ChangesIn,
        output=PolledChange,
    )
    def poll_changes(self, data: ChangesIn, cursor: str | None) -> PollResult:
        if cursor:
            pages = self._delta_pages(cursor)
        else:
            params = {"$select": ",".join(data.select)} if data.select else {}
            pages = self.client.pages(
                data.entity_set,
                params,
                page_size=self.config.page_size,
                headers={"Prefer": "odata.track-changes"},
            )
        found: list[TriggerEvent] = []
        delta_link = None
        for page in pages:
            found += [self._change(data.entity_set, item) for item in page["value"]]
            delta_link = page.get("@odata.deltaLink") or delta_link
        if delta_link is None:
            raise PermanentError(
                f"Dynamics 365 did not return a delta link for {data.entity_set}: "
                "turn on change tracking for the table (Track changes)."
            )
        if not cursor and data.initial == "changes_only":
            found = []
        return PollResult(events=found, cursor=delta_link)

    def _delta_pages(self, link: str) -> Iterator[dict[str, Any]]:
        body = self.client.json("GET", link)
        while True:
            yield body
            if not body.get("@odata.nextLink"):
                return
            body = self.client.json("GET", body["@odata.nextLink"])

    def _change(self, entity_set: str, item: dict[str, Any]) -> TriggerEvent:
        if item.get("reason") == "deleted" or str(
            item.get("@odata.context", "")
        ).endswith("$deletedEntity"):
            change = PolledChange(
                entity_set=entity_set, id=str(item.get("id")), reason="deleted"
            )
            return TriggerEvent(
                event_id=f"{entity_set}:{change.id}:deleted",
                payload=change.model_dump(mode="json"),
            )
        out = RecordOut.of(entity_set, item)
        change = PolledChange(
            entity_set=entity_set,
            id=out.id,
            reason="changed",
            etag=out.etag,
            record=out.record,
        )
        return TriggerEvent(
            event_id=f"{entity_set}:{out.id}:{out.etag}",
            payload=change.model_dump(mode="json"),
        )
