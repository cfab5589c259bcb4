"""How a flow is drawn: its trigger at the top, then its steps in order;
a router's routes side by side, each a lane of the steps it runs.

A definition is a list of steps a run goes through in order; a router
jumps to a step, and a step with ``next`` jumps (``end`` stops). So the
steps from a router's first target on are its lanes: each lane starts at
one target and runs until the next target begins, a step jumps away, or
the flow ends; what follows a lane (its ``then``) is said under it. No
Django in here: the designer's page and its tests both use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

END = "end"


@dataclass
class Box:
    key: str
    label: str
    kind: str
    system: str = ""
    index: int = -1  # position in the steps; -1 for the trigger
    problems: list[str] = field(default_factory=list)


@dataclass
class Lane:
    label: str
    boxes: list[Box]
    then: str = ""  # "" (goes on below), "end", or a step's label


@dataclass
class Row:
    box: Box
    lanes: list[Lane] = field(default_factory=list)

    @property
    def branches(self) -> bool:
        return bool(self.lanes)


def rows(
    steps: list[dict[str, Any]],
    trigger: Box,
    systems: dict[str, str],
    problems: dict[str, list[str]] | None = None,
) -> list[Row]:
    """The canvas, top to bottom. ``systems`` names the system of each step
    key; ``problems`` lists what is not ready per step key."""
    problems = problems or {}
    index_of = {step["key"]: i for i, step in enumerate(steps)}

    def box(i: int) -> Box:
        step = steps[i]
        return Box(
            key=step["key"],
            label=str(step.get("name") or step["key"]),
            kind=str(step.get("type") or ""),
            system=systems.get(step["key"], ""),
            index=i,
            problems=problems.get(step["key"], []),
        )

    def label_of(key: str) -> str:
        if key == END or key not in index_of:
            return END
        step = steps[index_of[key]]
        return str(step.get("name") or key)

    canvas = [Row(trigger)]
    i = 0
    while i < len(steps):
        step = steps[i]
        row = Row(box(i))
        canvas.append(row)
        targets = _paths(step, steps, i)
        if not targets:
            i += 1
            continue
        starts = sorted({index_of[key] for _, key in targets if key in index_of})
        orphans: list[Box] = []
        for label, key in targets:
            if key == END or not key:
                row.lanes.append(Lane(label, [], then=END))
                continue
            if key not in index_of:
                row.lanes.append(Lane(label, [], then=f"a missing step “{key}”"))
                continue
            start = index_of[key]
            later = [s for s in starts if s > start]
            stop = later[0] if later else len(steps)
            boxes, then = [], ""
            for j in range(start, stop):
                boxes.append(box(j))
                jump = steps[j].get("next") or ""
                if jump:
                    then = END if jump == END else label_of(jump)
                    orphans += [box(k) for k in range(j + 1, stop)]
                    break
            else:
                then = label_of(steps[stop]["key"]) if stop < len(steps) else END
            row.lanes.append(Lane(label, boxes, then=then))
        if starts and starts[0] > i + 1:  # steps only another jump reaches
            orphans = [box(j) for j in range(i + 1, starts[0])] + orphans
        if orphans:
            row.lanes.append(Lane("Reached only by a jump", orphans))
        # the lanes hold every step from the first target to the end
        i = len(steps) if starts else i + 1
    return canvas


def _paths(
    step: dict[str, Any], steps: list[dict[str, Any]], i: int
) -> list[tuple[str, str]]:
    """(label, first step) of each path a step opens: a router's routes and
    default, an approval's or reconciliation's "approved" and "rejected"."""
    if step.get("type") == "router":
        paths = [
            (f"When {route.get('when', '')}", route.get("goto", ""))
            for route in step.get("routes") or []
        ]
        return [*paths, ("Otherwise", step.get("default") or "")]
    if step.get("type") in ("approval", "reconcile") and step.get("on_reject"):
        after = step.get("next") or (steps[i + 1]["key"] if i + 1 < len(steps) else END)
        return [("When approved", after), ("When rejected", step["on_reject"])]
    return []
