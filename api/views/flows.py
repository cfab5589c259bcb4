"""Flows, their versions, export and import, and the flow templates.

The same operations and permissions as the flow pages: anyone whose role
views flows reads them, their versions and their exports; creating,
importing and making flows from templates needs ``add_flow`` (the template
gallery too, as in the UI); publishing, restoring, activating and pausing
need ``change_flow``. A definition holds connection ids, never a secret,
and an export names connections instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from api.errors import Conflict
from api.fields import ID
from api.pagination import NewestFirst
from api.serializers_flows import (
    MAX_ID,
    FlowDetailSerializer,
    FlowDiffQuerySerializer,
    FlowDiffSerializer,
    FlowExportSerializer,
    FlowFilterSerializer,
    FlowImportSerializer,
    FlowPublishSerializer,
    FlowSerializer,
    FlowTemplateSerializer,
    FlowVersionDetailSerializer,
    FlowVersionSerializer,
    NewFlowSerializer,
    TemplateInstantiateSerializer,
)
from connectors.models import Connection
from integrations import flow_templates, services, versions
from integrations.flow_templates import FlowTemplate, TemplateError
from integrations.models import Flow, FlowStatus, FlowVersion

VIEW = "integrations.view_flow"
ADD = "integrations.add_flow"
CHANGE = "integrations.change_flow"


class ByName(NewestFirst):
    ordering = "name"  # flow names are unique


class ByNumber(NewestFirst):
    ordering = "-number"  # unique within a flow


def invalid_definition(
    error: services.InvalidDefinition,
) -> serializers.ValidationError:
    return serializers.ValidationError({"definition": error.problems})


@contextmanager
def refused_in_words() -> Iterator[None]:
    """A new flow refused: its definition's problems, or its name taken."""
    try:
        yield
    except services.InvalidDefinition as error:
        raise invalid_definition(error) from None
    except IntegrityError:
        raise serializers.ValidationError(
            {"name": ["Another flow already has this name."]}
        ) from None


def detail(flow: Flow) -> dict[str, Any]:
    flow = Flow.objects.select_related("published_version", "owner").get(pk=flow.pk)
    return FlowDetailSerializer(flow).data


# --- Flows -------------------------------------------------------------------


class FlowViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Flows: a trigger followed by steps; what runs is the current version."""

    serializer_class = FlowDetailSerializer
    pagination_class = ByName
    lookup_value_regex = ID
    required = {
        "read": VIEW,
        "list": VIEW,
        "retrieve": VIEW,
        "export": VIEW,
        "create": ADD,
        "import_flow": ADD,
        "publish": CHANGE,
        "activate": CHANGE,
        "deactivate": CHANGE,
    }

    def get_queryset(self) -> Any:
        flows = Flow.objects.select_related("published_version", "owner")
        if self.action == "list":
            return flows.defer(
                "published_version__definition", "draft", "draft_history", "sample"
            )
        return flows

    def get_serializer_class(self) -> Any:
        return FlowSerializer if self.action == "list" else FlowDetailSerializer

    def get_object(self) -> Flow:
        pk = self.kwargs["pk"]
        try:
            return self.get_queryset().get(pk=int(pk))
        except Flow.DoesNotExist:
            raise NotFound(f"There is no flow {pk}, or you may not see it.") from None

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status",
                str,
                enum=list(FlowStatus.values),
                description="Only flows in this status.",
            ),
            OpenApiParameter(
                "q",
                {"type": "string", "maxLength": 200},
                description="Part of the flow's name.",
            ),
        ],
        responses=FlowSerializer(many=True),
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The flows, by name; `status` and `q` (part of the name) filter them."""
        query = FlowFilterSerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        flows = self.get_queryset()
        if "status" in query.validated_data:
            flows = flows.filter(status=query.validated_data["status"])
        if query.validated_data.get("q"):
            flows = flows.filter(name__icontains=query.validated_data["q"])
        page = self.paginate_queryset(flows)
        return self.get_paginated_response(FlowSerializer(page, many=True).data)

    @extend_schema(request=NewFlowSerializer, responses={201: FlowDetailSerializer})
    def create(self, request: Request) -> Response:
        """A new flow with its first published version (off until activated).
        An invalid definition is refused with every problem, in words."""
        given = NewFlowSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        values = given.validated_data
        with refused_in_words():
            flow = services.create_flow(
                values["name"],
                values["definition"],
                request.user,
                description=values["description"],
                note=values["note"],
            )
        return Response(detail(flow), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=FlowPublishSerializer, responses={201: FlowVersionDetailSerializer}
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str) -> Response:
        """Publish a definition as the flow's next, current version (with a
        note saying what it changes). Runs already going keep their version."""
        flow = self.get_object()
        given = FlowPublishSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            version = services.publish_version(
                flow,
                given.validated_data["definition"],
                request.user,
                note=given.validated_data["note"],
            )
        except services.InvalidDefinition as error:
            raise invalid_definition(error) from None
        return Response(
            FlowVersionDetailSerializer(
                version, context={"current_version_id": version.pk}
            ).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=None, responses=FlowDetailSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request: Request, pk: str) -> Response:
        """Turn the flow on: its trigger starts runs. 409 before a version is
        published."""
        flow = self.get_object()
        if flow.status != FlowStatus.ACTIVE:
            try:
                flow = services.set_status(flow, FlowStatus.ACTIVE, request.user)
            except services.InvalidDefinition as error:
                raise Conflict(" ".join(error.problems)) from None
        return Response(detail(flow))

    @extend_schema(request=None, responses=FlowDetailSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk: str) -> Response:
        """Pause the flow: its trigger starts no more runs; runs already going
        go on. A flow that is not on stays as it is."""
        flow = self.get_object()
        if flow.status == FlowStatus.ACTIVE:
            flow = services.set_status(flow, FlowStatus.PAUSED, request.user)
        return Response(detail(flow))

    @extend_schema(responses=FlowExportSerializer)
    @action(detail=True, methods=["get"])
    def export(self, request: Request, pk: str) -> Response:
        """The current version as portable JSON for `POST /flows/import/`:
        connections by name and connector, never by number; no secret."""
        flow = self.get_object()
        try:
            return Response(versions.export_flow(flow))
        except ValueError as error:
            raise Conflict(str(error)) from None

    @extend_schema(request=FlowImportSerializer, responses={201: FlowDetailSerializer})
    @action(detail=False, methods=["post"], url_path="import")
    def import_flow(self, request: Request) -> Response:
        """A new flow (off) from an export, on this installation's connections
        of the same names and connectors; refused with what is missing."""
        given = FlowImportSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        with refused_in_words():
            try:
                flow = versions.import_flow(
                    request.data["export"],
                    request.user,
                    name=given.validated_data["name"],
                )
            except versions.ImportRefused as refused:
                raise serializers.ValidationError(refused.problems) from None
        return Response(detail(flow), status=status.HTTP_201_CREATED)


# --- Versions ------------------------------------------------------------------


class FlowVersionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """A flow's versions, newest first: immutable, each with its note."""

    serializer_class = FlowVersionDetailSerializer
    pagination_class = ByNumber
    lookup_field = "number"
    lookup_value_regex = ID
    required = {
        "read": VIEW,
        "list": VIEW,
        "retrieve": VIEW,
        "diff": VIEW,
        "restore": CHANGE,
    }

    def flow(self) -> Flow:
        if not hasattr(self, "_flow"):
            pk = self.kwargs["flow_pk"]
            try:
                self._flow = Flow.objects.get(pk=int(pk))
            except Flow.DoesNotExist:
                raise NotFound(
                    f"There is no flow {pk}, or you may not see it."
                ) from None
        return self._flow

    def get_queryset(self) -> Any:
        found = FlowVersion.objects.filter(flow=self.flow()).select_related("author")
        return found.defer("definition") if self.action == "list" else found

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if "flow_pk" in self.kwargs:  # not while the schema is generated
            context["current_version_id"] = self.flow().published_version_id
        return context

    def get_serializer_class(self) -> Any:
        return (
            FlowVersionSerializer
            if self.action == "list"
            else FlowVersionDetailSerializer
        )

    def get_object(self) -> FlowVersion:
        return self.version(self.kwargs["number"])

    def version(self, number: Any) -> FlowVersion:
        try:
            return self.get_queryset().get(number=int(number))
        except FlowVersion.DoesNotExist:
            raise NotFound(f"“{self.flow().name}” has no version {number}.") from None

    @extend_schema(
        parameters=[OpenApiParameter("flow_pk", int, OpenApiParameter.PATH)],
        responses=FlowVersionSerializer(many=True),
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        parameters=[OpenApiParameter("flow_pk", int, OpenApiParameter.PATH)],
        responses=FlowVersionDetailSerializer,
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        parameters=[
            OpenApiParameter("flow_pk", int, OpenApiParameter.PATH),
            OpenApiParameter(
                "against",
                {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                description="The version to compare with (default: the one before).",
            ),
        ],
        responses=FlowDiffSerializer,
    )
    @action(detail=True, methods=["get"])
    def diff(self, request: Request, flow_pk: str, number: str) -> Response:
        """What changed from `against` (default: the version before) to this
        version, one sentence each, as the compare page says it."""
        query = FlowDiffQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        newer = self.get_object()
        against = query.validated_data.get("against")
        if against is None:
            older = (
                self.get_queryset()
                .filter(number__lt=newer.number)
                .order_by("-number")
                .first()
            )
        else:
            try:
                older = self.get_queryset().get(number=against)
            except FlowVersion.DoesNotExist:
                raise NotFound(
                    f"“{self.flow().name}” has no version {against} to compare with."
                ) from None
        said: list[str] = []
        if older is not None:
            names = versions.connection_names(older.definition, newer.definition)
            said = versions.changes(older.definition, newer.definition, names)
        return Response(
            {
                "number": newer.number,
                "against": older.number if older else None,
                "changes": said,
            }
        )

    @extend_schema(
        parameters=[OpenApiParameter("flow_pk", int, OpenApiParameter.PATH)],
        request=None,
        responses={201: FlowVersionDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, flow_pk: str, number: str) -> Response:
        """Use this version again: its definition is published as the newest
        version (history is never rewritten). 409 when it no longer holds."""
        old = self.get_object()
        try:
            version = versions.restore(self.flow(), old, request.user)
        except services.InvalidDefinition as error:
            raise Conflict(
                f"Version {old.number} cannot be used any more: "
                + " ".join(error.problems)
            ) from None
        return Response(
            FlowVersionDetailSerializer(
                version, context={"current_version_id": version.pk}
            ).data,
            status=status.HTTP_201_CREATED,
        )


# --- Templates -------------------------------------------------------------------


def describe(template: FlowTemplate) -> dict[str, Any]:
    return {
        "key": template.key,
        "title": template.title,
        "description": template.summary,
        "group": template.group,
        "systems": template.systems,
        "slots": [
            {
                "key": slot.key,
                "label": slot.label,
                "help": slot.help,
                "connector": slot.connector,
                "connector_label": slot.connector_label,
            }
            for slot in template.slots
        ],
        "steps": template.picture(),
        "sample": template.sample,
    }


class TemplateViewSet(viewsets.ViewSet):
    """A flow for each use case; instantiating one asks only for the
    connections its slots need. As in the gallery, it takes `add_flow`."""

    serializer_class = FlowTemplateSerializer
    lookup_field = "key"
    lookup_value_regex = "[a-z0-9-]{1,60}"
    required = {"read": ADD, "list": ADD, "retrieve": ADD, "instantiate": ADD}

    @staticmethod
    def template(key: str) -> FlowTemplate:
        try:
            return flow_templates.get(key)
        except TemplateError as error:
            raise NotFound(error.message) from None

    @extend_schema(responses=FlowTemplateSerializer(many=True))
    def list(self, request: Request) -> Response:
        return Response([describe(t) for t in flow_templates.all_templates()])

    @extend_schema(responses=FlowTemplateSerializer)
    def retrieve(self, request: Request, key: str) -> Response:
        return Response(describe(self.template(key)))

    @extend_schema(
        request=TemplateInstantiateSerializer, responses={201: FlowDetailSerializer}
    )
    @action(detail=True, methods=["post"])
    def instantiate(self, request: Request, key: str) -> Response:
        """A new flow from the template on the chosen connections (one per
        slot, of the slot's connector), with its first version published;
        on unless `activate` is false."""
        template = self.template(key)
        given = TemplateInstantiateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        values = given.validated_data
        chosen = _chosen_connections(template, values["connections"])
        with refused_in_words():
            try:
                with transaction.atomic():
                    flow = flow_templates.instantiate(
                        key,
                        chosen,
                        request.user,
                        name=values.get("name", ""),
                        activate=values["activate"],
                    )
            except TemplateError as error:
                raise serializers.ValidationError(
                    {
                        ("name" if slot == "name" else f"connections.{slot}"): [problem]
                        for slot, problem in error.errors.items()
                    }
                    or [error.message]
                ) from None
        return Response(detail(flow), status=status.HTTP_201_CREATED)


def _chosen_connections(
    template: FlowTemplate, ids: dict[str, int]
) -> dict[str, Connection | None]:
    """Each slot's connection; an unknown slot or connection is refused."""
    slots = {slot.key for slot in template.slots}
    found = Connection.objects.in_bulk(set(ids.values()))
    problems = {}
    for slot, pk in ids.items():
        if slot not in slots:
            problems[f"connections.{slot}"] = [
                f"The template has no slot “{slot}”: it needs "
                + ", ".join(sorted(slots))
                + "."
            ]
        elif pk not in found:
            problems[f"connections.{slot}"] = [f"There is no connection {pk}."]
    if problems:
        raise serializers.ValidationError(problems)
    return {slot: found.get(ids[slot]) if slot in ids else None for slot in slots}


def register(router: Any) -> None:
    """Add this module's viewsets to the API router."""
    router.register("flows", FlowViewSet, basename="flow")
    router.register(
        rf"flows/(?P<flow_pk>{ID})/versions",
        FlowVersionViewSet,
        basename="flow-version",
    )
    router.register("templates", TemplateViewSet, basename="template")
