"""Metadata sync between a customer's Dynamics 365 account and its workspace
in Content Server, against both emulators over HTTP: values copied by the
rules, conflicts that become a reviewer's task while nothing is overwritten,
the owner rule settling what it may, and a 412 from Dynamics."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEvent, EventType
from connectors.base import ActionContext
from integrations.engine.connections import connector_for
from integrations.models import ReviewTask, TaskKind, TaskStatus
from tests.factories import UserFactory
from workspaces import services as workspaces
from workspaces import sync
from workspaces.models import (
    ConflictStatus,
    SyncConflict,
    SyncDirection,
    SyncOwner,
    SyncRule,
    Transform,
    Workspace,
    WorkspaceType,
)
from xconnector import roles

CONTOSO = "aaaaaaaa-0000-4000-8000-000000000001"  # the emulator's demo account
CAT = 9832  # the emulator's "Business partner" category
NAME, NUMBER, CITY, PHONE = (f"{CAT}_{n}" for n in (2, 3, 4, 5))


@pytest.fixture
def synced_customer(customer: WorkspaceType, dynamics) -> WorkspaceType:
    customer.system_connection = dynamics
    customer.record_set = "accounts"
    customer.save()
    rules = [
        ("Name", "name", NAME, SyncOwner.SYSTEM, SyncDirection.FROM_OWNER, "review"),
        ("City", "address1_city", CITY, SyncOwner.SYSTEM, SyncDirection.BOTH, "review"),
        ("Telephone", "telephone1", PHONE, SyncOwner.ECM, SyncDirection.FROM_OWNER,
         "owner"),
        ("Account number", "accountnumber", NUMBER, SyncOwner.SYSTEM,
         SyncDirection.FROM_OWNER, "owner"),
    ]  # fmt: skip
    for position, (label, column, attribute, owner, direction, rule) in enumerate(
        rules
    ):
        SyncRule.objects.create(
            workspace_type=customer,
            label=label,
            system_field=column,
            ecm_attribute=attribute,
            owner=owner,
            direction=direction,
            on_conflict=rule,
            to_ecm=Transform.UPPER if column == "accountnumber" else Transform.NONE,
            position=position,
        )
    return customer


@pytest.fixture
def workspace(synced_customer) -> Workspace:
    found, _ = workspaces.find_or_create(
        synced_customer,
        "A1",
        name="Contoso Ltd",
        links=[("dynamics", "accounts", CONTOSO)],
    )
    return found


def in_dynamics(connection) -> dict[str, Any]:
    out, _ = connector_for(connection.pk)[1].run_action(
        "get",
        {"entity_set": "accounts", "id": CONTOSO},
        ActionContext(idempotency_key="test-read"),
    )
    return out["record"]


def change_in_dynamics(connection, **values: Any) -> None:
    connector_for(connection.pk)[1].run_action(
        "update",
        {"entity_set": "accounts", "id": CONTOSO, "values": values},
        ActionContext(idempotency_key="test-write"),
    )


def in_ecm(workspace: Workspace) -> dict[str, Any]:
    node, _ = connector_for(workspace.workspace_type.connection_id)[1].run_action(
        "get_node",
        {"node_id": workspace.ecm_node_id},
        ActionContext(idempotency_key="test-read"),
    )
    return node["categories"]


def change_in_ecm(workspace: Workspace, **values: Any) -> None:
    connector_for(workspace.workspace_type.connection_id)[1].run_action(
        "apply_categories",
        {"node_id": workspace.ecm_node_id, "values": values},
        ActionContext(idempotency_key="test-write"),
    )


def test_a_first_sync_fills_the_workspace_from_the_account(workspace, dynamics):
    report = sync.sync_workspace(workspace)

    ecm = in_ecm(workspace)
    assert (ecm[NAME], ecm[CITY], ecm[NUMBER], ecm[PHONE]) == (
        "Contoso Ltd",
        "Seattle",
        "A1",  # upper-cased on the way; it already is
        "+1 555 0100",  # owned by Content Server, but it had no value yet
    )
    assert sorted(c.rule.label for c in report.changes) == [
        "Account number",
        "City",
        "Name",
        "Telephone",
    ]
    assert report.conflicts == [] and report.task is None
    event = AuditEvent.objects.get(event_type=EventType.METADATA_SYNCED)
    assert event.business_object == "A1"
    assert "City → Seattle in Content Server" in event.summary

    again = sync.sync_workspace(workspace)
    assert again.changes == [] and again.summary == "Everything was already in step"


def test_changes_flow_by_the_rules(workspace, dynamics):
    sync.sync_workspace(workspace)
    change_in_dynamics(dynamics, address1_city="Redmond", accountnumber="a1-x")
    change_in_ecm(workspace, **{PHONE: "+1 555 0199"})

    report = sync.sync_workspace(workspace)

    ecm, record = in_ecm(workspace), in_dynamics(dynamics)
    assert ecm[CITY] == "Redmond" and ecm[NUMBER] == "A1-X"
    assert record["telephone1"] == "+1 555 0199"  # Content Server owns it
    assert record["accountnumber"] == "a1-x"  # the transform is one way
    assert {(c.rule.label, c.to) for c in report.changes} == {
        ("City", SyncOwner.ECM),
        ("Account number", SyncOwner.ECM),
        ("Telephone", SyncOwner.SYSTEM),
    }
    # City goes both ways: a change in Content Server reaches Dynamics too.
    change_in_ecm(workspace, **{CITY: "Bellevue"})
    sync.sync_workspace(workspace)
    assert in_dynamics(dynamics)["address1_city"] == "Bellevue"


def test_a_conflict_becomes_a_visible_task_and_nothing_is_overwritten(
    workspace, dynamics, admin_client
):
    sync.sync_workspace(workspace)
    change_in_dynamics(dynamics, address1_city="Lyon")
    change_in_ecm(workspace, **{CITY: "Paris", NAME: "Contoso SARL"})

    report = sync.sync_workspace(workspace)

    # Nothing was written for either field, on either side.
    assert in_dynamics(dynamics)["address1_city"] == "Lyon"
    assert in_dynamics(dynamics)["name"] == "Contoso Ltd"
    assert in_ecm(workspace)[CITY] == "Paris"
    assert in_ecm(workspace)[NAME] == "Contoso SARL"
    reasons = {c.rule.label: c.reason for c in report.conflicts}
    assert reasons == {
        "City": "City was changed in both Dynamics 365 and Content Server since "
        "the last sync.",
        "Name": "Name was changed in Content Server, but Dynamics 365 owns it.",
    }
    task = ReviewTask.objects.get(kind=TaskKind.METADATA_CONFLICT)
    assert task.workspace == workspace and task.queue == "Reviewer"
    assert task.business_object == "A1" and task.status == TaskStatus.OPEN
    assert (
        AuditEvent.objects.filter(event_type=EventType.METADATA_CONFLICT).count() == 2
    )

    # Syncing again changes nothing and opens no second task.
    change_in_dynamics(dynamics, address1_city="Marseille")
    again = sync.sync_workspace(workspace)
    assert again.changes == [] and sorted(again.waiting) == ["City", "Name"]
    assert in_ecm(workspace)[CITY] == "Paris"
    assert ReviewTask.objects.filter(kind=TaskKind.METADATA_CONFLICT).count() == 1

    # The workspace page and the task page show it.
    page = admin_client.get(f"/workspaces/{workspace.pk}/").content.decode()
    assert f'data-conflict-task="{task.pk}"' in page
    assert page.count('<span class="badge bg-orange-lt">Conflict</span>') == 2
    reviewer = Client()
    reviewer.force_login(UserFactory(username="rita", role=roles.REVIEWER))
    task_page = reviewer.get(f"/tasks/{task.pk}/").content.decode()
    assert 'data-conflict="City"' in task_page
    assert '<td data-side="system">Lyon</td>' in task_page  # as first found
    assert '<td data-side="ecm">Paris</td>' in task_page


def test_a_reviewer_chooses_and_both_systems_get_the_value(workspace, dynamics):
    sync.sync_workspace(workspace)
    change_in_dynamics(dynamics, address1_city="Lyon")
    change_in_ecm(workspace, **{CITY: "Paris", NAME: "Contoso SARL"})
    sync.sync_workspace(workspace)
    task = ReviewTask.objects.get(kind=TaskKind.METADATA_CONFLICT)
    city = SyncConflict.objects.get(rule__label="City")
    name = SyncConflict.objects.get(rule__label="Name")
    rita = UserFactory(username="rita", role=roles.REVIEWER)
    reviewer = Client()
    reviewer.force_login(rita)

    # A value typed by the reviewer for the city, Content Server's name.
    answer = reviewer.post(
        f"/tasks/{task.pk}/conflicts/",
        {
            "conflict": [city.pk, name.pk],
            f"keep-{city.pk}": "value",
            f"value-{city.pk}": "Paris 8e",
            f"keep-{name.pk}": "ecm",
            "comment": "Checked with the customer",
        },
    )

    assert answer.status_code == 302
    assert answer["Location"] == f"/workspaces/{workspace.pk}/"
    record, ecm = in_dynamics(dynamics), in_ecm(workspace)
    assert record["address1_city"] == ecm[CITY] == "Paris 8e"
    assert record["name"] == ecm[NAME] == "Contoso SARL"
    task.refresh_from_db()
    assert task.status == TaskStatus.RESOLVED and task.resolved_by == rita
    assert task.resolution["kept"] == {"City": "Paris 8e", "Name": "Contoso SARL"}
    city.refresh_from_db()
    assert city.status == ConflictStatus.RESOLVED and city.kept == "Paris 8e"
    resolved = AuditEvent.objects.filter(event_type=EventType.CONFLICT_RESOLVED)
    assert sorted(e.summary for e in resolved) == [
        "City of “Contoso Ltd”: rita kept Paris 8e",
        "Name of “Contoso Ltd”: rita kept Contoso SARL",
    ]
    assert sync.sync_workspace(workspace).changes == []


def test_a_choice_made_on_stale_values_is_refused(workspace, dynamics):
    sync.sync_workspace(workspace)
    change_in_dynamics(dynamics, address1_city="Lyon")
    change_in_ecm(workspace, **{CITY: "Paris"})
    sync.sync_workspace(workspace)
    task = ReviewTask.objects.get(kind=TaskKind.METADATA_CONFLICT)
    city = SyncConflict.objects.get(rule__label="City")
    change_in_dynamics(dynamics, address1_city="Nice")  # after the task opened
    reviewer = Client()
    reviewer.force_login(UserFactory(username="rita", role=roles.REVIEWER))

    answer = reviewer.post(
        f"/tasks/{task.pk}/conflicts/",
        {"conflict": [city.pk], f"keep-{city.pk}": "ecm"},
        follow=True,
    )

    page = answer.content.decode()
    assert "City changed again since the conflict was found" in page
    assert '<td data-side="system">Nice</td>' in page
    assert in_dynamics(dynamics)["address1_city"] == "Nice"  # not overwritten
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_the_owner_rule_settles_a_conflict_and_shows_it(
    workspace, dynamics, admin_client
):
    sync.sync_workspace(workspace)
    change_in_dynamics(dynamics, telephone1="+1 555 0142")  # Content Server owns it

    report = sync.sync_workspace(workspace)

    assert in_dynamics(dynamics)["telephone1"] == "+1 555 0100"
    (found,) = report.conflicts
    assert found.by_rule and found.kept == "+1 555 0100"
    assert not ReviewTask.objects.filter(kind=TaskKind.METADATA_CONFLICT).exists()
    conflict = SyncConflict.objects.get()
    assert conflict.status == ConflictStatus.RESOLVED and conflict.by_rule
    assert conflict.system_value == "+1 555 0142"  # what was replaced is kept
    page = admin_client.get(f"/workspaces/{workspace.pk}/").content.decode()
    assert "Kept +1 555 0100 by the owner rule." in page
    event = AuditEvent.objects.get(event_type=EventType.METADATA_CONFLICT)
    assert event.payload["system_value"] == "+1 555 0142"


def test_a_412_from_dynamics_is_read_again_and_becomes_a_conflict(
    workspace, dynamics, monkeypatch
):
    sync.sync_workspace(workspace)
    change_in_ecm(workspace, **{CITY: "Tacoma"})  # to copy to Dynamics
    real_read = sync.read_sides
    reads: list[str] = []

    def read_then_someone_edits(*args: Any) -> sync.Sides:
        sides = real_read(*args)
        reads.append(sides.etag)
        if len(reads) == 1:  # between our read and our write
            change_in_dynamics(dynamics, address1_city="Spokane")
        return sides

    monkeypatch.setattr(sync, "read_sides", read_then_someone_edits)

    report = sync.sync_workspace(workspace)

    assert len(reads) == 2 and reads[0] != reads[1]  # the 412, then a new read
    assert in_dynamics(dynamics)["address1_city"] == "Spokane"  # kept
    assert in_ecm(workspace)[CITY] == "Tacoma"  # kept
    assert [c.rule.label for c in report.conflicts] == ["City"]
    assert report.task is not None and report.task.kind == TaskKind.METADATA_CONFLICT


def test_a_412_every_time_opens_a_conflict_for_the_fields_meant_for_dynamics(
    workspace, dynamics, monkeypatch
):
    sync.sync_workspace(workspace)
    change_in_ecm(workspace, **{CITY: "Tacoma"})
    real_read = sync.read_sides

    def stale(*args: Any) -> sync.Sides:
        sides = real_read(*args)
        sides.etag = 'W/"1"'  # always an old version
        return sides

    monkeypatch.setattr(sync, "read_sides", stale)

    report = sync.sync_workspace(workspace)

    assert in_dynamics(dynamics)["address1_city"] == "Seattle"
    (found,) = report.conflicts
    assert found.reason == (
        "City could not be written: the record kept changing in Dynamics 365 "
        "while xConnector was writing it (412)."
    )
    assert SyncConflict.objects.get().status == ConflictStatus.OPEN


def test_a_system_that_is_down_is_said_on_the_workspace(
    workspace, dynamics, admin_client
):
    from connectors.dynamics.sandbox.models import DvFault

    sync.sync_workspace(workspace)
    change_in_ecm(workspace, **{CITY: "Tacoma"})
    DvFault.objects.create(status=503, remaining=50, seconds=0)

    response = admin_client.post(f"/workspaces/{workspace.pk}/sync/", follow=True)

    page = response.content.decode()
    assert "The sync stopped:" in page and "data-sync-error" in page
    workspace.refresh_from_db()
    assert workspace.sync_error.startswith(
        "Dynamics 365 is temporarily unavailable (HTTP 503)."
    )
    assert in_ecm(workspace)[CITY] == "Tacoma"  # nothing was lost
    DvFault.objects.all().delete()
    sync.sync_workspace(workspace)  # once it is back, the change goes through
    assert in_dynamics(dynamics)["address1_city"] == "Tacoma"
    workspace.refresh_from_db()
    assert workspace.sync_error == ""


def test_a_flow_step_syncs_the_workspace_of_its_business_object(
    workspace, dynamics, admin_user, woken
):
    from integrations import services
    from integrations.models import RunStatus
    from tests.integrations.flows import drain

    sync.sync_workspace(workspace)
    change_in_dynamics(dynamics, address1_city="Redmond")
    change_in_ecm(workspace, **{NAME: "Contoso GmbH"})  # Dynamics owns the name
    flow = services.create_flow(
        "Keep customers in step",
        {
            "trigger": {"type": "manual"},
            "steps": [
                {
                    "key": "sync",
                    "type": "sync",
                    "workspace_type": "customer",
                    "business_key": "trigger.account",
                }
            ],
        },
        admin_user,
        activate=True,
    )

    run, _ = services.start_run(flow, {"account": "A1"}, admin_user)
    drain()

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    output = run.steps.get(step_key="sync").output
    assert output["changed"] == [{"field": "City", "to": "ecm", "value": "Redmond"}]
    assert output["conflicts"] == ["Name"]
    task = ReviewTask.objects.get(kind=TaskKind.METADATA_CONFLICT)
    assert output["task_id"] == task.pk and task.run is None
    assert in_ecm(workspace)[CITY] == "Redmond"
