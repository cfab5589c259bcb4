"""Workspaces and document access.

Reading workspaces needs ``workspaces.view_workspace``, as the workspace
pages do: the list (search by business key or name, filter by type), one
workspace with its checklist, its records in other systems, its documents
and its legal holds, and its documents alone in pages.

``/documents/`` is the document access of business applications
(``workspaces.access``) with an API token: the current approved, unexpired
version of a business object's document, streamed from Content Server with
its SHA-256 and version in headers, or its metadata alone. Every access, and
every refusal, is an audit event.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.validators import ProhibitNullCharactersValidator as ProhibitNull
from django.core.validators import RegexValidator
from django.db.models import Q, QuerySet
from django.http import HttpResponseBase, JsonResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from api.fields import ID, enum_of, query_params
from api.pagination import NewestFirst
from api.schema import AutoSchema, ErrorSerializer
from workspaces import access
from workspaces.checklist import ItemState, evaluate
from workspaces.models import (
    DocumentRequirement,
    DocumentStatus,
    Workspace,
    WorkspaceDocument,
)

VIEW = "workspaces.view_workspace"


class RecentlyUpdated(NewestFirst):
    ordering = ("-updated_at", "-pk")  # as the workspace list page


class NewestFiled(NewestFirst):
    ordering = ("-filed_at", "-pk")  # as the workspace page


# --- Serializers ---------------------------------------------------------------


class Text(serializers.CharField):
    """Text without NUL characters (no stored value can hold one), and the
    schema says so, so that generated input leaves them out too."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators = [
            *(v for v in self.validators if not isinstance(v, ProhibitNull)),
            RegexValidator(r"^[^\x00]*$", "Null characters are not allowed."),
        ]


DocumentStatusField = enum_of(DocumentStatus.values, "DocumentStatus")
ChecklistStateField = enum_of(ItemState.values, "ChecklistState")


class ChecklistSummarySerializer(serializers.Serializer):
    done = serializers.IntegerField(help_text="Required documents present.")
    total = serializers.IntegerField(help_text="Required documents.")
    complete = serializers.BooleanField()
    summary = serializers.CharField(help_text="As the page says it: “2 of 4”.")


class ChecklistItemSerializer(serializers.Serializer):
    document_type = serializers.CharField(source="requirement.document_type")
    label = serializers.CharField()
    required = serializers.BooleanField(source="requirement.required")
    needs_approval = serializers.BooleanField(source="requirement.needs_approval")
    valid_days = serializers.IntegerField(
        source="requirement.valid_days", allow_null=True
    )
    state = ChecklistStateField(choices=ItemState.choices)
    state_label = serializers.CharField()
    document = serializers.IntegerField(
        source="document.pk",
        allow_null=True,
        help_text="The document that counts (the newest of its type), if any.",
    )


class ChecklistSerializer(ChecklistSummarySerializer):
    items = ChecklistItemSerializer(many=True)


class LinkSerializer(serializers.Serializer):
    system = serializers.CharField(help_text="The connector key, e.g. dynamics.")
    object_type = serializers.CharField()
    object_id = serializers.CharField()


class DocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    document_type = serializers.CharField()
    type_label = serializers.CharField(help_text="The checklist item's label.")
    name = serializers.CharField()
    version = serializers.IntegerField()
    status = DocumentStatusField(choices=DocumentStatus.choices)
    sha256 = serializers.CharField(help_text="Empty when it was not computed.")
    size = serializers.IntegerField(allow_null=True)
    valid_until = serializers.DateField(allow_null=True)
    filed_at = serializers.DateTimeField()
    ecm_node_id = serializers.IntegerField(help_text="Its node in Content Server.")
    run = serializers.IntegerField(source="run_id", allow_null=True)
    transfer = serializers.IntegerField(source="transfer_id", allow_null=True)


class HoldSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    comment = serializers.CharField()
    applied_by = serializers.CharField(source="applied_by.username", allow_null=True)
    applied_at = serializers.DateTimeField()
    nodes = serializers.IntegerField(help_text="Documents it was put on.")
    active = serializers.SerializerMethodField()
    released_at = serializers.DateTimeField(allow_null=True)

    def get_active(self, hold: Any) -> bool:
        return hold.released_at is None


class WorkspaceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.CharField(source="workspace_type.key")
    type_name = serializers.CharField(source="workspace_type.name")
    business_key = serializers.CharField()
    name = serializers.CharField()
    ecm_node_id = serializers.IntegerField(
        allow_null=True, help_text="Its workspace in Content Server (empty: not yet)."
    )
    checklist = ChecklistSummarySerializer()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    synced_at = serializers.DateTimeField(allow_null=True)


class WorkspaceDetailSerializer(WorkspaceSerializer):
    checklist = ChecklistSerializer()  # type: ignore[assignment]
    sync_error = serializers.CharField()
    # The lists the view loaded, not the related managers.
    links = LinkSerializer(
        many=True, source="links_list", help_text="Its records in other systems."
    )
    documents = DocumentSerializer(
        many=True, source="documents_list", help_text="Newest first."
    )
    holds = HoldSerializer(
        many=True, source="holds_list", help_text="Newest first; active and released."
    )


class WorkspaceFilterSerializer(serializers.Serializer):
    q = Text(
        required=False,
        allow_blank=True,
        max_length=300,
        help_text="Part of the business key or of the name.",
    )
    type = serializers.SlugField(
        required=False,
        allow_blank=True,
        max_length=60,
        help_text="The workspace type's key, e.g. supplier.",
    )


class DocumentFilterSerializer(serializers.Serializer):
    document_type = serializers.SlugField(required=False, max_length=60)
    status = serializers.ChoiceField(choices=DocumentStatus.choices, required=False)


# --- Workspaces ----------------------------------------------------------------


def _with_labels(
    documents: list[WorkspaceDocument], requirements: list[DocumentRequirement]
) -> list[WorkspaceDocument]:
    labels = {r.document_type: r.label for r in requirements}
    for document in documents:
        document.type_label = labels.get(document.document_type, document.document_type)
    return documents


class WorkspaceViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Business workspaces, most recently changed first."""

    required = {"list": VIEW, "retrieve": VIEW}
    lookup_value_regex = ID
    pagination_class = RecentlyUpdated

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "retrieve":
            return WorkspaceDetailSerializer
        return WorkspaceSerializer

    def get_queryset(self) -> QuerySet[Workspace]:
        workspaces = Workspace.objects.select_related("workspace_type")
        if self.action == "list":
            return workspaces.prefetch_related(
                "workspace_type__requirements", "documents"
            )
        return workspaces

    @extend_schema(parameters=[WorkspaceFilterSerializer])
    def list(self, request: Request) -> Response:
        """Workspaces, with how complete each one's checklist is."""
        filters = query_params(request, WorkspaceFilterSerializer)
        text, type_key = filters.get("q", ""), filters.get("type", "")
        workspaces = self.get_queryset()
        if text:
            workspaces = workspaces.filter(
                Q(business_key__icontains=text) | Q(name__icontains=text)
            )
        if type_key:
            workspaces = workspaces.filter(workspace_type__key=type_key)
        page = self.paginate_queryset(workspaces)
        today = timezone.localdate()
        for workspace in page:
            workspace.checklist = evaluate(
                workspace.workspace_type.requirements.all(),
                workspace.documents.all(),
                today,
            )
        return self.get_paginated_response(WorkspaceSerializer(page, many=True).data)

    @extend_schema(parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)])
    def retrieve(self, request: Request, pk: str) -> Response:
        """One workspace: its checklist (each item's state), its records in
        other systems, its documents and its legal holds."""
        workspace = self.get_object()
        requirements = list(workspace.workspace_type.requirements.all())
        documents = _with_labels(
            list(workspace.documents.order_by("-filed_at", "-pk")), requirements
        )
        workspace.checklist = evaluate(requirements, documents, timezone.localdate())
        workspace.links_list = list(workspace.links.all())
        workspace.documents_list = documents
        workspace.holds_list = list(workspace.holds.select_related("applied_by"))
        return Response(WorkspaceDetailSerializer(workspace).data)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("workspace_pk", int, OpenApiParameter.PATH),
            DocumentFilterSerializer,
        ]
    )
)
class WorkspaceDocumentViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """A workspace's documents, newest first (every version filed)."""

    required = {"list": VIEW}
    serializer_class = DocumentSerializer
    pagination_class = NewestFiled

    def list(self, request: Request, workspace_pk: str) -> Response:
        workspace = (
            Workspace.objects.select_related("workspace_type")
            .filter(pk=workspace_pk)
            .first()
        )
        if workspace is None:
            raise NotFound("There is no workspace with this id.")
        documents = workspace.documents.filter(
            **query_params(request, DocumentFilterSerializer)
        )
        page = self.paginate_queryset(documents)
        _with_labels(page, list(workspace.workspace_type.requirements.all()))
        return self.get_paginated_response(DocumentSerializer(page, many=True).data)


# --- Document access -----------------------------------------------------------


class Unavailable(exceptions.APIException):
    """No document to give: the code says why (no workspace, none approved,
    expired), as the document access endpoint of the UI says it."""

    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"


class EcmUnavailable(exceptions.APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_code = "ecm_unavailable"
    default_detail = "Content Server could not be reached: try again later."


class FileRenderer(BaseRenderer):
    """Lets a client ask for a file's media type (``Accept: text/csv``); the
    file itself never goes through a renderer."""

    def render(self, data: Any, *args: Any, **kwargs: Any) -> Any:
        return data


def file_renderer(media_type: str) -> type[FileRenderer]:
    return type("FileRenderer", (FileRenderer,), {"media_type": media_type})


class JsonErrorsSchema(AutoSchema):
    """Errors are documented as JSON only; the file's own media types are
    named in each operation's 200 response."""

    def map_renderers(self, attribute: str) -> list[Any]:
        return ["application/json" if attribute == "media_type" else "json"]


class FileAnswers:
    """A view whose ``files`` operations answer with a file: the client may
    ask for that file's media type, while data and errors stay JSON."""

    files: dict[str, str] = {}  # action: media type
    schema = JsonErrorsSchema()

    def get_renderers(self) -> list[BaseRenderer]:
        renderers = super().get_renderers()  # type: ignore[misc]
        media_type = self.files.get(getattr(self, "action", None) or "")
        return [*renderers, file_renderer(media_type)()] if media_type else renderers

    def finalize_response(
        self, request: Request, response: Any, *args: Any, **kwargs: Any
    ) -> Any:
        if isinstance(response, Response):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]


class DocumentQuerySerializer(serializers.Serializer):
    type = serializers.SlugField(
        max_length=60, help_text="The workspace type's key, e.g. supplier."
    )
    # Spaces around it are dropped in the view: a key of spaces alone is
    # one no workspace has (404), not a malformed request.
    key = Text(max_length=300, trim_whitespace=False, help_text="The business key.")
    document = serializers.SlugField(
        max_length=60, help_text="The document type, e.g. tax_form."
    )
    metadata = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true (or 1): the metadata alone, as JSON, instead of the content.",
    )


class AccessWorkspaceSerializer(serializers.Serializer):
    type = serializers.CharField()
    business_key = serializers.CharField()
    name = serializers.CharField()
    node_id = serializers.IntegerField(allow_null=True)


class AccessDocumentSerializer(serializers.Serializer):
    type = serializers.CharField()
    name = serializers.CharField()
    node_id = serializers.IntegerField()
    version = serializers.IntegerField()
    sha256 = serializers.CharField()
    size = serializers.IntegerField(allow_null=True)
    status = DocumentStatusField(choices=DocumentStatus.choices)
    valid_until = serializers.DateField(allow_null=True)
    filed_at = serializers.DateTimeField()


@extend_schema_serializer(many=False)
class AccessMetadataSerializer(serializers.Serializer):
    workspace = AccessWorkspaceSerializer()
    document = AccessDocumentSerializer()


CONTENT_HEADERS = [
    OpenApiParameter(
        name,
        str,
        OpenApiParameter.HEADER,
        description=description,
        response=[200],
        required=False,
    )
    for name, description in (
        ("X-Document-SHA256", "The SHA-256 of the content, as filed."),
        ("X-Document-Version", "The Content Server version streamed."),
        ("X-Document-Node", "The document's node in Content Server."),
        ("X-Document-Type", "The document type."),
    )
]
BINARY = OpenApiResponse(
    OpenApiTypes.BINARY,
    description="The content, in the document's own media type.",
)


class DocumentAccessViewSet(FileAnswers, viewsets.GenericViewSet):
    """The current approved version of a business object's document."""

    required = {"list": ""}  # refusals are audited below, as in the UI
    files = {"list": "*/*"}  # the document's own media type
    pagination_class = None

    @extend_schema(
        operation_id="documents_read",
        parameters=[DocumentQuerySerializer, *CONTENT_HEADERS],
        responses={
            (200, "application/json"): AccessMetadataSerializer,
            (200, "application/octet-stream"): BINARY,
            (200, "*/*"): BINARY,
            404: OpenApiResponse(
                ErrorSerializer,
                description="`no_workspace`, `no_approved_document` or `expired`.",
            ),
            502: OpenApiResponse(
                ErrorSerializer,
                description="`ecm_unavailable`: Content Server did not answer.",
            ),
        },
    )
    def list(self, request: Request) -> HttpResponseBase:
        """Stream the current approved, unexpired version of the business
        object's document from Content Server (`metadata=true`: its metadata
        as JSON). Needs `workspaces.access_document`; every access and every
        refusal is in the audit trail."""
        asked = query_params(request, DocumentQuerySerializer)
        user, key, document_type = request.user, asked["key"].strip(), asked["document"]
        if not user.has_perm(access.PERMISSION):
            access.audit_access(
                user, key, f"refused: {document_type} of {key}", refused=True
            )
            raise PermissionDenied(
                "You may not read documents: ask for the permission."
            )
        try:
            workspace, document = access.approved_document(
                asked["type"], key, document_type
            )
        except access.Unavailable as error:
            raise Unavailable(error.message, error.code) from None
        metadata = access.metadata_of(workspace, document)
        if asked["metadata"]:
            access.audit_access(
                user, key, f"metadata of {document.name}", document=document
            )
            return Response(metadata)
        answer = access.stream(user, workspace, document, metadata)
        if isinstance(answer, JsonResponse):  # Content Server did not answer
            raise EcmUnavailable(_message(answer))
        return answer


def _message(answer: JsonResponse) -> str:
    return str(json.loads(answer.content).get("message", ""))


def register(router: Any) -> None:
    """Add this module's viewsets to the API router."""
    router.register(
        f"workspaces/(?P<workspace_pk>{ID})/documents",
        WorkspaceDocumentViewSet,
        basename="workspace-document",
    )
    router.register("workspaces", WorkspaceViewSet, basename="workspace")
    router.register("documents", DocumentAccessViewSet, basename="document-access")
