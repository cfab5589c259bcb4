"""Runs and the document transfer ledger.

Runs are listed newest first with the run page's filters; one run shows
its steps (what each was given and produced, as the run page shows them),
the documents it moved and the tasks waiting for a person. Starting,
replaying and cancelling go through ``integrations.services``, which check
the permission again and refuse a run in the wrong state in words.

A started run is queued for a worker: poll ``GET /api/v1/runs/{id}/`` until
its ``status`` is no longer queued, running, retrying or waiting.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.validators import RegexValidator
from django.db.models import Prefetch, Q, QuerySet, TextChoices
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from api.errors import Conflict
from api.fields import MAX_ID, JsonInteger, JsonText, enum_of, query_params
from connectors.errors import PermanentError
from integrations import services
from integrations.models import (
    PENDING_STATUSES,
    AttemptOutcome,
    Flow,
    FlowRun,
    ReviewTask,
    RunStatus,
    StepRun,
    StepStatus,
    TaskKind,
    TaskStatus,
    Transfer,
    TransferAttempt,
    TransferStatus,
)
from integrations.views.runs import PERIODS, STEP_TYPE_LABELS, step_labels

COMMENT_LIMIT = 2000
VIEW_RUN = "integrations.view_flowrun"


def refusal(error: Exception) -> Exception:
    """A service's refusal as the API's answer, in the service's words."""
    if isinstance(error, DjangoPermissionDenied):
        return PermissionDenied(str(error) or "Your role does not allow this.")
    if isinstance(error, services.InvalidDefinition):
        return Conflict(" ".join(error.problems))
    if isinstance(error, PermanentError):
        return Conflict(error.message)
    return error


def id_field(*, body: bool = False, **options: Any) -> serializers.IntegerField:
    """An id: in a JSON body a number, in a query a string of digits."""
    kind = JsonInteger if body else serializers.IntegerField
    return kind(min_value=1, max_value=MAX_ID, **options)


# What Python's str.strip() removes, as a regular expression class that
# Python and JSON Schema (ECMA) read alike: the schema then says exactly
# which texts are accepted.
SPACES = (
    r"\t\n\u000b\u000c\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a"
    r"\u2028\u2029\u202f\u205f\u3000"
)
NO_NUL = "Null characters are not allowed."


def text(max_length: int, *, needed: str = "", **options: Any) -> serializers.CharField:
    """A text field of at most ``max_length`` characters as sent (trim it
    where it is used). ``needed``: the message when it holds no word."""
    if needed:
        pattern = rf"^[^\u0000]*[^\u0000{SPACES}][^\u0000]*$"
        message = needed
        options.setdefault("error_messages", {})
        options["error_messages"].update(required=needed, blank=needed)
    else:
        # "+", not "*": the empty text is the schema's other choice (oneOf).
        pattern, message = r"^[^\u0000]+$", NO_NUL
        options.setdefault("allow_blank", True)
    return JsonText(
        max_length=max_length,
        trim_whitespace=False,
        validators=[RegexValidator(pattern, message)],
        **options,
    )


RunStatusField = enum_of(RunStatus, "RunStatus")
StepStatusField = enum_of(StepStatus, "StepStatus")
TransferStatusField = enum_of(TransferStatus, "TransferStatus")
AttemptOutcomeField = enum_of(AttemptOutcome, "AttemptOutcome")
TaskStatusField = enum_of(TaskStatus, "TaskStatus")
TaskKindField = enum_of(TaskKind, "TaskKind")


class FromStep(TextChoices):
    FAILED = "failed", "The step that stopped"
    START = "start", "The beginning"


class ReplayVersion(TextChoices):
    PINNED = "pinned", "The run's own version, as before"
    LATEST = "latest", "The flow's latest published version"


FromStepField = enum_of(FromStep, "ReplayFromStep")
ReplayVersionField = enum_of(ReplayVersion, "ReplayVersion")


def lookup(queryset: QuerySet[Any], pk: str | int, what: str) -> Any:
    """The object, or a 404 that says what was not found."""
    try:
        return queryset.get(pk=int(pk))
    except (queryset.model.DoesNotExist, ValueError):
        raise NotFound(f"There is no {what} {pk}.") from None


# --- Serializers ---------------------------------------------------------------------


class StepSerializer(serializers.ModelSerializer):
    """One attempt at one step: the run page's timeline entry."""

    key = serializers.CharField(source="step_key")
    index = serializers.IntegerField(source="step_index")
    label = serializers.SerializerMethodField(help_text="The step's name.")
    type = serializers.CharField(source="step_type")
    type_label = serializers.SerializerMethodField()
    status = StepStatusField(choices=StepStatus.choices)
    system = serializers.CharField(help_text="The connector it talked to, or empty.")
    error = serializers.CharField(help_text="What went wrong, in words; empty if fine.")
    input = serializers.JSONField(allow_null=True, help_text="What the step was given.")
    output = serializers.JSONField(allow_null=True, help_text="What it produced.")

    class Meta:
        model = StepRun
        fields = [
            "key",
            "index",
            "label",
            "type",
            "type_label",
            "status",
            "system",
            "attempt",
            "http_status",
            "error",
            "duration_ms",
            "started_at",
            "finished_at",
            "input",
            "output",
        ]
        read_only_fields = fields

    def get_label(self, step: StepRun) -> str:
        return self.context.get("labels", {}).get(step.step_key, step.step_key)

    def get_type_label(self, step: StepRun) -> str:
        return STEP_TYPE_LABELS.get(step.step_type, step.step_type)


class AttemptSerializer(serializers.ModelSerializer):
    """One try at sending a transfer's document."""

    outcome = AttemptOutcomeField(choices=AttemptOutcome.choices)

    class Meta:
        model = TransferAttempt
        fields = [
            "run",
            "run_attempt",
            "outcome",
            "http_status",
            "error",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class TransferSerializer(serializers.ModelSerializer):
    """One source document's move to its target, with every try."""

    status = TransferStatusField(choices=TransferStatus.choices)
    attempts = AttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Transfer
        fields = [
            "id",
            "flow",
            "run",
            "step_key",
            "name",
            "media_type",
            "size",
            "sha256",
            "source_system",
            "source_id",
            "source_version",
            "target_system",
            "target_ref",
            "status",
            "error",
            "attempts",
            "created_at",
            "completed_at",
        ]
        read_only_fields = fields


class RunTaskSerializer(serializers.ModelSerializer):
    """A task waiting for a person about this run (see /api/v1/tasks/)."""

    kind = TaskKindField(choices=TaskKind.choices)
    status = TaskStatusField(choices=TaskStatus.choices)

    class Meta:
        model = ReviewTask
        fields = ["id", "kind", "status", "title", "queue", "reason", "created_at"]
        read_only_fields = fields


class RunSerializer(serializers.ModelSerializer):
    """A run as the run list shows it."""

    flow_name = serializers.CharField(source="flow.name")
    version = serializers.IntegerField(
        source="version.number", help_text="The flow version's number."
    )
    status = RunStatusField(choices=RunStatus.choices)
    status_label = serializers.CharField(source="get_status_display")
    error = serializers.CharField(help_text="Why it stopped, in words; or empty.")
    started_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = FlowRun
        fields = [
            "id",
            "flow",
            "flow_name",
            "version",
            "status",
            "status_label",
            "trigger_kind",
            "event_id",
            "business_key",
            "error",
            "attempt",
            "started_by",
            "replay_of",
            "parent_run",
            "created_at",
            "started_at",
            "finished_at",
            "next_attempt_at",
        ]
        read_only_fields = fields


class RunDetailSerializer(RunSerializer):
    """One run's story: its trigger data, steps, documents and open tasks."""

    payload = serializers.JSONField(help_text="The trigger's data.")
    steps = serializers.SerializerMethodField()
    transfers = TransferSerializer(many=True, read_only=True)
    tasks = serializers.SerializerMethodField(
        help_text="The tasks still waiting for a person."
    )
    replays = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta(RunSerializer.Meta):
        fields = [
            *RunSerializer.Meta.fields,
            "payload",
            "steps",
            "transfers",
            "tasks",
            "replays",
        ]
        read_only_fields = fields

    @extend_schema_field(StepSerializer(many=True))
    def get_steps(self, run: FlowRun) -> Any:
        return StepSerializer(
            run.steps.all(), many=True, context={"labels": step_labels(run.version)}
        ).data

    @extend_schema_field(RunTaskSerializer(many=True))
    def get_tasks(self, run: FlowRun) -> Any:
        pending = [task for task in run.tasks.all() if task.is_pending]
        return RunTaskSerializer(pending, many=True).data


class StartSerializer(serializers.Serializer):
    flow = id_field(body=True, help_text="The flow to run (its published version).")
    payload = serializers.DictField(
        required=False,
        default=dict,
        help_text='The trigger\'s data, a JSON object, e.g. {"order": "A-1042"}.',
    )
    idempotency_key = text(
        200,
        required=False,
        help_text="The same key twice starts one run (the second answer is 200).",
    )


class ReplaySerializer(serializers.Serializer):
    from_step = FromStepField(
        choices=FromStep.choices,
        default="failed",
        help_text="`failed`: carry on from the step that stopped, with what "
        "the earlier steps produced; `start`: begin anew.",
    )
    version = ReplayVersionField(
        choices=ReplayVersion.choices,
        default="pinned",
    )
    comment = text(COMMENT_LIMIT, required=False, default="")


class CancelSerializer(serializers.Serializer):
    comment = text(COMMENT_LIMIT, required=False, default="")


class RunFilters(serializers.Serializer):
    flow = id_field(required=False, help_text="Only this flow's runs.")
    status = serializers.ChoiceField(
        choices=RunStatus.choices, required=False, help_text="Only runs so."
    )
    q = text(300, required=False, help_text="Part of the business key or event id.")
    since = serializers.ChoiceField(
        choices=list(PERIODS),
        required=False,
        help_text="Created in the last hour, 24 hours, 7 or 30 days.",
    )


class TransferFilters(serializers.Serializer):
    status = serializers.ChoiceField(choices=TransferStatus.choices, required=False)
    run = id_field(required=False, help_text="Only this run's.")
    source_system = text(200, required=False)
    sha256 = serializers.RegexField(
        r"^[0-9a-fA-F]{64}$",
        required=False,
        error_messages={"invalid": "A SHA-256 is 64 hexadecimal characters."},
        help_text="The document's SHA-256 (64 hexadecimal characters).",
    )


# --- Views ---------------------------------------------------------------------------


def _runs() -> QuerySet[FlowRun]:
    return FlowRun.objects.select_related("flow", "version", "started_by")


def _one_run() -> QuerySet[FlowRun]:
    return _runs().prefetch_related(
        Prefetch("steps", queryset=StepRun.objects.order_by("started_at", "pk")),
        Prefetch(
            "transfers",
            queryset=Transfer.objects.prefetch_related("attempts").order_by(
                "created_at", "pk"
            ),
        ),
        Prefetch(
            "tasks",
            queryset=ReviewTask.objects.filter(status__in=PENDING_STATUSES).order_by(
                "created_at", "pk"
            ),
        ),
        Prefetch("replays", queryset=FlowRun.objects.order_by("created_at", "pk")),
    )


class RunViewSet(viewsets.GenericViewSet):
    """Runs, newest first. `POST` starts a run by hand; poll the run until
    its status is final (succeeded, failed, cancelled, needs_review)."""

    serializer_class = RunSerializer
    queryset = FlowRun.objects.none()
    lookup_value_regex = "[0-9]{1,18}"
    required = {
        "list": VIEW_RUN,
        "retrieve": VIEW_RUN,
        "steps": VIEW_RUN,
        "create": "integrations.start_flowrun",
        "replay": "integrations.replay_flowrun",
        "cancel": "integrations.cancel_flowrun",
    }

    def get_queryset(self) -> QuerySet[FlowRun]:
        return _runs()

    @extend_schema(parameters=[RunFilters], responses=RunSerializer(many=True))
    def list(self, request: Request) -> Response:
        """The runs, newest first, filtered as on the run list."""
        wanted = query_params(request, RunFilters)
        runs = _runs()
        if "flow" in wanted:
            runs = runs.filter(flow_id=wanted["flow"])
        if wanted.get("status"):
            runs = runs.filter(status=wanted["status"])
        if query := wanted.get("q", "").strip():
            runs = runs.filter(
                Q(business_key__icontains=query) | Q(event_id__icontains=query)
            )
        if wanted.get("since"):
            since = timezone.now() - PERIODS[wanted["since"]][1]
            runs = runs.filter(created_at__gte=since)
        page = self.paginate_queryset(runs)
        return self.get_paginated_response(RunSerializer(page, many=True).data)

    @extend_schema(responses=RunDetailSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        """One run with its steps, documents moved and open tasks."""
        return Response(RunDetailSerializer(lookup(_one_run(), pk, "run")).data)

    @extend_schema(
        request=StartSerializer,
        responses={201: RunDetailSerializer, 200: RunDetailSerializer},
    )
    def create(self, request: Request) -> Response:
        """Start a run of a flow by hand with a JSON payload (201, queued);
        the same `idempotency_key` again answers 200 with that run."""
        data = StartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        flow = lookup(Flow.objects.all(), values["flow"], "flow")
        try:
            run, created = services.start_run(
                flow,
                values["payload"],
                request.user,
                idempotency_key=values.get("idempotency_key", "").strip(),
            )
        except (DjangoPermissionDenied, services.InvalidDefinition) as error:
            raise refusal(error) from None
        return Response(
            RunDetailSerializer(lookup(_one_run(), str(run.pk), "run")).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(request=ReplaySerializer, responses={201: RunDetailSerializer})
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk: str) -> Response:
        """Run a run that needs review, failed or was cancelled again, as a new
        run (the answer); the old one becomes "replayed"."""
        run = lookup(FlowRun.objects.all(), pk, "run")
        data = ReplaySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            new_run = services.replay_run(
                run,
                request.user,
                from_step=values["from_step"],
                version=values["version"],
                comment=values["comment"].strip(),
            )
        except (DjangoPermissionDenied, PermanentError) as error:
            raise refusal(error) from None
        return Response(
            RunDetailSerializer(lookup(_one_run(), str(new_run.pk), "run")).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=CancelSerializer, responses=RunDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """Stop a run that has not ended: it does nothing more."""
        run = lookup(FlowRun.objects.all(), pk, "run")
        data = CancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.cancel_run(
                run, request.user, comment=data.validated_data["comment"].strip()
            )
        except (DjangoPermissionDenied, PermanentError) as error:
            raise refusal(error) from None
        return Response(RunDetailSerializer(lookup(_one_run(), pk, "run")).data)

    @extend_schema(responses=StepSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def steps(self, request: Request, pk: str) -> Response:
        """The run's steps in the order they ran (each attempt once)."""
        run = lookup(FlowRun.objects.select_related("version"), pk, "run")
        steps = run.steps.order_by("started_at", "pk")
        return Response(
            StepSerializer(
                steps, many=True, context={"labels": step_labels(run.version)}
            ).data
        )


class TransferViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The transfer ledger: each source document once, with every try."""

    serializer_class = TransferSerializer
    lookup_value_regex = "[0-9]{1,18}"
    required = {"read": "integrations.view_transfer"}

    def get_queryset(self) -> QuerySet[Transfer]:
        return Transfer.objects.prefetch_related("attempts")

    @extend_schema(parameters=[TransferFilters])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The transfers, newest first."""
        wanted = query_params(request, TransferFilters)
        transfers = self.get_queryset()
        if wanted.get("status"):
            transfers = transfers.filter(status=wanted["status"])
        if "run" in wanted:
            transfers = transfers.filter(run_id=wanted["run"])
        if wanted.get("source_system"):
            transfers = transfers.filter(source_system=wanted["source_system"])
        if wanted.get("sha256"):
            transfers = transfers.filter(sha256=wanted["sha256"].lower())
        page = self.paginate_queryset(transfers)
        return self.get_paginated_response(TransferSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        """One transfer with its tries."""
        return Response(
            TransferSerializer(lookup(self.get_queryset(), pk, "transfer")).data
        )


def register(router: Any) -> None:
    """Add this module's viewsets to the API router."""
    router.register("runs", RunViewSet, basename="run")
    router.register("transfers", TransferViewSet, basename="transfer")
