"""How the designer draws a flow: routes side by side, each lane with the
steps it runs and what comes after it."""

from __future__ import annotations

from integrations import flow_templates
from integrations.designer import layout

TRIGGER = layout.Box(key="", label="When a webhook arrives", kind="trigger")


def drawn(key: str) -> list[layout.Row]:
    template = flow_templates.get(key)
    numbers = {slot.key: n for n, slot in enumerate(template.slots, 1)}
    return layout.rows(template.build(numbers)["steps"], TRIGGER, {})


def test_a_router_draws_its_routes_side_by_side():
    canvas = drawn("channel-routing")

    assert [row.box.key for row in canvas] == ["", "letters", "letter", "route"]
    lanes = canvas[-1].lanes
    assert [(lane.label, [b.key for b in lane.boxes], lane.then) for lane in lanes] == [
        ('When trigger.body.document_type = "legal_notice"', ["print"], "end"),
        ('When trigger.body.customer.preferred_channel = "email"', ["email"], "end"),
        (
            'When trigger.body.customer.preferred_channel = "sms"',
            ["sms"],
            "Publish it on the portal",
        ),
        ("Otherwise", ["portal"], "end"),
    ]


def test_an_approval_draws_its_approved_and_rejected_paths():
    canvas = drawn("communication-approval")

    lanes = canvas[-1].lanes
    assert canvas[-1].box.key == "approve"
    assert [(lane.label, [b.key for b in lane.boxes], lane.then) for lane in lanes] == [
        ("When approved", ["release"], "end"),
        ("When rejected", ["reject", "tell_author"], "end"),
    ]


def test_a_step_no_path_reaches_is_still_drawn():
    steps = [
        {"key": "ask", "type": "approval", "name": "Ask", "on_reject": "no"},
        {"key": "yes", "type": "set", "name": "Yes", "next": "end"},
        {"key": "lost", "type": "set", "name": "Lost"},
        {"key": "no", "type": "set", "name": "No"},
    ]

    (_, ask) = layout.rows(steps, TRIGGER, {})

    assert [(lane.label, [b.key for b in lane.boxes]) for lane in ask.lanes] == [
        ("When approved", ["yes"]),
        ("When rejected", ["no"]),
        ("Reached only by a jump", ["lost"]),
    ]
