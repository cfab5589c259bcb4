"""Compliance search over the audit trail: exact filters, keyset pages.

No OFFSET and no exact COUNT: a page is "the next 50 events older than
sequence N that match", which each filter's (column, sequence) index answers
in one backwards range read however many events there are. A date range is
turned into a sequence range first (sequence order is time order).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from audit import rows
from audit.models import AuditEvent, EventType

PAGE_SIZE = 50


class AuditSearchForm(forms.Form):
    """The filters of the compliance search; every one is an exact match."""

    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    event_type = forms.ChoiceField(
        required=False,
        label="What happened",
        choices=[("", "Any event"), *EventType.choices],
    )
    actor = forms.CharField(required=False, label="Who", max_length=150)
    flow = forms.IntegerField(required=False, label="Flow id", min_value=1)
    run = forms.IntegerField(required=False, label="Run id", min_value=1)
    system = forms.CharField(required=False, label="System", max_length=40)
    business_object = forms.CharField(
        required=False, label="Business object", max_length=200
    )
    document = forms.CharField(
        required=False,
        label="Document reference or SHA-256",
        max_length=500,
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for field in self.fields.values():
            css = (
                "form-select"
                if isinstance(field, forms.ChoiceField)
                else "form-control"
            )
            field.widget.attrs["class"] = css

    def clean(self) -> dict[str, object]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("“From” must be on or before “To”.")
        return data

    def active_filters(self) -> dict[str, object]:
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


_EARLIEST = date(2, 1, 1)
_LATEST = date(9999, 12, 1)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(
        datetime.combine(day, time.min), timezone.get_current_timezone()
    )


def filtered(filters: dict[str, object]) -> QuerySet[AuditEvent]:
    """Events matching every filter (no ordering applied)."""
    events = AuditEvent.objects.all()
    # A day at the very ends of the calendar is no limit (and its midnight in
    # another time zone is not a date Python can hold).
    for name in ("date_from", "date_to"):
        day = filters.get(name)
        if isinstance(day, date) and not _EARLIEST <= day <= _LATEST:
            filters = {k: v for k, v in filters.items() if k != name}
    if "date_from" in filters:
        first = (
            AuditEvent.objects.filter(occurred_at__gte=_day_start(filters["date_from"]))  # type: ignore[arg-type]
            .order_by("occurred_at", "sequence")
            .values_list("sequence", flat=True)
            .first()
        )
        events = events.filter(sequence__gte=first) if first else events.none()
    if "date_to" in filters:
        end = _day_start(filters["date_to"] + timedelta(days=1))  # type: ignore[operator]
        last = (
            AuditEvent.objects.filter(occurred_at__lt=end)
            .order_by("-occurred_at", "-sequence")
            .values_list("sequence", flat=True)
            .first()
        )
        events = events.filter(sequence__lte=last) if last else events.none()
    exact = {
        "event_type": "event_type",
        "actor": "actor_name",
        "flow": "flow_id",
        "run": "run_id",
        "system": "system",
        "business_object": "business_object",
    }
    for key, column in exact.items():
        if key in filters:
            events = events.filter(**{column: filters[key]})
    if "document" in filters:
        value = str(filters["document"]).strip()
        events = events.filter(
            Q(document_ref=value)
            | Q(target_ref=value)
            | Q(document_sha256=value.lower())
        )
    return events


@dataclass(frozen=True)
class Page:
    events: list[AuditEvent]
    older: int | None  # pass as ?before= for the next (older) page
    newer: int | None  # pass as ?after= for the previous (newer) page


def page(
    filters: dict[str, object], before: int | None = None, after: int | None = None
) -> Page:
    events = filtered(filters)
    if after is not None:
        rows = list(
            events.filter(sequence__gt=after).order_by("sequence")[: PAGE_SIZE + 1]
        )
        has_newer = len(rows) > PAGE_SIZE
        rows = list(reversed(rows[:PAGE_SIZE]))
        older = rows[-1].sequence if rows else None
        return Page(rows, older, rows[0].sequence if rows and has_newer else None)
    if before is not None:
        events = events.filter(sequence__lt=before)
    rows = list(events.order_by("-sequence")[: PAGE_SIZE + 1])
    has_older = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    older = rows[-1].sequence if rows and has_older else None
    newer = rows[0].sequence if rows and before is not None else None
    return Page(rows, older, newer)


def iterate(filters: dict[str, object], batch: int = 5000) -> Iterator[rows.Row]:
    """Every matching event as a row (``audit.rows.COLUMNS``), oldest first,
    in keyset batches (constant memory)."""
    return rows.iterate(filtered(filters), batch)
