"""Review tasks: the ones of my queues, and what a reviewer does about them.

Who sees which task and who may change it are ``integrations.reviews``'
rules, as in the inbox: a task of a queue the user is not in does not exist
for them (404). Every action locks the task and checks that it is still
pending; a refusal (someone else claimed it, it was resolved meanwhile) is a
409 in the service's words.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from api.errors import Conflict
from api.fields import enum_of, query_params
from api.views.runs import (
    COMMENT_LIMIT,
    ReplayVersion,
    ReplayVersionField,
    RunSerializer,
    TaskKindField,
    TaskStatusField,
    refusal,
    text,
)
from connectors.errors import PermanentError
from integrations import reviews
from integrations.models import FlowRun, Priority, ReviewTask, TaskKind, TaskStatus
from integrations.reviews.values import (
    field_choices,
    field_kind,
    field_required,
    needed_fields,
)
from integrations.views.tasks import _known_values

VIEW = "integrations.view_reviewtask"
CHANGE = "integrations.change_reviewtask"
PriorityField = enum_of(Priority, "TaskPriority")


# --- Serializers ---------------------------------------------------------------------


class TaskSerializer(serializers.ModelSerializer):
    """A task as the inbox lists it."""

    kind = TaskKindField(choices=TaskKind.choices)
    status = TaskStatusField(choices=TaskStatus.choices)
    priority = PriorityField(
        choices=Priority.choices, help_text="1 high, 2 normal, 3 low."
    )
    assignee = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    requested_by = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Who started the run; they may not approve it themselves.",
    )
    resolved_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = ReviewTask
        fields = [
            "id",
            "kind",
            "status",
            "priority",
            "title",
            "reason",
            "business_object",
            "system",
            "queue",
            "flow",
            "run",
            "step_key",
            "workspace",
            "document_type",
            "assignee",
            "requested_by",
            "due_at",
            "created_at",
            "claimed_at",
            "resolved_at",
            "resolved_by",
            "decision",
            "comment",
        ]
        read_only_fields = fields


class FieldSerializer(serializers.Serializer):
    """One field an incomplete-metadata task asks for."""

    name = serializers.CharField()
    label = serializers.CharField()
    help = serializers.CharField()
    type = serializers.CharField(help_text="string, integer, number, boolean, …")
    required = serializers.BooleanField()
    choices = serializers.ListField(
        child=serializers.JSONField(),
        allow_null=True,
        help_text="The values it may take, when it lists them.",
    )
    value = serializers.JSONField(
        allow_null=True, help_text="What the run already holds for it, if anything."
    )
    schema = serializers.DictField(help_text="The field's JSON Schema.")


class TaskDetailSerializer(TaskSerializer):
    """One task: what it is about and what would fix it."""

    problems = serializers.SerializerMethodField(help_text="What went wrong.")
    fields = serializers.SerializerMethodField(
        method_name="fields_to_fill",
        help_text="For incomplete metadata: the values to give (`resolve`).",
    )
    document_needed = serializers.SerializerMethodField(
        help_text="For a missing document: which document the step needs."
    )

    class Meta(TaskSerializer.Meta):
        fields = [*TaskSerializer.Meta.fields, "problems", "fields", "document_needed"]
        read_only_fields = fields

    def get_problems(self, task: ReviewTask) -> list[str]:
        errors = [str(e) for e in task.needed.get("errors") or [] if str(e).strip()]
        return errors or ([task.reason] if task.reason else [])

    @extend_schema_field(FieldSerializer(many=True))
    def fields_to_fill(self, task: ReviewTask) -> Any:
        fields = needed_fields(task.needed)
        if not isinstance(fields, dict) or not fields:
            return []
        run = FlowRun.objects.filter(pk=task.run_id).first()
        known = _known_values(task, run, list(run.steps.all())) if run else {}
        rows = []
        for name, schema in fields.items():
            schema = schema if isinstance(schema, dict) else {}
            rows.append(
                {
                    "name": name,
                    "label": schema.get("title") or name.replace("_", " ").capitalize(),
                    "help": schema.get("description", ""),
                    "type": field_kind(schema),
                    "required": field_required(schema),
                    "choices": field_choices(schema),
                    "value": known.get(name, schema.get("default")),
                    "schema": schema,
                }
            )
        return FieldSerializer(rows, many=True).data

    def get_document_needed(self, task: ReviewTask) -> str:
        return str(task.needed.get("document") or task.document_type or "")


class OutcomeSerializer(serializers.Serializer):
    """The task after the action, and the run that goes on (if one does)."""

    task = TaskDetailSerializer()
    run = RunSerializer(
        allow_null=True,
        help_text="The run that carries on: a new run after a fix or retry, "
        "the same run after a decision; null for a workspace's task.",
    )


def comment_field(**options: Any) -> serializers.CharField:
    return text(COMMENT_LIMIT, **options)


class CommentSerializer(serializers.Serializer):
    comment = comment_field(required=False, default="")


class RejectSerializer(serializers.Serializer):
    comment = comment_field(
        needed="Say why you reject it: the person who asked reads this."
    )


class DismissSerializer(serializers.Serializer):
    reason = comment_field(
        needed="Say why nothing needs to be done: the reason is kept."
    )


class ResolveSerializer(serializers.Serializer):
    values = serializers.DictField(
        help_text="A value for each field the task asks for (see `fields`)."
    )
    comment = comment_field(required=False, default="")


class RetrySerializer(serializers.Serializer):
    version = ReplayVersionField(
        choices=ReplayVersion.choices,
        default=ReplayVersion.LATEST,
        help_text="`latest` (after a fix was published) or `pinned` (as before).",
    )
    comment = comment_field(required=False, default="")


class TaskFilters(serializers.Serializer):
    status = serializers.ChoiceField(choices=TaskStatus.choices, required=False)
    kind = serializers.ChoiceField(choices=TaskKind.choices, required=False)
    queue = text(150, required=False, help_text="One of your queues.")
    q = text(300, required=False, help_text="Part of the business object or title.")


# --- The view ------------------------------------------------------------------------


class TaskViewSet(viewsets.GenericViewSet):
    """The review tasks of your queues (an integration admin sees every
    queue), newest first."""

    serializer_class = TaskSerializer
    queryset = ReviewTask.objects.none()
    lookup_value_regex = "[0-9]{1,18}"
    required = {
        "list": VIEW,
        "retrieve": VIEW,
        "claim": CHANGE,
        "unclaim": CHANGE,
        "resolve": CHANGE,
        "approve": CHANGE,
        "reject": CHANGE,
        "dismiss": CHANGE,
        "retry": CHANGE,
    }

    def get_queryset(self) -> QuerySet[ReviewTask]:
        return reviews.visible_tasks(self.request.user).select_related(
            "requested_by", "resolved_by"
        )

    def task(self, pk: str) -> ReviewTask:
        try:
            return self.get_queryset().get(pk=int(pk))
        except (ReviewTask.DoesNotExist, ValueError):
            raise NotFound(
                f"There is no task {pk}, or it is in a queue you are not in."
            ) from None

    def answer(self, pk: str) -> Response:
        return Response(TaskDetailSerializer(self.task(pk)).data)

    def outcome(self, pk: str, run: FlowRun | None) -> Response:
        if run is not None:
            run = FlowRun.objects.select_related("flow", "version", "started_by").get(
                pk=run.pk
            )
        task = ReviewTask.objects.select_related(
            "assignee", "requested_by", "resolved_by"
        ).get(pk=int(pk))
        return Response(
            {
                "task": TaskDetailSerializer(task).data,
                "run": RunSerializer(run).data if run is not None else None,
            }
        )

    @staticmethod
    def body(request: Request, serializer: type[serializers.Serializer]) -> Any:
        data = serializer(data=request.data)
        data.is_valid(raise_exception=True)
        return data.validated_data

    @staticmethod
    def doing(work: Any) -> Any:
        """The service's answer, or its refusal as the API's."""
        try:
            return work()
        except reviews.InvalidValues as error:
            raise serializers.ValidationError(
                {"values": {name: [text] for name, text in error.errors.items()}}
                if error.errors
                else {"values": [error.message]}
            ) from None
        except reviews.TaskError as error:
            raise Conflict(error.message) from None
        except (DjangoPermissionDenied, PermanentError) as error:
            raise refusal(error) from None

    @extend_schema(parameters=[TaskFilters], responses=TaskSerializer(many=True))
    def list(self, request: Request) -> Response:
        """The tasks you may see, finished ones too; filter with `status`."""
        wanted = query_params(request, TaskFilters)
        tasks = self.get_queryset().order_by("-pk")
        for name in ("status", "kind"):
            if wanted.get(name):
                tasks = tasks.filter(**{name: wanted[name]})
        if "queue" in wanted:
            tasks = tasks.filter(queue=wanted["queue"])
        if query := wanted.get("q", "").strip():
            tasks = tasks.filter(
                Q(business_object__icontains=query) | Q(title__icontains=query)
            )
        page = self.paginate_queryset(tasks)
        return self.get_paginated_response(TaskSerializer(page, many=True).data)

    @extend_schema(responses=TaskDetailSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        """One task, with what would fix it."""
        return self.answer(pk)

    @extend_schema(request=None, responses=TaskDetailSerializer)
    @action(detail=True, methods=["post"])
    def claim(self, request: Request, pk: str) -> Response:
        """Take the task: others see you work on it."""
        task = self.task(pk)
        self.doing(lambda: reviews.claim(task, request.user))
        return self.answer(pk)

    @extend_schema(request=None, responses=TaskDetailSerializer)
    @action(detail=True, methods=["post"])
    def unclaim(self, request: Request, pk: str) -> Response:
        """Give the task back to its queue (its assignee or an admin)."""
        task = self.task(pk)
        self.doing(lambda: reviews.unclaim(task, request.user))
        return self.answer(pk)

    @extend_schema(request=ResolveSerializer, responses=OutcomeSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str) -> Response:
        """Incomplete metadata: give the values; the run goes on with them as
        a new run. Values that do not fit are a 400 naming each field
        (`values.<name>`), and nothing is saved."""
        task = self.task(pk)
        values = self.body(request, ResolveSerializer)
        run = self.doing(
            lambda: reviews.resolve_with_values(
                task, request.user, values["values"], comment=values["comment"].strip()
            )
        )
        return self.outcome(pk, run)

    @extend_schema(request=CommentSerializer, responses=OutcomeSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        """Approve (an approval or a reconciliation mismatch): the run goes on.
        Whoever started the run may not approve it (403)."""
        task = self.task(pk)
        comment = self.body(request, CommentSerializer)["comment"].strip()
        run = self.doing(lambda: reviews.approve(task, request.user, comment=comment))
        return self.outcome(pk, run)

    @extend_schema(request=RejectSerializer, responses=OutcomeSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        """Reject with a comment (required): the run goes on at the step's
        reject path, or ends as failed."""
        task = self.task(pk)
        comment = self.body(request, RejectSerializer)["comment"].strip()
        run = self.doing(lambda: reviews.reject(task, request.user, comment))
        return self.outcome(pk, run)

    @extend_schema(request=DismissSerializer, responses=TaskDetailSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, pk: str) -> Response:
        """Nothing needs to be done (the reason is kept); the run stays as is."""
        task = self.task(pk)
        reason = self.body(request, DismissSerializer)["reason"].strip()
        self.doing(lambda: reviews.dismiss(task, request.user, reason))
        return self.answer(pk)

    @extend_schema(request=RetrySerializer, responses=OutcomeSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str) -> Response:
        """Try the run again from the step that failed, as a new run (the
        transfer ledger keeps documents sent once)."""
        task = self.task(pk)
        values = self.body(request, RetrySerializer)
        run = self.doing(
            lambda: reviews.retry(
                task,
                request.user,
                version=values["version"],
                comment=values["comment"].strip(),
            )
        )
        return self.outcome(pk, run)


def register(router: Any) -> None:
    """Add this module's viewsets to the API router."""
    router.register("tasks", TaskViewSet, basename="task")
