"""Connection forms generated from a connector's pydantic ``Config``.

Every field of the Config becomes a form field with its title and
description; a nested model is flattened (``auth__username``); a union of
models told apart by a discriminator (``type``) shows a choice of kind and
then only the fields of the chosen kind (the page re-renders over htmx when
the choice changes). Secrets are password inputs that are never filled in:
on an existing connection an empty secret keeps the stored value.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from django import forms
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from connectors.base import SEP, Config


@dataclass(frozen=True)
class Spec:
    """One form field: its flat name, the model field, and where it applies."""

    name: str
    info: FieldInfo
    annotation: Any
    secret: bool
    # (discriminator form field name, the kinds it belongs to) inside a union
    only_for: tuple[str, frozenset[str]] | None = None
    # Labels of a choice of kinds: each kind model's title
    choice_labels: tuple[tuple[str, str], ...] = ()


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    args = get_args(annotation)
    if get_origin(annotation) in (Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0], True
        return Union[tuple(rest)], True  # noqa: UP007 - built at run time
    return annotation, False


def _strip_annotated(annotation: Any) -> Any:
    while get_origin(annotation) is typing.Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _model_union(
    annotation: Any, info: FieldInfo
) -> tuple[str, dict[str, type[BaseModel]]] | None:
    """(discriminator, {value: model}) for a discriminated union of models."""
    annotation = _strip_annotated(annotation)
    if get_origin(annotation) not in (Union, types.UnionType):
        return None
    members = [_strip_annotated(a) for a in get_args(annotation)]
    if not all(isinstance(m, type) and issubclass(m, BaseModel) for m in members):
        return None
    discriminator = (
        info.discriminator if isinstance(info.discriminator, str) else "type"
    )
    variants = {}
    for model in members:
        values = get_args(model.model_fields[discriminator].annotation)
        variants[str(values[0])] = model
    return discriminator, variants


def specs(model: type[BaseModel], prefix: str = "", only_for=None) -> Iterator[Spec]:
    for field_name, info in model.model_fields.items():
        name = f"{prefix}{field_name}"
        annotation, _ = _unwrap_optional(_strip_annotated(info.annotation))
        union = _model_union(info.annotation, info)
        if union:
            discriminator, variants = union
            choice = Literal[tuple(variants)]  # type: ignore[valid-type]
            disc_info = FieldInfo(
                annotation=choice,
                default=next(iter(variants)),
                title=info.title or field_name.replace("_", " ").capitalize(),
                description=info.description,
            )
            disc_name = f"{name}{SEP}{discriminator}"
            labels = tuple(
                (value, str(model.model_config.get("title") or _choice_label(value)))
                for value, model in variants.items()
            )
            yield Spec(disc_name, disc_info, choice, False, only_for, labels)
            # A field several kinds share (client id of OAuth2 and of Entra)
            # is one form field, shown for each of those kinds.
            merged: dict[str, Spec] = {}
            for value, variant in variants.items():
                for spec in specs(variant, f"{name}{SEP}"):
                    if spec.name == disc_name:
                        continue
                    kinds = {value}
                    if spec.name in merged:
                        kinds |= merged[spec.name].only_for[1]  # type: ignore[index]
                        spec = merged[spec.name]
                    merged[spec.name] = Spec(
                        spec.name,
                        spec.info,
                        spec.annotation,
                        spec.secret,
                        (disc_name, frozenset(kinds)),
                    )
            yield from merged.values()
            continue
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from specs(annotation, f"{name}{SEP}", only_for)
            continue
        yield Spec(name, info, annotation, annotation is SecretStr, only_for)


def _label(spec: Spec) -> str:
    return (
        spec.info.title or spec.name.rsplit(SEP, 1)[-1].replace("_", " ").capitalize()
    )


def _form_field(spec: Spec, *, secret_is_set: bool) -> forms.Field:
    info, annotation = spec.info, spec.annotation
    # A field shown only for some choices cannot be required in the form:
    # the Config says whether it is needed for the choice made.
    required = (
        info.is_required()
        and spec.only_for is None
        and not _extra(spec).get("show_when")
    )
    common = {"label": _label(spec), "help_text": info.description or ""}
    origin = get_origin(annotation)
    if spec.secret:
        return forms.CharField(
            required=required and not secret_is_set,
            widget=forms.PasswordInput(
                render_value=False, attrs={"autocomplete": "new-password"}
            ),
            strip=False,
            **common,
        )
    if annotation is bool:
        return forms.BooleanField(required=False, **common)
    if annotation is int:
        return forms.IntegerField(required=required, **common)
    if annotation is float:
        return forms.FloatField(required=required, **common)
    if origin is Literal or (
        isinstance(annotation, type) and issubclass(annotation, enum.Enum)
    ):
        values = (
            get_args(annotation) if origin is Literal else [m.value for m in annotation]
        )
        labels = _extra(spec).get("choice_labels") or {}
        choices = list(spec.choice_labels) or [
            (str(v), labels.get(str(v), _choice_label(v))) for v in values
        ]
        return forms.ChoiceField(choices=choices, required=required, **common)
    if origin in (list, tuple, set):
        return forms.CharField(
            required=required,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text=(info.description or "") + " One per line.",
            label=common["label"],
        )
    if origin in (dict, Mapping):
        return forms.CharField(
            required=required,
            widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Name: value"}),
            help_text=(info.description or "") + " One “Name: value” per line.",
            label=common["label"],
        )
    return forms.CharField(required=required, **common)


def _extra(spec: Spec) -> dict[str, Any]:
    extra = spec.info.json_schema_extra
    return extra if isinstance(extra, dict) else {}


def _default(spec: Spec) -> Any:
    """A field's default as the form shows it; None for none or a model."""
    if spec.secret or spec.info.is_required():
        return None
    value = spec.info.get_default(call_default_factory=True)
    if isinstance(value, BaseModel) or value is None:
        return None
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple | set):
        return "\n".join(map(str, value)) or None
    if isinstance(value, dict):
        return "\n".join(f"{k}: {v}" for k, v in value.items()) or None
    return value


def _choice_label(value: Any) -> str:
    return str(value).replace("_", " ").capitalize()


class ConnectionForm(forms.Form):
    """Name and description, then the connector's settings."""

    name = forms.CharField(
        max_length=200, help_text="How this connection appears in flows."
    )
    description = forms.CharField(max_length=500, required=False, help_text="Optional.")

    def __init__(
        self,
        config_class: type[Config],
        *args: Any,
        secrets_set_at: Mapping[str, str] | None = None,
        rerender: bool = False,
        **kwargs: Any,
    ) -> None:
        """Fields start at the Config's defaults unless ``initial`` has them.
        ``rerender``: ``initial`` is what someone already filled in, where a
        missing checkbox means unticked, not "use the default"."""
        super().__init__(*args, **kwargs)
        self.config_class = config_class
        self.secrets_set_at = dict(secrets_set_at or {})
        self.specs = list(specs(config_class))
        for spec in self.specs:
            is_set = spec.name in self.secrets_set_at
            field = _form_field(spec, secret_is_set=is_set)
            field.spec = spec  # type: ignore[attr-defined]
            field.secret_set_at = (
                self.secrets_set_at.get(spec.name, "") if spec.secret else ""
            )  # type: ignore[attr-defined]
            self.fields[spec.name] = field
            unticked = rerender and spec.annotation is bool
            if spec.name not in self.initial and not unticked:
                default = _default(spec)
                if default is not None:
                    self.initial[spec.name] = default
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.Select):
                continue
            widget.attrs.setdefault("class", "form-control")

    # -- which fields show for the chosen kinds --

    def chosen(self, name: str) -> str:
        field = self.fields[name]
        value = self.data.get(self.add_prefix(name)) if self.is_bound else None
        if value is None:
            value = self.initial.get(name, field.initial)
        if value in (None, ""):
            choices = getattr(field, "choices", [])
            value = choices[0][0] if choices else ""
        return str(value)

    def visible(self, name: str) -> bool:
        """Shown: outside a union, or in the chosen kind; and where the field
        says ``show_when`` (``{"verification": ["github"]}``), only then."""
        spec = getattr(self.fields[name], "spec", None)
        if spec is None:
            return True
        for other, values in (_extra(spec).get("show_when") or {}).items():
            if other in self.fields and self.chosen(other) not in values:
                return False
        if spec.only_for is None:
            return True
        discriminator, kinds = spec.only_for
        return self.visible(discriminator) and self.chosen(discriminator) in kinds

    def setting_fields(self) -> list[forms.BoundField]:
        return [self[s.name] for s in self.specs if self.visible(s.name)]

    # -- values in and out --

    def config_data(self) -> tuple[dict[str, Any], dict[str, str]]:
        """(settings, new secrets) as the Config expects them, nested again."""
        settings: dict[str, Any] = {}
        secrets: dict[str, str] = {}
        for spec in self.specs:
            if not self.visible(spec.name):
                continue
            value = self.cleaned_data.get(spec.name)
            if spec.secret:
                if value:
                    secrets[spec.name] = value
                continue
            value = _parse(spec, value)
            if value is None:
                continue
            _put(settings, spec.name.split(SEP), value)
        return settings, secrets

    def add_config_errors(self, errors: Mapping[str, str]) -> None:
        for field, message in errors.items():
            self.add_error(self._field_for(field), message)

    def _field_for(self, name: str) -> str | None:
        """The form field of a pydantic error location; a tagged union puts
        the chosen kind into the path (``auth__basic__password``)."""
        if name in self.fields:
            return name
        parts = name.split(SEP)
        for index in range(1, len(parts)):
            candidate = SEP.join(parts[:index] + parts[index + 1 :])
            if candidate in self.fields:
                return candidate
        return None


def _parse(spec: Spec, value: Any) -> Any:
    origin = get_origin(spec.annotation)
    if value in (None, "") and not spec.info.is_required():
        return None
    if origin in (list, tuple, set):
        return [line.strip() for line in str(value).splitlines() if line.strip()]
    if origin in (dict, Mapping):
        pairs = {}
        for line in str(value).splitlines():
            if ":" in line:
                key, _, item = line.partition(":")
                pairs[key.strip()] = item.strip()
        return pairs
    return value


def _put(target: dict[str, Any], path: list[str], value: Any) -> None:
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


def initial_from_settings(
    config_class: type[Config], settings: Mapping[str, Any]
) -> dict[str, Any]:
    """Form initial values from stored (nested) settings."""
    initial: dict[str, Any] = {}
    for spec in specs(config_class):
        value: Any = settings
        for part in spec.name.split(SEP):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is None:
            continue
        origin = get_origin(spec.annotation)
        if origin in (list, tuple, set):
            value = "\n".join(str(v) for v in value)
        elif origin in (dict, Mapping):
            value = "\n".join(f"{k}: {v}" for k, v in value.items())
        initial[spec.name] = value
    return initial
