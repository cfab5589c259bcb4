"""The Microsoft Dynamics 365 (Dataverse) connector.

Signs in as an app registered in Entra ID (client credentials; the token is
cached until shortly before it expires and renewed once when the Web API
answers 401) and reads and writes Dataverse tables through the Web API.

Assumptions where the documentation is silent, and why:

- **Idempotent create.** With an idempotency key, a record gets the GUID
  ``uuid5(connection, table, key)`` and is written with ``PATCH`` and
  ``If-None-Match: *`` (create only). A repeat gets 412 and reads the record
  the first attempt made instead of creating a second one.
- **Token endpoint over plain http.** msal refuses http authorities. For an
  ``http://`` authority (only an emulator or a local test identity provider
  answers there) the same client credentials grant goes through
  ``OAuth2ClientCredentials`` instead; https authorities use msal.
- **Note attachments**: see ``connectors.dynamics.documents``.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from requests.auth import AuthBase

from connectors.auth import EntraClientCredentials, OAuth2ClientCredentials
from connectors.auth.tokens import ENTRA_AUTHORITY_HOST
from connectors.base import (
    CHECK_TIMEOUT,
    ActionContext,
    CheckResult,
    Config,
    Connector,
    action,
)
from connectors.dynamics.client import DataverseClient, record_key, stable_id, what
from connectors.dynamics.documents import DocumentActions
from connectors.dynamics.schemas import (
    CreateIn,
    CreateOut,
    GetIn,
    QueryIn,
    QueryOut,
    RecordOut,
    UpdateIn,
    UpsertIn,
    UpsertOut,
)
from connectors.dynamics.triggers import ChangeTriggers
from connectors.http.safety import web_address

API_PATH = "api/data/v9.2/"
WEBHOOK_AUTH = {
    "WebhookKey": "WebhookKey (?code=)",
    "HttpHeader": "HttpHeader (a header)",
    "HttpQueryString": "HttpQueryString (a query parameter)",
}


class DynamicsConfig(Config):
    """Settings of a Dynamics 365 / Dataverse connection."""

    environment_url: str = Field(
        title="Environment URL",
        description="The Dataverse environment, e.g. https://contoso.crm.dynamics.com",
    )
    tenant: str = Field(
        min_length=1,
        title="Tenant",
        description="The Entra ID directory (tenant) ID or domain.",
    )
    client_id: str = Field(min_length=1, title="Client ID (application ID)")
    client_secret: SecretStr = Field(title="Client secret")
    authority_host: str = Field(
        ENTRA_AUTHORITY_HOST,
        title="Sign-in address",
        description="Entra ID's address; change only for a national cloud.",
    )
    scope: str = Field(
        "",
        title="Scope",
        description="Empty: <environment URL>/.default.",
    )
    verify_tls: bool = Field(True, title="Verify TLS certificates")
    page_size: int = Field(
        500, ge=1, le=5000, title="Page size", description="Records per page read."
    )
    max_attachment_bytes: int = Field(
        32 << 20,
        ge=1,
        title="Largest note attachment (bytes)",
        description="Dataverse limits note attachments (5 MB by default, "
        "configurable up to 128 MB); larger documents are refused here.",
    )
    webhook_auth: Literal["WebhookKey", "HttpHeader", "HttpQueryString"] = Field(
        "WebhookKey",
        title="Webhook authentication",
        json_schema_extra={"choice_labels": WEBHOOK_AUTH},
        description="The authtype of the service endpoint registered in Dataverse.",
    )
    webhook_key_name: str = Field(
        "x-xconnector-key",
        title="Webhook header or parameter name",
        description="For HttpHeader and HttpQueryString: the name in authvalue.",
        max_length=100,
    )
    webhook_key: SecretStr | None = Field(
        None,
        title="Webhook key",
        description="The authvalue of the service endpoint (the value only).",
    )

    @field_validator("environment_url", "authority_host")
    @classmethod
    def _web_address(cls, value: str) -> str:
        return web_address(value).rstrip("/")

    @property
    def api_url(self) -> str:
        return f"{self.environment_url}/{API_PATH}"


class DynamicsConnector(DocumentActions, ChangeTriggers, Connector):
    """Records, notes and document links in Microsoft Dynamics 365 (Dataverse).

    Note and document-link actions come from ``connectors.dynamics.documents``,
    the triggers from ``connectors.dynamics.triggers``.
    """

    key = "dynamics"
    label = "Dynamics 365"
    category = "erp"
    description = (
        "Read, create and update Dynamics 365 records, attach documents as "
        "notes and react to changes."
    )
    icon = "building"
    Config = DynamicsConfig
    config: DynamicsConfig

    def __init__(self, config: Config, *, connection_id: int | None = None) -> None:
        super().__init__(config, connection_id=connection_id)
        self._client: DataverseClient | None = None

    @property
    def client(self) -> DataverseClient:
        if self._client is None:
            self._client = self._new_client()
        return self._client

    def _new_client(self, timeout: float | None = None) -> DataverseClient:
        return DataverseClient(
            self.config.api_url,
            self._auth(timeout),
            verify=self.config.verify_tls,
            timeout=timeout,
        )

    def _auth(self, timeout: float | None) -> AuthBase:
        config = self.config
        secret = config.client_secret.get_secret_value()
        scope = config.scope or f"{config.environment_url}/.default"
        authority = f"{config.authority_host}/{config.tenant}"
        if authority.startswith("https://"):
            return EntraClientCredentials(
                authority,
                config.client_id,
                secret,
                scope,
                verify=config.verify_tls,
                timeout=timeout,
            )
        return OAuth2ClientCredentials(
            f"{authority}/oauth2/v2.0/token",
            config.client_id,
            secret,
            scope,
            client_auth="body",
            verify=config.verify_tls,
            timeout=timeout,
        )

    def check(self) -> CheckResult:
        client = self._new_client(timeout=CHECK_TIMEOUT)
        try:
            client.json("GET", "accounts", params={"$select": "name", "$top": "1"})
        finally:
            client.close()
        host = urlsplit(self.config.environment_url).hostname
        return CheckResult(
            f"Signed in to {host} as app {self.config.client_id}; accounts readable"
        )

    # -- Reading --

    @action(
        "query",
        "Find records",
        description="Records of a table that match a filter, across all pages.",
        input=QueryIn,
        output=QueryOut,
    )
    def query(self, data: QueryIn, context: ActionContext) -> QueryOut:
        params = {
            name: value
            for name, value in {
                "$select": ",".join(data.select),
                "$filter": data.filter,
                "$orderby": data.orderby,
                "$expand": data.expand,
            }.items()
            if value
        }
        page_size = min(self.config.page_size, data.limit)
        records: list[dict[str, Any]] = []
        truncated = False
        for page in self.client.pages(data.entity_set, params, page_size=page_size):
            for record in page.get("value") or []:
                if len(records) == data.limit:
                    truncated = True
                    break
                records.append(record)
            if truncated or (
                len(records) == data.limit and page.get("@odata.nextLink")
            ):
                truncated = True
                break
        return QueryOut(records=records, count=len(records), truncated=truncated)

    @action(
        "get",
        "Get a record",
        description="One record by its id or an alternate key.",
        input=GetIn,
        output=RecordOut,
    )
    def get_record(self, data: GetIn, context: ActionContext) -> RecordOut:
        params = {"$select": ",".join(data.select), "$expand": data.expand}
        record = self.client.get(
            data.entity_set,
            record_key(data.id, data.alternate_key),
            {k: v for k, v in params.items() if v},
            what=what(data.entity_set, data.id, data.alternate_key),
        )
        return RecordOut.of(data.entity_set, record)

    # -- Writing --

    @action(
        "create",
        "Create a record",
        description="A new record; a repeat of the same run step returns the "
        "record the first attempt created.",
        input=CreateIn,
        output=CreateOut,
    )
    def create(self, data: CreateIn, context: ActionContext) -> CreateOut:
        if not context.idempotency_key:
            record = self.client.create(data.entity_set, data.values)
            return CreateOut.of(data.entity_set, record, created=True)
        record_id = stable_id(
            self.connection_id, data.entity_set, context.idempotency_key
        )
        record, created = self.client.create_once(
            data.entity_set, record_id, data.values
        )
        return CreateOut.of(data.entity_set, record, created=created)

    @action(
        "update",
        "Update a record",
        description="Change columns of a record; with an ETag, only if nobody "
        "changed it since it was read.",
        input=UpdateIn,
        output=RecordOut,
    )
    def update(self, data: UpdateIn, context: ActionContext) -> RecordOut:
        _, record = self.client.patch(
            data.entity_set,
            record_key(data.id, data.alternate_key),
            data.values,
            if_match=data.etag or "*",
            what=what(data.entity_set, data.id, data.alternate_key),
        )
        return RecordOut.of(data.entity_set, record)

    @action(
        "upsert",
        "Create or update a record",
        description="Update the record with this id or alternate key, or "
        "create it when there is none.",
        input=UpsertIn,
        output=UpsertOut,
    )
    def upsert(self, data: UpsertIn, context: ActionContext) -> UpsertOut:
        status, record = self.client.patch(
            data.entity_set,
            record_key(data.id, data.alternate_key),
            data.values,
            what=what(data.entity_set, data.id, data.alternate_key),
        )
        return UpsertOut.of(data.entity_set, record, created=status == 201)


__all__ = ["DynamicsConnector"]
