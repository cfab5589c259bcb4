"""Document access for business applications: the current approved version
of a business object's document of one type, streamed from Content Server.

    GET /workspaces/documents/?type=supplier&key=V-200&document=tax_form
    GET /workspaces/documents/?...&metadata=1      (the metadata alone, JSON)

The caller must be signed in (401 otherwise) and hold the permission
``workspaces.access_document`` (403 otherwise). Every access, and every
refusal of a signed-in caller, is an audit event. Errors are JSON
``{"error": code, "message": sentence}``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from audit.services import Actor, EventType, record
from connectors.base import ActionContext, Document
from connectors.errors import ConnectorError
from workspaces.models import DocumentStatus, Workspace, WorkspaceDocument

PERMISSION = "workspaces.access_document"


@require_GET
def document_access(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return _error(401, "not_signed_in", "Sign in (or send a token) first.")
    type_key = request.GET.get("type", "").strip()
    key = request.GET.get("key", "").strip()
    document_type = request.GET.get("document", "").strip()
    if not (type_key and key and document_type):
        return _error(
            400,
            "missing_parameters",
            "Say which document: type (the workspace type), key (the business "
            "key) and document (the document type).",
        )
    if not user.has_perm(PERMISSION):
        audit_access(user, key, f"refused: {document_type} of {key}", refused=True)
        return _error(
            403, "forbidden", "You may not read documents: ask for the permission."
        )
    try:
        workspace, document = approved_document(type_key, key, document_type)
    except Unavailable as error:
        return _error(404, error.code, error.message)
    metadata = metadata_of(workspace, document)
    if request.GET.get("metadata") == "1":
        audit_access(user, key, f"metadata of {document.name}", document=document)
        return JsonResponse(metadata)
    return stream(user, workspace, document, metadata)


class Unavailable(Exception):
    """No document to give; ``code`` says why: no_workspace,
    no_approved_document or expired."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def approved_document(
    type_key: str, key: str, document_type: str
) -> tuple[Workspace, WorkspaceDocument]:
    """The business object's workspace and its current approved, unexpired
    document of ``document_type``; else ``Unavailable`` in words."""
    workspace = (
        Workspace.objects.select_related("workspace_type")
        .filter(workspace_type__key=type_key, business_key=key)
        .first()
    )
    if workspace is None:
        raise Unavailable("no_workspace", f"There is no {type_key} workspace “{key}”.")
    document = (
        WorkspaceDocument.objects.filter(
            workspace=workspace,
            document_type=document_type,
            status=DocumentStatus.APPROVED,
        )
        .order_by("-filed_at", "-pk")
        .first()
    )
    kind = document_type.replace("_", " ")
    if document is None:
        raise Unavailable(
            "no_approved_document", f"“{workspace.name}” has no approved {kind}."
        )
    if document.expired_on(timezone.localdate()):
        raise Unavailable(
            "expired",
            f"The {kind} of “{workspace.name}” expired on "
            f"{document.valid_until:%-d %b %Y}.",
        )
    return workspace, document


def from_ecm(workspace: Workspace, document: WorkspaceDocument) -> Document:
    """The document's version, as a stream from Content Server
    (ConnectorError if it cannot be read)."""
    from integrations.engine.connections import connector_for

    _, connector = connector_for(workspace.workspace_type.connection_id)
    _, produced = connector.run_action(
        "download",
        {"node_id": document.ecm_node_id, "version": document.version},
        ActionContext(idempotency_key=f"xc-access-{document.pk}"),
    )
    return produced[0]


def stream(
    user: Any, workspace: Workspace, document: WorkspaceDocument, metadata: dict
) -> HttpResponse:
    try:
        content = from_ecm(workspace, document)
    except ConnectorError as error:
        return _error(502, "ecm_unavailable", error.message)
    audit_access(
        user, workspace.business_key, f"read {document.name}", document=document
    )
    response = StreamingHttpResponse(
        iter(content), content_type=content.media_type or "application/octet-stream"
    )
    response["Content-Disposition"] = content_disposition_header(True, document.name)
    if content.declared_size is not None:
        response["Content-Length"] = str(content.declared_size)
    response["X-Document-Type"] = document.document_type
    response["X-Document-Version"] = str(document.version)
    response["X-Document-Node"] = str(document.ecm_node_id)
    response["X-Document-SHA256"] = document.sha256
    response["Cache-Control"] = "no-store"
    return response


def metadata_of(workspace: Workspace, document: WorkspaceDocument) -> dict[str, Any]:
    return {
        "workspace": {
            "type": workspace.workspace_type.key,
            "business_key": workspace.business_key,
            "name": workspace.name,
            "node_id": workspace.ecm_node_id,
        },
        "document": {
            "type": document.document_type,
            "name": document.name,
            "node_id": document.ecm_node_id,
            "version": document.version,
            "sha256": document.sha256,
            "size": document.size,
            "status": document.status,
            "valid_until": document.valid_until.isoformat()
            if document.valid_until
            else None,
            "filed_at": document.filed_at.isoformat(),
        },
    }


def audit_access(
    user: Any,
    key: str,
    what: str,
    *,
    document: WorkspaceDocument | None = None,
    refused: bool = False,
) -> None:
    record(
        EventType.DOCUMENT_ACCESSED,
        Actor.user(user),
        summary=f"{user.get_username()} {what}"[:500],
        payload={"refused": refused},
        system="otcs",
        business_object=key[:300],
        document_ref=document.name[:500] if document else "",
        target_ref=str(document.ecm_node_id) if document else "",
        document_sha256=document.sha256 if document else "",
        document_size=document.size if document else None,
    )


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": code, "message": message}, status=status)
