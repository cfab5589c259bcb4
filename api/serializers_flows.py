"""What the flow, version and template operations read and answer.

Inputs are strict: a field documented as a string takes only a string, an
integer only an integer (DRF would turn 5 into "5" and "5" into 5), so
that what the schema says is what the API accepts. A definition is checked
by ``integrations.services`` (every problem, in words); here only what
would break the database before it gets there: numbers no id or interval
can be (the NUL character is refused for every body by ``api.parsers``).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.fields import MAX_ID, Flag, JsonInteger, JsonText
from integrations.models import Flow, FlowStatus, FlowVersion

MAX_SECONDS = 2**31 - 1
SAY_WHAT = "Say in a few words what this version changes."


TRIGGER_TYPES = [
    "webhook",
    "poll",
    "schedule",
    "manual",
    "flow_finished",
    "workspace_complete",
]


@extend_schema_field(
    {
        "type": "object",
        "required": ["trigger"],
        "additionalProperties": False,
        "properties": {
            "trigger": {
                "type": "object",
                "required": ["type"],
                "properties": {"type": {"type": "string", "enum": TRIGGER_TYPES}},
                "additionalProperties": {},
            },
            "steps": {"type": "array", "items": {"type": "object"}},
            "business_key": {"type": "string"},
            "tables": {
                "type": "object",
                "additionalProperties": {"type": "object"},
            },
        },
    }
)
class DefinitionField(serializers.DictField):
    """A flow definition as JSON (checked by the services when used)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "help_text",
            "The trigger, steps, business key and lookup tables "
            "(`{trigger: {type, ...}, steps: [...], business_key, tables}`), "
            "as a version's `definition` shows them.",
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        problems = misshapen(value) or out_of_range(value)
        if problems:
            raise serializers.ValidationError(problems)
        return value


def misshapen(definition: dict[str, Any]) -> list[str]:
    """What is not of the documented shape (the services read these parts
    before they validate the whole)."""
    steps = definition.get("steps", [])
    tables = definition.get("tables", {})
    problems = []
    if not isinstance(definition.get("trigger", {}), dict):
        problems.append("The trigger must be an object: {“type”: …}.")
    if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
        problems.append("The steps must be a list of objects.")
    if not isinstance(tables, dict) or not all(
        isinstance(t, dict) for t in tables.values()
    ):
        problems.append("The tables must be an object of objects.")
    if not isinstance(definition.get("business_key", ""), str):
        problems.append("The business key must be a string (an expression).")
    return problems


def out_of_range(definition: dict[str, Any]) -> list[str]:
    """The ids and intervals no database column can hold."""
    problems = []
    trigger = definition.get("trigger")
    trigger = trigger if isinstance(trigger, dict) else {}
    numbered = [("The trigger's connection", trigger.get("connection"), MAX_ID)]
    numbered += [
        ("The flow the trigger follows", trigger.get("flow"), MAX_ID),
        ("The trigger's interval", trigger.get("every_seconds"), MAX_SECONDS),
    ]
    steps = definition.get("steps")
    for step in steps if isinstance(steps, list) else []:
        if isinstance(step, dict):
            label = step.get("name") or step.get("key")
            where = f"Step “{label}”'s connection"
            numbered.append((where, step.get("connection"), MAX_ID))
    for what, value, limit in numbered:
        number = isinstance(value, int) and not isinstance(value, bool)
        if number and not 0 <= value <= limit:
            problems.append(f"{what} must be a number from 0 to {limit}.")
    return problems


# --- Flows -------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "string",
        "enum": list(FlowStatus.values),
        "description": "draft, active (its trigger starts runs) or paused.",
    },
    component_name="FlowStatus",
)
class FlowStatusField(serializers.ChoiceField):
    """A flow's status, its enum inline (``status`` is a name many
    components use, each with other values)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "error_messages",
            {
                "invalid_choice": "“{input}” is not a flow status: "
                "choose draft, active or paused."
            },
        )
        super().__init__(choices=FlowStatus.choices, **kwargs)


class FlowDefinitionSerializer(serializers.Serializer):
    """A published definition, as stored (every field present)."""

    trigger = serializers.DictField(
        help_text="What starts a run: `type` (webhook, poll, schedule, manual, "
        "flow_finished, workspace_complete) and its settings."
    )
    steps = serializers.ListField(
        child=serializers.DictField(),
        help_text="The steps in order; an action step has `connection`, "
        "`action` and its `mapping` rules (`target`, `expression`, `transforms`).",
    )
    business_key = serializers.CharField(
        help_text="Expression for what a run is about (empty: none)."
    )
    tables = serializers.DictField(
        child=serializers.DictField(), help_text="Named lookup tables."
    )


class FlowSerializer(serializers.Serializer):
    """A flow in a list."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    status = FlowStatusField(help_text="Only an active flow's trigger starts runs.")
    template = serializers.CharField(
        source="template_key", help_text="The template it was made from, or empty."
    )
    owner = serializers.CharField(source="owner.username", allow_null=True)
    current_version = serializers.IntegerField(
        source="published_version.number",
        allow_null=True,
        help_text="The version new runs use.",
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class FlowDetailSerializer(FlowSerializer):
    """A flow with the definition of its current version."""

    max_concurrent_runs = serializers.IntegerField()
    business_key = serializers.SerializerMethodField(
        help_text="The current version's business key expression (empty: none)."
    )
    definition = FlowDefinitionSerializer(
        source="published_version.definition",
        allow_null=True,
        help_text="The current version's definition (null before one is published).",
    )

    @extend_schema_field(OpenApiTypes.STR)
    def get_business_key(self, flow: Flow) -> str:
        version = flow.published_version
        if version is None:
            return ""
        return str((version.definition or {}).get("business_key") or "")


class NewFlowSerializer(serializers.Serializer):
    name = JsonText(max_length=200)
    description = JsonText(
        max_length=2000, required=False, allow_blank=True, default=""
    )
    definition = DefinitionField()
    note = JsonText(
        max_length=500,
        required=False,
        default="First version",
        help_text="What the first version is (default “First version”).",
    )

    def validate_name(self, name: str) -> str:
        if Flow.objects.filter(name=name).exists():
            raise serializers.ValidationError(
                f"A flow called “{name}” exists already: choose another name."
            )
        return name


class FlowFilterSerializer(serializers.Serializer):
    status = FlowStatusField(required=False)
    q = serializers.CharField(max_length=200, required=False, allow_blank=True)


# --- Versions ------------------------------------------------------------------


class FlowVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="author.username", allow_null=True)
    current = serializers.SerializerMethodField(
        help_text="True for the version new runs use."
    )

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_current(self, version: FlowVersion) -> bool:
        return version.pk == self.context.get("current_version_id")


class FlowVersionDetailSerializer(FlowVersionSerializer):
    definition = FlowDefinitionSerializer()


class FlowPublishSerializer(serializers.Serializer):
    definition = DefinitionField()
    note = JsonText(
        max_length=500,
        help_text="What this version changes, in a few words.",
        error_messages={"required": SAY_WHAT, "blank": SAY_WHAT},
    )


class FlowDiffSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="The version compared.")
    against = serializers.IntegerField(
        allow_null=True,
        help_text="The version it is compared with (null: it is the first).",
    )
    changes = serializers.ListField(
        child=serializers.CharField(), help_text="What changed, one sentence each."
    )


class FlowDiffQuerySerializer(serializers.Serializer):
    against = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)


# --- Export and import -----------------------------------------------------------


class FlowExportSerializer(serializers.Serializer):
    """A flow as portable JSON: connections named ``{name, connector}``."""

    format = serializers.CharField(help_text="`xconnector.flow/1`.")
    name = serializers.CharField()
    description = serializers.CharField()
    template = serializers.CharField()
    version = serializers.IntegerField()
    exported_at = serializers.DateTimeField()
    definition = serializers.DictField(
        help_text="The definition, with each connection as `{name, connector}`."
    )


@extend_schema_field(
    {"type": "string", "enum": ["xconnector.flow/1"]},
    component_name="FlowExportFormat",
)
class ExportFormat(JsonText):
    """The export's format; the import says in words when it is another."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=100, **kwargs)


class FlowExportFileSerializer(serializers.Serializer):
    """An export, as ``GET /flows/{id}/export/`` gave it."""

    format = ExportFormat(help_text="`xconnector.flow/1`, the only format so far.")
    name = JsonText(max_length=200, required=False, allow_blank=True)
    description = JsonText(max_length=2000, required=False, allow_blank=True)
    template = JsonText(max_length=60, required=False, allow_blank=True)
    version = JsonInteger(min_value=0, max_value=MAX_ID, required=False)
    exported_at = JsonText(max_length=100, required=False, allow_blank=True)
    definition = DefinitionField()


class FlowImportSerializer(serializers.Serializer):
    export = FlowExportFileSerializer(
        help_text="The JSON `GET /flows/{id}/export/` gave, as it is."
    )
    name = JsonText(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="The new flow's name (default: the exported flow's).",
    )


# --- Templates -------------------------------------------------------------------


class TemplateSlotSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The key to name in `connections`.")
    label = serializers.CharField()
    help = serializers.CharField()
    connector = serializers.CharField(help_text="The connector key it must be of.")
    connector_label = serializers.CharField()


class TemplateBoxSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="`trigger` or the step's type.")
    label = serializers.CharField()
    system = serializers.CharField()


class FlowTemplateSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    group = serializers.CharField()
    systems = serializers.ListField(child=serializers.CharField())
    slots = TemplateSlotSerializer(many=True, help_text="The connections it needs.")
    steps = TemplateBoxSerializer(many=True, help_text="Its trigger, then each step.")
    sample = serializers.DictField(help_text="A sample trigger payload.")


class TemplateInstantiateSerializer(serializers.Serializer):
    name = JsonText(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="The new flow's name (default: the template's title).",
    )
    connections = serializers.DictField(
        child=JsonInteger(min_value=1, max_value=MAX_ID),
        help_text="The connection id for each of the template's slots.",
    )
    activate = Flag(
        required=False, default=True, help_text="Turn it on now (default true)."
    )
