"""The OpenText Content Server connector: store, version, find and watch
governed documents.

Assumptions where the REST documentation is silent, and why:

- **Idempotent upload.** The document already stored for a source key is
  found by its *name* in the target folder (one children call), and then
  confirmed by the Source category's key attribute. Searching the whole
  folder by attribute would take one categories call per child, and the
  search index is updated asynchronously, so a search could miss the
  document a crashed attempt has just created. The same idempotency key
  always comes with the same input, hence the same name. A same-named
  document with another (or no) source key is a name conflict.
- **Same content?** Content Server stores no SHA-256 we could compare. The
  sizes are compared first; only when they are equal is the stored version
  downloaded and hashed. Nothing has to be kept in an attribute that users
  could edit, and the cost only arises on a retry of an unchanged document.
- The incoming document is spooled to a temporary file (disk above
  ``SPOOL_IN_MEMORY`` bytes) while it is hashed, so it can be compared
  before it is sent, and sent again after a ticket renewal.
- **Polling** lists the folder's children and keeps those modified since
  the cursor minus ``POLL_OVERLAP``; the cursor also holds the event ids
  seen inside that overlap, so a document is reported once per change even
  though Content Server dates have one-second resolution.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import IO, Any
from urllib.parse import urlsplit

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
from connectors.errors import PermanentError
from connectors.http.safety import web_address
from connectors.otcs.client import (
    DOCUMENT,
    FOLDER,
    ContentServerClient,
    NameExistsError,
)
from connectors.otcs.records import RecordsActions
from connectors.otcs.schemas import (
    EPOCH,
    AddVersionIn,
    AddVersionOut,
    ApplyCategoriesIn,
    ApplyCategoriesOut,
    ChangedDocumentEvent,
    ChangedDocumentsIn,
    DownloadIn,
    DownloadOut,
    NodeIn,
    NodeOut,
    NodeSummary,
    PollCursor,
    SearchIn,
    SearchOut,
    UploadDocumentIn,
    UploadDocumentOut,
    parse_date,
)
from connectors.otcs.workflow import WorkflowActions
from connectors.otcs.workspaces import WorkspaceActions

ENTERPRISE_WORKSPACE = 2000
SPOOL_IN_MEMORY = 8 << 20
POLL_OVERLAP = timedelta(minutes=2)


class ContentServerConfig(Config):
    """Settings of a Content Server connection."""

    base_url: str = Field(
        title="REST address",
        description="Content Server's REST base, ending in /api/, e.g. "
        "https://otcs.example.com/otcs/cs.exe/api/",
    )
    username: str = Field(title="User name")
    password: SecretStr = Field(title="Password")
    domain: str = Field("", title="Domain", description="Leave empty if unused.")
    verify_tls: bool = Field(
        True,
        title="Verify TLS certificates",
        description="Turn off only for a test system with a self-signed certificate.",
    )
    source_category_id: int = Field(
        9831,
        title="Source category",
        description="Category that records where a document came from; it "
        "holds the key that makes uploads safe to repeat.",
    )
    source_system_attribute: int = Field(2, title="Source system attribute")
    source_key_attribute: int = Field(3, title="Source key attribute")

    @field_validator("base_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        return web_address(value)


class ContentServerConnector(
    WorkspaceActions, RecordsActions, WorkflowActions, Connector
):
    """Documents in OpenText Content Server (Extended ECM) over its REST API.

    Workspace, records and workflow actions come from the mixins in
    ``connectors.otcs.workspaces``, ``.records`` and ``.workflow``.
    """

    key = "otcs"
    label = "OpenText Content Server"
    category = "ecm"
    description = (
        "Store, version, classify, find and watch governed documents in "
        "OpenText Content Server."
    )
    icon = "building"
    Config = ContentServerConfig
    config: ContentServerConfig

    def __init__(self, config: Config, *, connection_id: int | None = None) -> None:
        super().__init__(config, connection_id=connection_id)
        self._client: ContentServerClient | None = None

    @property
    def client(self) -> ContentServerClient:
        if self._client is None:
            self._client = self._new_client()
        return self._client

    def _new_client(self, timeout: float | None = None) -> ContentServerClient:
        config = self.config
        return ContentServerClient(
            config.base_url,
            config.username,
            config.password.get_secret_value(),
            domain=config.domain,
            verify=config.verify_tls,
            timeout=timeout,
        )

    def check(self) -> CheckResult:
        client = self._new_client(timeout=CHECK_TIMEOUT)
        try:
            client.authenticate()
            client.get_node(ENTERPRISE_WORKSPACE)
        finally:
            client.close()
        host = urlsplit(self.config.base_url).hostname or self.config.base_url
        return CheckResult(
            f"Signed in to {host} as {self.config.username}; "
            "Enterprise Workspace reachable"
        )

    # -- Actions --

    @action(
        "upload_document",
        "Upload a document",
        description="Store the run's document in a folder, with category "
        "values; a repeat adds a version only when the content changed.",
        input=UploadDocumentIn,
        output=UploadDocumentOut,
    )
    def upload_document(
        self, data: UploadDocumentIn, context: ActionContext
    ) -> UploadDocumentOut:
        document = _the_document(context)
        source_key = data.source_key or context.idempotency_key
        if not source_key:
            raise PermanentError(
                "Uploading needs a source key (or a run idempotency key) so "
                "that a repeat does not store the document twice."
            )
        name = data.name or document.name
        folder_id = self._folder(data.parent_id, data.folder_path)
        values = {**data.categories, **self._source_values(source_key, data)}
        with _spool(document) as (file, sha256, size):
            existing = self.client.child_named(folder_id, name)
            if existing is None:
                try:
                    node = self.client.upload(
                        folder_id,
                        name,
                        file,
                        media_type=document.media_type,
                        description=data.description,
                        categories=values,
                    )
                except NameExistsError:
                    existing = self.client.child_named(folder_id, name)
                    if existing is None:
                        raise
                else:
                    return UploadDocumentOut(
                        node_id=node["id"],
                        version=self._version(node["id"]),
                        created=True,
                        sha256=sha256,
                        size=size,
                        name=name,
                    )
            node_id = int(existing["id"])
            self._require_same_source(existing, folder_id, source_key)
            version = self._version(node_id)
            if not self._same_content(existing, sha256, size):
                version = self._add_version(node_id, name, file, document.media_type)
            self._set_values(node_id, values)
            return UploadDocumentOut(
                node_id=node_id,
                version=version,
                created=False,
                sha256=sha256,
                size=size,
                name=name,
            )

    @action(
        "add_version",
        "Add a version",
        description="Add the run's document as a new version of a document; "
        "nothing is added when it equals the latest version.",
        input=AddVersionIn,
        output=AddVersionOut,
    )
    def add_version(self, data: AddVersionIn, context: ActionContext) -> AddVersionOut:
        document = _the_document(context)
        node = self.client.get_node(data.node_id)
        with _spool(document) as (file, sha256, size):
            # A retry after a crash finds its version already there.
            if self._same_content(node, sha256, size):
                version = self._version(data.node_id)
            else:
                version = self._add_version(
                    data.node_id,
                    node.get("name") or document.name,
                    file,
                    document.media_type,
                    description=data.description,
                    major=data.major,
                )
        return AddVersionOut(
            node_id=data.node_id, version=version, sha256=sha256, size=size
        )

    @action(
        "download",
        "Download a document",
        description="Fetch a document's content (latest or one version).",
        input=DownloadIn,
        output=DownloadOut,
    )
    def download(self, data: DownloadIn, context: ActionContext) -> ActionResult:
        source = self.client.download(data.node_id, data.version)
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
        for chunk in source:
            spool.write(chunk)
        spool.seek(0)
        document = Document(
            source.name,
            _chunks_of(spool),
            media_type=source.media_type,
            size=source.size,
            source_ref=f"otcs:{data.node_id}",
        )
        output = DownloadOut(
            node_id=data.node_id,
            name=source.name,
            size=source.size,
            sha256=source.sha256,
            media_type=source.media_type,
        )
        return ActionResult(output, [document])

    @action(
        "get_node",
        "Get a node",
        description="Read a node's properties and category values.",
        input=NodeIn,
        output=NodeOut,
    )
    def get_node(self, data: NodeIn, context: ActionContext) -> NodeOut:
        properties = self.client.get_node(data.node_id)
        summary = NodeSummary.of(properties)
        return NodeOut(
            **summary.model_dump(), categories=self.client.categories(data.node_id)
        )

    @action(
        "apply_categories",
        "Set category values",
        description="Apply categories to a node, or update their values.",
        input=ApplyCategoriesIn,
        output=ApplyCategoriesOut,
    )
    def apply_categories(
        self, data: ApplyCategoriesIn, context: ActionContext
    ) -> ApplyCategoriesOut:
        applied, updated = self._set_values(data.node_id, data.values)
        return ApplyCategoriesOut(
            node_id=data.node_id,
            applied=applied,
            updated=updated,
            categories=self.client.categories(data.node_id),
        )

    @action(
        "search",
        "Search",
        description="Find nodes with a Content Server (LQL) query.",
        input=SearchIn,
        output=SearchOut,
    )
    def search(self, data: SearchIn, context: ActionContext) -> SearchOut:
        items, paging = self.client.search(
            data.where, page=data.page, limit=data.limit, sort=data.sort
        )
        return SearchOut(
            results=[NodeSummary.of(item) for item in items],
            page=int(paging.get("page") or data.page),
            page_total=int(paging.get("page_total") or (1 if items else 0)),
            total_count=int(paging.get("total_count") or len(items)),
        )

    # -- Trigger --

    @trigger(
        "new_or_changed_documents",
        "When a document is added or changed",
        kind="poll",
        description="Reports each document added to or changed in a folder.",
        input=ChangedDocumentsIn,
        output=ChangedDocumentEvent,
    )
    def new_or_changed_documents(
        self, data: ChangedDocumentsIn, cursor: str | None
    ) -> PollResult:
        since, seen = PollCursor.read(cursor)
        only = data.subtypes[0] if len(data.subtypes) == 1 else None
        items = [
            item
            for item in self.client.children(data.folder_id, where_type=only)
            if int(item.get("type", -1)) in data.subtypes and item.get("modify_date")
        ]
        dated = sorted(
            ((parse_date(item["modify_date"]), item) for item in items),
            key=lambda pair: (pair[0], int(pair[1]["id"])),
        )
        events = []
        if since is not None:  # the first poll only sets the baseline
            for modified, item in dated:
                event_id = f"{item['id']}:{item['modify_date']}"
                if modified >= since - POLL_OVERLAP and event_id not in seen:
                    events.append(_event(event_id, modified, item))
        newest = max([since or EPOCH, *(modified for modified, _ in dated)])
        recent = [
            f"{item['id']}:{item['modify_date']}"
            for modified, item in dated
            if modified >= newest - POLL_OVERLAP
        ]
        return PollResult(events, PollCursor(since=newest, seen=recent).dump())

    # -- Helpers --

    def _source_values(self, source_key: str, data: UploadDocumentIn) -> dict[str, str]:
        config = self.config
        category = config.source_category_id
        return {
            f"{category}_{config.source_system_attribute}": data.source_system,
            f"{category}_{config.source_key_attribute}": source_key,
        }

    def _folder(self, parent_id: int, path: str) -> int:
        """The node id of ``path`` below ``parent_id``, creating missing folders."""
        current = parent_id
        for part in path.split("/") if path else []:
            found = self.client.child_named(current, part, FOLDER)
            if found is None:
                try:
                    found = self.client.create_folder(current, part)
                except NameExistsError:  # created meanwhile, or not a folder
                    found = self.client.child_named(current, part, FOLDER)
                    if found is None:
                        raise
            current = int(found["id"])
        return current

    def _require_same_source(
        self, node: dict[str, Any], folder_id: int, source_key: str
    ) -> None:
        config = self.config
        key = f"{config.source_category_id}_{config.source_key_attribute}"
        stored = self.client.categories(int(node["id"])).get(key)
        if int(node.get("type", DOCUMENT)) != DOCUMENT or stored != source_key:
            raise NameExistsError(
                f"Folder {folder_id} already holds another item named "
                f"“{node.get('name')}” (node {node['id']}): rename the document "
                "or move the other item."
            )

    def _same_content(self, node: dict[str, Any], sha256: str, size: int) -> bool:
        stored_size = node.get("size")
        if stored_size is not None and int(stored_size) != size:
            return False
        stored = self.client.download(int(node["id"]))
        for _ in stored:
            pass
        return stored.sha256 == sha256

    def _add_version(
        self,
        node_id: int,
        name: str,
        file: IO[bytes],
        media_type: str,
        **options: Any,
    ) -> int:
        self.client.add_version(node_id, name, file, media_type=media_type, **options)
        return self._version(node_id)

    def _version(self, node_id: int) -> int:
        numbers = [
            int(item["version_number"])
            for item in self.client.versions(node_id)
            if isinstance(item, dict) and item.get("version_number") is not None
        ]
        return max(numbers, default=1)

    def _set_values(
        self, node_id: int, values: dict[str, Any]
    ) -> tuple[list[int], list[int]]:
        """Apply or update categories; return the ids applied and updated."""
        current = self.client.categories(node_id)
        present = {int(key.split("_")[0]) for key in current}
        by_category: dict[int, dict[str, Any]] = {}
        for key, value in values.items():
            by_category.setdefault(int(key.split("_")[0]), {})[key] = value
        applied, updated = [], []
        for category_id, chunk in sorted(by_category.items()):
            if category_id not in present:
                self.client.apply_category(node_id, category_id, chunk)
                applied.append(category_id)
            elif any(current.get(key) != value for key, value in chunk.items()):
                self.client.update_category(node_id, category_id, chunk)
                updated.append(category_id)
        return applied, updated


def _the_document(context: ActionContext) -> Document:
    if not context.documents:
        raise PermanentError(
            "This step needs a document, and the run has none: put a step "
            "that produces one before it."
        )
    return context.documents[0]


@contextmanager
def _spool(document: Document) -> Iterator[tuple[IO[bytes], str, int]]:
    """Write ``document`` to a temporary file while hashing it.

    Yields ``(file, sha256, size)``; the file is removed afterwards.
    """
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as file:
        for chunk in document:
            file.write(chunk)
        file.seek(0)
        yield file, document.sha256, document.size  # type: ignore[misc]


def _chunks_of(file: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := file.read(1 << 16):
            yield chunk
    finally:
        file.close()


def _event(event_id: str, modified: datetime, item: dict[str, Any]) -> TriggerEvent:
    payload = NodeSummary.of(item).model_dump(mode="json")
    return TriggerEvent(event_id=event_id, payload=payload, occurred_at=modified)
