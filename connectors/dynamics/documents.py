"""Notes with attachments and SharePoint document links, mixed into the
Dynamics 365 connector.

Note attachments are base64-encoded into a spooled temporary file (memory
up to ``SPOOL_IN_MEMORY``, then disk) while the document is read, and sent
from there: the bytes are not held twice, the size limit stops an oversized
document early, and a retry after a token renewal can send the body again.
"""

from __future__ import annotations

import base64
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from connectors.base import ActionContext, Document, action
from connectors.dynamics.client import (
    DataverseClient,
    RecordChangedError,
    logical_name,
    record_key,
    stable_id,
)
from connectors.dynamics.schemas import (
    AddNoteIn,
    AddNoteOut,
    CreateOut,
    DocumentLinkIn,
)
from connectors.errors import PermanentError

SPOOL_IN_MEMORY = 1 << 20


class DocumentActions:
    """Notes and document locations on Dataverse records."""

    client: DataverseClient
    config: Any
    connection_id: int | None

    @action(
        "add_note",
        "Attach a document as a note",
        description="A note (annotation) with the run's document as its "
        "attachment, on a record.",
        input=AddNoteIn,
        output=AddNoteOut,
    )
    def add_note(self, data: AddNoteIn, context: ActionContext) -> AddNoteOut:
        document = _the_document(context)
        limit = self.config.max_attachment_bytes
        if document.declared_size is not None and document.declared_size > limit:
            raise _too_large(document.name, document.declared_size, limit)
        regarding = record_key(data.regarding_id)
        filename = data.filename or document.name
        fields = {
            "subject": data.subject or filename,
            "notetext": data.text,
            "filename": filename,
            "mimetype": document.media_type,
            f"objectid_{logical_name(data.regarding_entity_set)}@odata.bind": (
                f"/{data.regarding_entity_set}({regarding})"
            ),
        }
        note_id = stable_id(self.connection_id, "annotations", context.idempotency_key)
        with _note_body(document, fields, limit) as body:
            try:
                self.client.patch(
                    "annotations",
                    note_id,
                    if_none_match="*",
                    data=body,
                    what=f"the {logical_name(data.regarding_entity_set)} with id "
                    f"{regarding}",
                )
                created = True
            except RecordChangedError:
                created = False  # a repeat: the first attempt stored it
        return AddNoteOut(
            id=note_id,
            filename=filename,
            size=document.size,
            sha256=document.sha256,
            created=created,
        )

    @action(
        "link_document",
        "Link a SharePoint folder",
        description="A document location (sharepointdocumentlocation) that "
        "shows a SharePoint folder on a record.",
        input=DocumentLinkIn,
        output=CreateOut,
    )
    def link_document(self, data: DocumentLinkIn, context: ActionContext) -> CreateOut:
        if not data.relative_url and not data.absolute_url:
            raise PermanentError(
                "A document link needs the folder's relative URL (under its "
                "SharePoint site) or its absolute URL."
            )
        regarding = record_key(data.regarding_id)
        values: dict[str, Any] = {
            "name": data.name,
            f"regardingobjectid_{logical_name(data.regarding_entity_set)}@odata.bind": (
                f"/{data.regarding_entity_set}({regarding})"
            ),
        }
        if data.relative_url:
            values["relativeurl"] = data.relative_url
        if data.absolute_url:
            values["absoluteurl"] = data.absolute_url
        if data.parent_site_id:
            values["parentsiteorlocation_sharepointsite@odata.bind"] = (
                f"/sharepointsites({record_key(data.parent_site_id)})"
            )
        elif data.parent_location_id:
            values["parentsiteorlocation_sharepointdocumentlocation@odata.bind"] = (
                f"/sharepointdocumentlocations({record_key(data.parent_location_id)})"
            )
        entity_set = "sharepointdocumentlocations"
        if data.absolute_url:
            # The same link on the same record (a document sent again) is
            # the location made before, not a second line in Documents.
            url = data.absolute_url.replace("'", "''")
            query = {
                "$filter": f"_regardingobjectid_value eq {regarding} and "
                f"absoluteurl eq '{url}'",
                "$top": "1",
            }
            for page in self.client.pages(entity_set, query, page_size=1):
                for found in page.get("value") or []:
                    return CreateOut.of(entity_set, found, created=False)
                break
        record_id = stable_id(self.connection_id, entity_set, context.idempotency_key)
        record, created = self.client.create_once(entity_set, record_id, values)
        return CreateOut.of(entity_set, record, created=created)


def _the_document(context: ActionContext) -> Document:
    if not context.documents:
        raise PermanentError(
            "This step needs a document, and the run has none: put a step that "
            "produces one before it."
        )
    return context.documents[0]


def _too_large(name: str, size: int, limit: int) -> PermanentError:
    return PermanentError(
        f"{name} is {size:,} bytes or more, larger than the {limit:,} bytes this "
        "connection allows for a Dynamics 365 note attachment: raise the limit "
        "in the connection (and in Dataverse's system settings) or send a "
        "smaller document."
    )


class _RewindingBody:
    """A file sent as a request body; it rewinds at its end so that a retry
    after a token renewal sends it again from the start."""

    def __init__(self, file: IO[bytes], size: int) -> None:
        self._file = file
        self._size = size

    def __len__(self) -> int:
        return self._size

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(size)
        if not chunk:
            self._file.seek(0)
        return chunk


@contextmanager
def _note_body(
    document: Document, fields: dict[str, Any], limit: int
) -> Iterator[_RewindingBody]:
    """The annotation's JSON with ``documentbody`` base64-encoded on the fly."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as file:
        file.write(json.dumps(fields).encode()[:-1] + b', "documentbody": "')
        carry, total = b"", 0
        for chunk in document:
            total += len(chunk)
            if total > limit:
                raise _too_large(document.name, total, limit)
            data = carry + chunk
            cut = len(data) - len(data) % 3
            file.write(base64.b64encode(data[:cut]))
            carry = data[cut:]
        file.write(base64.b64encode(carry) + b'"}')
        size = file.tell()
        file.seek(0)
        yield _RewindingBody(file, size)
