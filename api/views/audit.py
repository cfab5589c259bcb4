"""The audit trail: search, one event with its chain proof, the CSV export,
the evidence package and the chain's verification status.

As on the compliance pages: searching and reading need
``audit.view_auditevent`` (compliance auditors and integration admins);
exporting, as CSV or as an evidence package, needs
``audit.export_auditevent`` (compliance auditors) and is itself an audit
event naming what was searched. The filters are the search page's
(``audit.search.AuditSearchForm``), every one an exact match; pages are
keyset pages by sequence number, newest first, never counted.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.http import FileResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from api.fields import MAX_ID, enum_of
from api.pagination import NewestFirst
from api.views.workspaces import FileAnswers
from audit import canonical, search, services
from audit.export import csv_response, evidence_response
from audit.models import ActorType, AuditEvent, ChainHead, EventType

VIEW = "audit.view_auditevent"
EXPORT = "audit.export_auditevent"
SEQUENCE = "[0-9]{1,18}"  # a sequence number fits in 63 bits
# No event is this old or this new; the search's day arithmetic would run
# off the calendar there, so such a bound is no bound at all.
EARLIEST, LATEST = date(2, 1, 1), date(9999, 12, 1)


class BySequence(NewestFirst):
    ordering = "-sequence"


class EventFilters(search.AuditSearchForm):
    """The search page's filters, read from the query string.

    A date range that ends before it starts matches no event (the page
    refuses it; a program gets the empty answer it asked for).
    """

    flow = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    run = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)

    def clean(self) -> dict[str, Any]:
        data = forms.Form.clean(self)
        if data.get("date_from") and data["date_from"] < EARLIEST:
            data["date_from"] = None
        if data.get("date_to") and data["date_to"] > LATEST:
            data["date_to"] = None
        return data


def filters_of(request: Request) -> dict[str, object]:
    """The active filters of the query string; 400 naming each bad one.

    An empty date, event type or id is a bad value, not an absent filter
    (the page's form sends empty fields; a program leaves them out).
    """
    form = EventFilters(request.query_params)
    errors = {
        name: [str(message) for message in messages]
        for name, messages in form.errors.items()
    }
    for name in ("date_from", "date_to", "event_type", "flow", "run"):
        if request.query_params.get(name, None) == "":
            errors.setdefault(name, ["Give a value, or leave the parameter out."])
    if errors:
        raise serializers.ValidationError(errors)
    return form.active_filters()


def _text(name: str, max_length: int, description: str) -> OpenApiParameter:
    # The form refuses NUL characters; the schema says so.
    schema = {"type": "string", "maxLength": max_length, "pattern": r"^[^\x00]*$"}
    return OpenApiParameter(name, schema, description=description)


def _id(name: str, description: str) -> OpenApiParameter:
    schema = {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID}
    return OpenApiParameter(name, schema, description=description)


# The form's fields and limits, as the schema says them.
FILTERS = [
    OpenApiParameter(
        "date_from", OpenApiTypes.DATE, description="Events on or after this day."
    ),
    OpenApiParameter(
        "date_to",
        OpenApiTypes.DATE,
        description="Events on or before this day (before date_from: none).",
    ),
    OpenApiParameter("event_type", str, enum=EventType.values),
    _text("actor", 150, "Who: a user name or a component, exactly."),
    _id("flow", "The flow's id."),
    _id("run", "The run's id."),
    _text("system", 40, "The connector key, e.g. otcs."),
    _text("business_object", 200, "The business key, e.g. contract:C-1042."),
    _text("document", 500, "A document reference, target reference or SHA-256."),
]


# --- Serializers ---------------------------------------------------------------


EventTypeField = enum_of(EventType.values, "EventType")
ActorTypeField = enum_of(ActorType.values, "ActorType")
ChainStatusField = enum_of(["intact", "broken", "unverified"], "ChainStatus")


class EventSerializer(serializers.ModelSerializer):
    event_type = EventTypeField(choices=EventType.choices)
    actor_type = ActorTypeField(choices=ActorType.choices)
    payload = serializers.DictField(help_text="Secrets masked when recorded.")

    class Meta:
        model = AuditEvent
        fields = [*canonical.HASHED_FIELDS, "prev_hash", "hash"]
        read_only_fields = fields


class ProofSerializer(serializers.Serializer):
    prev_hash = serializers.CharField(help_text="The previous event's hash.")
    hash = serializers.CharField(help_text="This event's stored hash.")
    recomputed = serializers.CharField(
        help_text="SHA-256(prev_hash + canonical JSON), computed now."
    )
    hash_ok = serializers.BooleanField(help_text="recomputed equals hash.")
    link_ok = serializers.BooleanField(
        help_text="prev_hash equals the previous event's hash."
    )
    canonical = serializers.CharField(help_text="The canonical JSON that is hashed.")


class EventDetailSerializer(EventSerializer):
    proof = ProofSerializer(source="_proof")
    previous = serializers.IntegerField(source="_previous", allow_null=True)
    next = serializers.IntegerField(source="_next", allow_null=True)

    class Meta(EventSerializer.Meta):
        fields = [*EventSerializer.Meta.fields, "proof", "previous", "next"]
        read_only_fields = fields


class VerificationRunSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    full = serializers.BooleanField(help_text="The whole chain, not the new part.")
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField()
    first_sequence = serializers.IntegerField()
    last_sequence = serializers.IntegerField()
    last_hash = serializers.CharField()
    events_verified = serializers.IntegerField()
    broken_sequence = serializers.IntegerField(allow_null=True)
    detail = serializers.CharField()


class HeadSerializer(serializers.Serializer):
    sequence = serializers.IntegerField(help_text="The newest event.")
    hash = serializers.CharField()


class VerificationSerializer(serializers.Serializer):
    status = ChainStatusField(
        choices=["intact", "broken", "unverified"],
        help_text="What the badge says: the last verification's finding.",
    )
    message = serializers.CharField(help_text="The badge's words.")
    last_run = VerificationRunSerializer(allow_null=True)
    head = HeadSerializer()


# --- Views ---------------------------------------------------------------------


class AuditEventViewSet(
    FileAnswers,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Audit events, newest first."""

    required = {"list": VIEW, "retrieve": VIEW, "export": EXPORT}
    serializer_class = EventSerializer
    pagination_class = BySequence
    lookup_field = "sequence"
    lookup_value_regex = SEQUENCE
    files = {"export": "text/csv"}

    def get_queryset(self) -> Any:
        return AuditEvent.objects.all()

    @extend_schema(parameters=FILTERS)
    def list(self, request: Request) -> Response:
        """Search: every filter is an exact match; pages by sequence number."""
        page = self.paginate_queryset(search.filtered(filters_of(request)))
        return self.get_paginated_response(EventSerializer(page, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("sequence", int, OpenApiParameter.PATH)],
        responses=EventDetailSerializer,
    )
    def retrieve(self, request: Request, sequence: str) -> Response:
        """One event with the proof of its place in the chain: its hash
        re-computed now, and its link to the event before."""
        event = AuditEvent.objects.filter(sequence=int(sequence)).first()
        if event is None:
            raise NotFound("No audit event with that number.")
        around = dict(
            AuditEvent.objects.filter(
                sequence__in=(event.sequence - 1, event.sequence + 1)
            ).values_list("sequence", "hash")
        )
        fields = {name: getattr(event, name) for name in canonical.HASHED_FIELDS}
        recomputed = canonical.chain_hash(event.prev_hash, fields)
        previous_hash = around.get(event.sequence - 1, canonical.GENESIS_HASH)
        event._proof = {
            "prev_hash": event.prev_hash,
            "hash": event.hash,
            "recomputed": recomputed,
            "hash_ok": recomputed == event.hash,
            "link_ok": previous_hash == event.prev_hash,
            "canonical": canonical.canonical_bytes(fields).decode(),
        }
        event._previous = event.sequence - 1 if event.sequence - 1 in around else None
        event._next = event.sequence + 1 if event.sequence + 1 in around else None
        return Response(EventDetailSerializer(event).data)

    @extend_schema(
        parameters=FILTERS,
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="Every matching event, oldest first: each hashed "
                "column, prev_hash and hash (the payload as canonical JSON).",
            )
        },
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def export(self, request: Request) -> StreamingHttpResponse:
        """The matching events as CSV, streamed (no limit). The export is
        itself recorded in the trail."""
        return csv_response(request.user, filters_of(request))


class AuditViewSet(FileAnswers, viewsets.GenericViewSet):
    """The chain's verification status and the evidence package."""

    required = {"verification": VIEW, "evidence": EXPORT}
    files = {"evidence": "application/zip"}
    pagination_class = None

    @extend_schema(responses=VerificationSerializer)
    @action(detail=False, methods=["get"])
    def verification(self, request: Request) -> Response:
        """The last verification of the chain and the chain's head, as the
        badge on the compliance page shows them."""
        run = services.last_verification()
        head = ChainHead.objects.filter(pk=1).first()
        if run is None:
            state = "unverified"
            message = "Not verified yet: the check runs every few minutes."
        elif run.ok:
            state = "intact"
            message = f"Chain intact: verified up to event #{run.last_sequence}."
        else:
            state, message = "broken", run.detail
        return Response(
            VerificationSerializer(
                {
                    "status": state,
                    "message": message,
                    "last_run": run,
                    "head": {
                        "sequence": head.sequence if head else 0,
                        "hash": head.hash if head else canonical.GENESIS_HASH,
                    },
                }
            ).data
        )

    @extend_schema(
        parameters=FILTERS,
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="events.csv, manifest.json (file hashes, chain "
                "segment, signed chain head) and README.txt.",
            )
        },
    )
    @action(detail=False, methods=["get"])
    def evidence(self, request: Request) -> FileResponse:
        """The evidence package of the matching events: a zip with the
        events, a manifest of hashes and the signed chain head. The export
        is recorded first, so the package holds its own export event."""
        return evidence_response(request.user, filters_of(request))


def register(router: Any) -> None:
    """Add this module's viewsets to the API router."""
    router.register("audit/events", AuditEventViewSet, basename="audit-event")
    router.register("audit", AuditViewSet, basename="audit")
