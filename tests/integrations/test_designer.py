"""The flow designer: a draft edited step by step (add from the catalog,
move, delete and undo, configure), what is not ready shown on its step,
the mapping preview on the sample, a step tried against the emulator
without a run, and publishing with a note."""

from __future__ import annotations

from typing import Any

from django.test import Client

from integrations import flow_templates
from integrations.designer import drafts
from integrations.models import Flow, FlowRun, StepTest
from tests.factories import UserFactory
from xconnector import roles


def reconciliation(systems: Any, user: Any) -> Flow:
    return flow_templates.instantiate(
        "order-reconciliation", {"orders": systems.orders}, user
    )


def keys(flow: Flow) -> list[str]:
    flow.refresh_from_db()
    return [step["key"] for step in drafts.draft_of(flow)["steps"]]


def test_a_draft_is_edited_undone_and_published_while_the_version_in_use_runs(
    systems, admin_user, admin_client
):
    flow = reconciliation(systems, admin_user)
    base = f"/flows/{flow.pk}/design"
    in_use = flow.published_version.definition
    assert keys(flow) == ["order", "match", "accept", "dispute"]

    # add a condition from the catalog, after the order is read
    page = admin_client.get(f"{base}/?add=order&q=condition").content.decode()
    assert 'data-entry="builtin:condition"' in page
    assert 'data-entry="builtin:approval"' not in page  # the search narrowed it
    added = admin_client.post(
        f"{base}/add/", {"entry": "builtin:condition", "after": "order"}
    )
    assert added.status_code == 302 and added["Location"].endswith("?step=check")
    assert keys(flow) == ["order", "check", "match", "accept", "dispute"]

    # configure it, move it down, delete a step, undo the deletion
    admin_client.post(
        f"{base}/steps/check/",
        {
            "name": "Only known orders",
            "settings": '{"expression": "$exists(steps.order.body.id)", '
            '"otherwise": "fail", "message": "Unknown order."}',
        },
    )
    admin_client.post(f"{base}/steps/check/move/", {"direction": "down"})
    assert keys(flow) == ["order", "match", "check", "accept", "dispute"]
    admin_client.post(f"{base}/steps/dispute/delete/")
    assert "dispute" not in keys(flow)
    admin_client.post(f"{base}/undo/")
    assert keys(flow) == ["order", "match", "check", "accept", "dispute"]
    step = drafts.find(drafts.draft_of(flow), "check")[1]
    assert step == {
        "key": "check",
        "type": "condition",
        "name": "Only known orders",
        "expression": "$exists(steps.order.body.id)",
        "otherwise": "fail",
        "message": "Unknown order.",
    }

    # the version in use did not change; publishing needs a note
    flow.refresh_from_db()
    assert flow.published_version.definition == in_use
    admin_client.post(f"{base}/publish/", {"note": ""})
    flow.refresh_from_db()
    assert flow.published_version.number == 1
    published = admin_client.post(f"{base}/publish/", {"note": "Check the order"})
    assert published["Location"] == f"/flows/{flow.pk}/"
    flow.refresh_from_db()
    assert (flow.published_version.number, flow.published_version.note) == (
        2,
        "Check the order",
    )
    assert flow.draft is None
    assert [s["key"] for s in flow.published_version.definition["steps"]] == [
        "order",
        "match",
        "check",
        "accept",
        "dispute",
    ]


def test_what_is_not_ready_is_shown_on_its_step(systems, admin_user, admin_client):
    flow = reconciliation(systems, admin_user)
    admin_client.post(
        f"/flows/{flow.pk}/design/add/",
        {"entry": f"action:{systems.otcs.pk}:upload_document", "after": "accept"},
    )

    page = admin_client.get(f"/flows/{flow.pk}/design/").content.decode()

    per_step, _ = drafts.problems(drafts.draft_of(Flow.objects.get(pk=flow.pk)))
    assert per_step == {
        "upload_a_document": ["The field “parent_id” is required but no rule fills it."]
    }
    assert 'data-problems="1"' in page
    assert "1 thing to finish" in page
    refused = admin_client.post(f"/flows/{flow.pk}/design/publish/", {"note": "x"})
    assert refused.status_code == 302
    flow.refresh_from_db()
    assert flow.published_version.number == 1


def test_the_mapping_preview_follows_the_form_on_the_sample(
    systems, admin_user, admin_client
):
    flow = reconciliation(systems, admin_user)
    url = f"/flows/{flow.pk}/design/steps/order/preview/"

    first = admin_client.post(
        url,
        {
            "target": ["method", "path"],
            "expression": ['"GET"', '"orders/" & trigger.order'],
            "transform": ["", "upper"],
        },
    ).content.decode()
    broken = admin_client.post(
        url,
        {"target": ["method", "path"], "expression": ['"GET"', '"orders/" &'],
         "transform": ["", ""]},
    ).content.decode()  # fmt: skip

    assert "&quot;path&quot;: &quot;ORDERS/ORD-1002&quot;" in first
    assert "Every field maps on the sample data." in first
    assert "data-preview-errors" in broken and "“path”" in broken


def test_a_step_is_tried_against_the_emulator_without_a_run(
    systems, admin_user, admin_client
):
    flow = reconciliation(systems, admin_user)

    admin_client.post(f"/flows/{flow.pk}/design/steps/order/test/")
    page = admin_client.get(f"/flows/{flow.pk}/design/?step=order").content.decode()

    (test,) = StepTest.objects.filter(flow=flow)
    assert test.ok, test.error
    assert test.input == {"method": "GET", "path": "orders/ORD-1002"}
    assert test.output["status"] == 200
    assert test.output["body"]["id"] == "ORD-1002"
    assert not FlowRun.objects.exists()  # a test is not a run
    assert 'data-test="ok"' in page
    # a condition is tried on the sample too; a document step says why not
    admin_client.post(f"/flows/{flow.pk}/design/steps/match/test/")
    assert StepTest.objects.get(step_key="match").error == (
        "Only actions, conditions, routers and variables can be tried on their "
        "own; this step is tried when the flow runs."
    )


def test_only_integration_admins_design(systems, admin_user):
    flow = reconciliation(systems, admin_user)
    reviewer = Client()
    reviewer.force_login(UserFactory(username="rita", role=roles.REVIEWER))

    assert reviewer.get(f"/flows/{flow.pk}/design/").status_code == 403
    assert (
        reviewer.post(f"/flows/{flow.pk}/design/steps/order/delete/").status_code == 403
    )
    assert keys(flow) == ["order", "match", "accept", "dispute"]
