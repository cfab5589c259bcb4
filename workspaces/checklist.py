"""How complete a workspace is: its type's checklist against its documents.

Pure: given the requirements and the documents filed, each item is present,
awaiting approval, rejected, expired or missing; the newest document of a
type is the one that counts. No database access, so the workspace page, the
API and the engine read the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import models


class ItemState(models.TextChoices):
    PRESENT = "present", "Present"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"
    MISSING = "missing", "Missing"


@dataclass(frozen=True)
class Item:
    """One checklist item with the document that fills it, if any."""

    requirement: Any
    state: str
    document: Any = None

    @property
    def label(self) -> str:
        return str(self.requirement.label)

    @property
    def done(self) -> bool:
        return self.state == ItemState.PRESENT

    @property
    def state_label(self) -> str:
        return str(ItemState(self.state).label)


@dataclass(frozen=True)
class Checklist:
    """Every item, and the counts a business user reads ("2 of 4")."""

    items: tuple[Item, ...]

    @property
    def required(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.requirement.required)

    @property
    def done(self) -> int:
        return sum(1 for item in self.required if item.done)

    @property
    def total(self) -> int:
        return len(self.required)

    @property
    def complete(self) -> bool:
        """Every required document is there (a type without a checklist is
        never complete: there is nothing to wait for)."""
        return self.total > 0 and self.done == self.total

    @property
    def summary(self) -> str:
        return f"{self.done} of {self.total}"

    def states(self) -> dict[str, str]:
        """{document type: state}, for a run's output and the API."""
        return {str(item.requirement.document_type): item.state for item in self.items}


def evaluate(
    requirements: Iterable[Any], documents: Iterable[Any], today: date
) -> Checklist:
    """The checklist of ``requirements`` (in order) against ``documents``
    (any order; the newest of each type counts)."""
    newest: dict[str, Any] = {}
    for document in documents:
        known = newest.get(document.document_type)
        if known is None or (document.filed_at, document.pk) > (
            known.filed_at,
            known.pk,
        ):
            newest[document.document_type] = document
    items = []
    for requirement in requirements:
        document = newest.get(requirement.document_type)
        items.append(Item(requirement, _state(document, today), document))
    return Checklist(tuple(items))


def _state(document: Any, today: date) -> str:
    if document is None:
        return ItemState.MISSING
    if document.valid_until is not None and document.valid_until < today:
        return ItemState.EXPIRED
    if document.status == "awaiting_approval":
        return ItemState.AWAITING_APPROVAL
    if document.status == "rejected":
        return ItemState.REJECTED
    return ItemState.PRESENT
