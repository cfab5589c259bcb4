"""The flows API: flows read by every role that views them, created,
published, compared in words, restored, turned on and off, exported
(without a secret) and imported, and made from templates, by the
integration admin only; the same permissions as the flow pages."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from audit.models import AuditEvent, EventType
from integrations import flow_templates, services
from integrations.models import Flow, FlowStatus
from tests.api.conftest import assert_error
from tests.integrations.flows import (
    HOOK_SECRET,
    Systems,
    contract_definition,
    make_systems,
)

pytestmark = pytest.mark.django_db

READERS = ["admin", "reviewer", "auditor", "viewer"]
NOT_ADMINS = ["reviewer", "auditor", "viewer"]
# The secret values of the connections ``make_systems`` creates.
SECRETS = [HOOK_SECRET, "sandbox-token", "sandbox-admin"]
CAPTURE_STEPS = ["fetch", "file", "classify", "needs_hold", "hold"]


@pytest.fixture
def conns(api) -> Systems:
    """The Content Server, orders API and webhook connections, with secrets
    (no system is called: definitions are only checked)."""
    return make_systems("https://systems.example.com", api["admin"].user)


@pytest.fixture
def flow(conns, api) -> Flow:
    return services.create_flow(
        "File account contracts", contract_definition(conns), api["admin"].user
    )


def url(flow: Flow, rest: str = "") -> str:
    return f"/api/v1/flows/{flow.pk}/{rest}"


def assert_no_secret(response: Any) -> None:
    text = response.content.decode()
    for secret in SECRETS:
        assert secret not in text


# --- Reading --------------------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_every_role_that_views_flows_lists_and_reads_them(role, api, flow):
    listed = api[role].get("/api/v1/flows/")
    read = api[role].get(url(flow))

    assert listed.status_code == 200, listed.content
    [item] = listed.json()["results"]
    assert (item["id"], item["name"], item["status"]) == (
        flow.pk,
        "File account contracts",
        "draft",
    )
    assert (item["current_version"], item["owner"]) == (1, "ada")
    assert "definition" not in item
    assert read.status_code == 200, read.content
    body = read.json()
    assert (body["current_version"], body["status"], body["business_key"]) == (
        1,
        "draft",
        "",
    )
    definition = body["definition"]
    assert definition["trigger"]["type"] == "webhook"
    assert [s["key"] for s in definition["steps"]] == [
        "contract",
        "workspace",
        "file",
        "link_back",
    ]
    assert definition["steps"][1]["mapping"][0] == {
        "target": "ext_system_id",
        "expression": '"D365"',
    }
    assert_no_secret(listed)
    assert_no_secret(read)


def test_the_list_is_filtered_by_status_and_by_part_of_the_name(api, conns, flow):
    admin = api["admin"].user
    other = services.create_flow(
        "Link accounts", contract_definition(conns), admin, activate=True
    )

    active = api["viewer"].get("/api/v1/flows/?status=active").json()["results"]
    named = api["viewer"].get("/api/v1/flows/?q=CONTRACT").json()["results"]
    both = api["viewer"].get("/api/v1/flows/").json()["results"]

    assert [f["id"] for f in active] == [other.pk]
    assert [f["id"] for f in named] == [flow.pk]
    assert [f["name"] for f in both] == ["File account contracts", "Link accounts"]


def test_the_list_comes_in_pages_of_the_size_asked(api, conns, flow):
    services.create_flow("Link accounts", contract_definition(conns), flow.owner)
    viewer = api["viewer"]

    first = viewer.get("/api/v1/flows/?page_size=1").json()
    second = viewer.get(first["next"]).json()

    assert [f["name"] for f in first["results"]] == ["File account contracts"]
    assert [f["name"] for f in second["results"]] == ["Link accounts"]
    assert second["next"] is None
    for wrong in ("0", "201", "null", "-1"):
        body = assert_error(
            viewer.get(f"/api/v1/flows/?page_size={wrong}"), 400, "invalid"
        )
        assert body["fields"] == {"page_size": ["Give a whole number from 1 to 200."]}


@pytest.mark.parametrize("status", ["sleeping", ""])
def test_an_unknown_status_filter_is_refused_naming_the_parameter(api, flow, status):
    answer = api["viewer"].get(f"/api/v1/flows/?status={status}")

    body = assert_error(answer, 400, "invalid")
    assert body["fields"] == {
        "status": [f"“{status}” is not a flow status: choose draft, active or paused."]
    }


def test_a_blank_name_filter_filters_nothing_out(api, flow):
    answer = api["viewer"].get("/api/v1/flows/?q=%20")

    assert [f["id"] for f in answer.json()["results"]] == [flow.pk]


def test_without_a_token_nothing_about_flows_is_answered(api, flow):
    anonymous = api["anonymous"]

    for path in (
        "/api/v1/flows/",
        url(flow),
        url(flow, "versions/"),
        url(flow, "versions/1/"),
        url(flow, "export/"),
        "/api/v1/templates/",
    ):
        assert_error(anonymous.get(path), 401, "not_authenticated")
    assert_error(anonymous.post(url(flow, "activate/")), 401, "not_authenticated")


def test_a_flow_or_version_that_does_not_exist_is_not_found(api, flow):
    viewer = api["viewer"]
    missing = flow.pk + 1000

    body = assert_error(viewer.get(f"/api/v1/flows/{missing}/"), 404, "not_found")
    assert body["message"] == f"There is no flow {missing}, or you may not see it."
    assert_error(viewer.get(f"/api/v1/flows/{missing}/versions/"), 404, "not_found")
    assert_error(viewer.get(f"/api/v1/flows/{missing}/export/"), 404, "not_found")
    body = assert_error(viewer.get(url(flow, "versions/7/")), 404, "not_found")
    assert body["message"] == "“File account contracts” has no version 7."
    assert_error(viewer.get("/api/v1/flows/abc/"), 404, "not_found")
    assert_error(viewer.get("/api/v1/flows/" + "9" * 30 + "/"), 404, "not_found")


def test_a_method_a_flow_does_not_have_is_not_allowed(api, flow):
    admin = api["admin"]

    assert_error(admin.delete(url(flow)), 405, "method_not_allowed")
    assert_error(admin.put(url(flow), {}, format="json"), 405, "method_not_allowed")
    assert_error(admin.get(url(flow, "publish/")), 405, "method_not_allowed")
    assert Flow.objects.filter(pk=flow.pk).exists()


# --- Creating -------------------------------------------------------------------------


def test_the_admin_creates_a_flow_with_its_first_version(api, conns):
    answer = api["admin"].post(
        "/api/v1/flows/",
        {
            "name": "File contracts",
            "description": "From Dynamics",
            "definition": contract_definition(conns),
        },
        format="json",
    )

    assert answer.status_code == 201, answer.content
    body = answer.json()
    flow = Flow.objects.get(pk=body["id"])
    assert (body["name"], body["description"], body["status"]) == (
        "File contracts",
        "From Dynamics",
        "draft",
    )
    assert body["current_version"] == 1
    assert flow.published_version.note == "First version"
    assert flow.published_version.author.username == "ada"
    assert [s["key"] for s in body["definition"]["steps"]] == [
        "contract",
        "workspace",
        "file",
        "link_back",
    ]
    assert (
        AuditEvent.objects.filter(
            event_type=EventType.CONFIG_CHANGED, flow_id=flow.pk
        ).count()
        == 2
    )  # the flow, its first version


def test_an_invalid_definition_is_refused_with_its_problems_in_words(api, conns):
    definition = contract_definition(conns)
    definition["steps"][0]["connection"] = 999_999
    definition["steps"][1]["action"] = "make_coffee"

    answer = api["admin"].post(
        "/api/v1/flows/",
        {"name": "Broken", "definition": definition},
        format="json",
    )

    body = assert_error(answer, 400, "invalid")
    assert body["fields"] == {
        "definition": [
            "Step “Contract”: its connection does not exist.",
            "Step “Workspace”: Content Server has no action “make_coffee”.",
        ]
    }
    assert not Flow.objects.filter(name="Broken").exists()


@pytest.mark.parametrize(
    ("given", "field", "problem"),
    [
        ({"definition": {"trigger": {"type": "manual"}}}, "name", "required"),
        ({"name": 5, "definition": {"trigger": {"type": "manual"}}}, "name", None),
        ({"name": "A flow"}, "definition", "required"),
        ({"name": "A flow", "definition": [1]}, "definition", None),
        (
            {"name": "File account contracts", "definition": {"trigger": {}}},
            "name",
            "A flow called “File account contracts” exists already: choose "
            "another name.",
        ),
        (
            {
                "name": "A flow",
                "definition": {"trigger": {"type": "poll", "connection": 10**30}},
            },
            "definition",
            "The trigger's connection must be a number from 0 to 9223372036854775807.",
        ),
        (
            {"name": "A flow", "definition": {"trigger": "manual", "steps": [[]]}},
            "definition",
            [
                "The trigger must be an object: {“type”: …}.",
                "The steps must be a list of objects.",
            ],
        ),
    ],
)
def test_a_new_flow_needs_a_name_and_a_definition(api, flow, given, field, problem):
    answer = api["admin"].post("/api/v1/flows/", given, format="json")

    body = assert_error(answer, 400, "invalid")
    assert list(body["fields"]) == [field]
    if problem == "required":
        assert body["fields"][field] == ["This field is required."]
    elif isinstance(problem, list):
        assert body["fields"][field] == problem
    elif problem:
        assert body["fields"][field] == [problem]
    assert Flow.objects.count() == 1


@pytest.mark.parametrize("role", NOT_ADMINS)
def test_only_the_admin_creates_flows(role, api, conns):
    answer = api[role].post(
        "/api/v1/flows/",
        {"name": "Mine", "definition": contract_definition(conns)},
        format="json",
    )

    assert_error(answer, 403, "permission_denied")
    assert not Flow.objects.exists()


# --- Versions -------------------------------------------------------------------------


def renamed_and_remapped(definition: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(definition)
    changed["steps"][0]["name"] = "Fetch the contract"
    parent = next(
        r for r in changed["steps"][1]["mapping"] if r["target"] == "parent_id"
    )
    parent["expression"] = "3000"
    return changed


def test_the_admin_publishes_a_new_version_with_a_note(api, flow):
    definition = api["admin"].get(url(flow)).json()["definition"]

    answer = api["admin"].post(
        url(flow, "publish/"),
        {"definition": renamed_and_remapped(definition), "note": "Clearer name"},
        format="json",
    )

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["number"], body["note"], body["created_by"], body["current"]) == (
        2,
        "Clearer name",
        "ada",
        True,
    )
    assert body["definition"]["steps"][0]["name"] == "Fetch the contract"
    assert api["viewer"].get(url(flow)).json()["current_version"] == 2


@pytest.mark.parametrize(
    ("given", "field", "problem"),
    [
        ({"note": "x"}, "definition", "This field is required."),
        ({"definition": {}}, "note", "Say in a few words what this version changes."),
        (
            {"definition": {}, "note": "   "},
            "note",
            "Say in a few words what this version changes.",
        ),
        ({"definition": {}, "note": 42}, "note", "Not a valid string."),
        ({"definition": {}, "note": "x" * 501}, "note", None),
    ],
)
def test_a_version_needs_a_definition_and_a_note(api, flow, given, field, problem):
    answer = api["admin"].post(url(flow, "publish/"), given, format="json")

    body = assert_error(answer, 400, "invalid")
    assert list(body["fields"]) == [field]
    if problem:
        assert body["fields"][field] == [problem]
    assert flow.versions.count() == 1


def test_an_invalid_version_is_refused_and_the_current_one_stays(api, flow, conns):
    definition = contract_definition(conns)
    definition["steps"][2]["next"] = "nowhere"

    answer = api["admin"].post(
        url(flow, "publish/"), {"definition": definition, "note": "x"}, format="json"
    )

    body = assert_error(answer, 400, "invalid")
    assert body["fields"] == {
        "definition": [
            "value: Value error, step “file” jumps to “nowhere”, which is not a step."
        ]
    }
    flow.refresh_from_db()
    assert flow.published_version.number == 1


@pytest.mark.parametrize("role", NOT_ADMINS)
def test_only_the_admin_publishes_restores_and_turns_flows_on_or_off(
    role, api, flow, conns
):
    client = api[role]
    publish = client.post(
        url(flow, "publish/"),
        {"definition": contract_definition(conns), "note": "mine"},
        format="json",
    )

    assert_error(publish, 403, "permission_denied")
    assert_error(
        client.post(url(flow, "versions/1/restore/")), 403, "permission_denied"
    )
    assert_error(client.post(url(flow, "activate/")), 403, "permission_denied")
    assert_error(client.post(url(flow, "deactivate/")), 403, "permission_denied")
    flow.refresh_from_db()
    assert (flow.status, flow.versions.count()) == ("draft", 1)


def test_the_versions_are_listed_newest_first_with_note_and_author(api, flow):
    admin = api["admin"].user
    changed = renamed_and_remapped(flow.published_version.definition)
    services.publish_version(flow, changed, admin, note="Clearer name")

    answer = api["auditor"].get(url(flow, "versions/"))

    assert answer.status_code == 200, answer.content
    listed = [
        (v["number"], v["note"], v["created_by"], v["current"])
        for v in answer.json()["results"]
    ]
    assert listed == [
        (2, "Clearer name", "ada", True),
        (1, "First version", "ada", False),
    ]
    first = api["auditor"].get(url(flow, "versions/1/")).json()
    assert first["definition"] == flow.versions.get(number=1).definition
    assert first["current"] is False
    assert_no_secret(answer)


def test_what_changed_between_two_versions_is_said_in_words(api, flow):
    admin = api["admin"].user
    changed = renamed_and_remapped(flow.published_version.definition)
    services.publish_version(flow, changed, admin, note="Clearer name")
    said = [
        "Step “contract” was renamed “Fetch the contract”.",
        "Step “workspace”: “parent_id” is now mapped from “3000” (was “2000”).",
    ]

    default = api["reviewer"].get(url(flow, "versions/2/diff/"))
    explicit = api["reviewer"].get(url(flow, "versions/2/diff/?against=1"))
    backwards = api["reviewer"].get(url(flow, "versions/1/diff/?against=2"))
    first = api["reviewer"].get(url(flow, "versions/1/diff/"))

    assert default.status_code == 200, default.content
    assert default.json() == {"number": 2, "against": 1, "changes": said}
    assert explicit.json() == default.json()
    assert backwards.json()["changes"][0] == (
        "Step “Fetch the contract” was renamed “contract”."
    )
    assert first.json() == {"number": 1, "against": None, "changes": []}


@pytest.mark.parametrize(
    ("against", "problem"),
    [
        ("two", "A valid integer is required."),
        ("0", "Ensure this value is greater than or equal to 1."),
    ],
)
def test_a_comparison_with_a_version_that_is_not_there_is_refused(
    api, flow, against, problem
):
    answer = api["viewer"].get(url(flow, f"versions/1/diff/?against={against}"))

    body = assert_error(answer, 400, "invalid")
    assert body["fields"] == {"against": [problem]}


def test_a_comparison_with_a_version_that_does_not_exist_is_not_found(api, flow):
    answer = api["viewer"].get(url(flow, "versions/1/diff/?against=9"))

    body = assert_error(answer, 404, "not_found")
    assert body["message"] == (
        "“File account contracts” has no version 9 to compare with."
    )


def test_the_admin_uses_an_old_version_again_as_the_newest(api, flow):
    admin = api["admin"].user
    first = flow.published_version
    services.publish_version(
        flow, renamed_and_remapped(first.definition), admin, note="Clearer name"
    )

    answer = api["admin"].post(url(flow, "versions/1/restore/"))

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["number"], body["note"], body["current"]) == (
        3,
        "Restored version 1",
        True,
    )
    assert body["definition"] == first.definition
    flow.refresh_from_db()
    assert flow.published_version.number == 3
    assert_error(api["admin"].post(url(flow, "versions/8/restore/")), 404, "not_found")


def test_a_version_whose_connection_is_gone_cannot_be_restored(api, flow, conns):
    admin = api["admin"].user
    # version 2 no longer reads from the orders API, which is then deleted
    # (its protection by version 1 is removed by hand: no service does that)
    definition = contract_definition(conns, contract=None, link_back=None)
    definition["steps"][1]["document"] = "trigger"
    services.publish_version(flow, definition, admin, note="Without orders")
    flow.versions.get(number=1).flowversionconnection_set.filter(
        connection=conns.orders
    ).delete()
    conns.orders.delete()

    answer = api["admin"].post(url(flow, "versions/1/restore/"))

    body = assert_error(answer, 409, "conflict")
    assert body["message"] == (
        "Version 1 cannot be used any more: Step “Contract”: its connection does "
        "not exist. Step “Link back”: its connection does not exist."
    )
    assert flow.versions.count() == 2


# --- On and off -----------------------------------------------------------------------


def test_the_admin_turns_a_flow_on_and_pauses_it(api, flow):
    on = api["admin"].post(url(flow, "activate/"))
    again = api["admin"].post(url(flow, "activate/"))
    off = api["admin"].post(url(flow, "deactivate/"))

    assert on.status_code == 200, on.content
    assert on.json()["status"] == "active"
    assert again.json()["status"] == "active"
    assert off.json()["status"] == "paused"
    flow.refresh_from_db()
    assert flow.status == FlowStatus.PAUSED
    changes = AuditEvent.objects.filter(
        event_type=EventType.CONFIG_CHANGED, flow_id=flow.pk
    )
    # created, first version, on, paused: the second "on" changed nothing
    assert changes.count() == 4


def test_a_flow_without_a_published_version_cannot_be_turned_on(api):
    empty = Flow.objects.create(name="Nothing yet")

    answer = api["admin"].post(url(empty, "activate/"))

    body = assert_error(answer, 409, "conflict")
    assert body["message"] == "Publish a version before activating the flow."
    empty.refresh_from_db()
    assert empty.status == FlowStatus.DRAFT


# --- Export and import ----------------------------------------------------------------


def test_an_export_names_connections_and_holds_no_secret(api, flow):
    answer = api["viewer"].get(url(flow, "export/"))

    assert answer.status_code == 200, answer.content
    assert_no_secret(answer)
    exported = answer.json()
    assert (exported["format"], exported["name"], exported["version"]) == (
        "xconnector.flow/1",
        "File account contracts",
        1,
    )
    definition = exported["definition"]
    assert definition["trigger"]["connection"] == {
        "name": "Dynamics events",
        "connector": "webhook",
    }
    assert [s["connection"] for s in definition["steps"]] == [
        {"name": "Orders API", "connector": "http"},
        {"name": "Content Server", "connector": "otcs"},
        {"name": "Content Server", "connector": "otcs"},
        {"name": "Orders API", "connector": "http"},
    ]


def test_an_export_is_imported_on_the_connections_of_the_same_names(api, flow, conns):
    exported = api["admin"].get(url(flow, "export/")).json()

    answer = api["admin"].post(
        "/api/v1/flows/import/",
        {"export": exported, "name": "Contracts (copy)"},
        format="json",
    )

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["name"], body["status"], body["current_version"]) == (
        "Contracts (copy)",
        "draft",
        1,
    )
    assert body["definition"]["trigger"]["connection"] == conns.hook.pk
    assert body["definition"]["steps"] == flow.published_version.definition["steps"]
    copy_ = Flow.objects.get(pk=body["id"])
    assert copy_.published_version.note == (
        "Imported (version 1 of “File account contracts”)"
    )


def test_an_import_that_needs_missing_connections_says_which(api, flow):
    exported = api["admin"].get(url(flow, "export/")).json()
    exported["definition"]["steps"][1]["connection"]["name"] = "Archive"
    exported["definition"]["steps"][2]["connection"]["name"] = "Archive"

    answer = api["admin"].post(
        "/api/v1/flows/import/", {"export": exported}, format="json"
    )

    body = assert_error(answer, 400, "invalid")
    assert body["fields"] == {
        "__all__": [
            "Step “workspace” needs a otcs connection called “Archive”: create it "
            "(or rename yours), then import again.",
            "Step “file” needs a otcs connection called “Archive”: create it (or "
            "rename yours), then import again.",
            "A flow called “File account contracts” exists already: choose another "
            "name.",
        ]
    }
    assert Flow.objects.count() == 1


@pytest.mark.parametrize(
    ("given", "field", "problem"),
    [
        (
            {"format": "zip/1", "definition": {}},
            "__all__",
            "This is not a flow exported from xConnector (its format is unknown).",
        ),
        (
            {"format": "xconnector.flow/1"},
            "export.definition",
            "This field is required.",
        ),
        ({"definition": {}}, "export.format", "This field is required."),
        (
            {"format": "xconnector.flow/1", "definition": {}, "version": "1"},
            "export.version",
            "A valid integer is required.",
        ),
        (
            {"format": "xconnector.flow/1", "definition": {"steps": [[None]]}},
            "export.definition",
            "The steps must be a list of objects.",
        ),
        (
            {"format": "xconnector.flow/1", "definition": {}, "name": 7},
            "export.name",
            "Not a valid string.",
        ),
    ],
)
def test_an_import_that_is_not_an_export_is_refused(api, given, field, problem):
    answer = api["admin"].post(
        "/api/v1/flows/import/", {"export": given}, format="json"
    )

    body = assert_error(answer, 400, "invalid")
    assert body["fields"] == {field: [problem]}
    assert not Flow.objects.exists()


@pytest.mark.parametrize("role", NOT_ADMINS)
def test_only_the_admin_imports(role, api, flow):
    exported = api[role].get(url(flow, "export/")).json()

    answer = api[role].post(
        "/api/v1/flows/import/", {"export": exported, "name": "Mine"}, format="json"
    )

    assert_error(answer, 403, "permission_denied")
    assert Flow.objects.count() == 1


# --- Templates ------------------------------------------------------------------------


def test_the_admin_sees_each_template_with_the_connections_it_needs(api):
    listed = api["admin"].get("/api/v1/templates/")
    one = api["admin"].get("/api/v1/templates/capture-to-ecm/")

    assert listed.status_code == 200, listed.content
    assert [t["key"] for t in listed.json()] == [
        t.key for t in flow_templates.all_templates()
    ]
    body = one.json()
    assert (body["title"], body["group"]) == (
        "Operational documents to governed records",
        "Capture and archive",
    )
    assert [
        (s["key"], s["connector"], s["connector_label"]) for s in body["slots"]
    ] == [
        ("events", "webhook", "Webhook (inbound)"),
        ("source", "http", "REST API"),
        ("ecm", "otcs", "OpenText Content Server"),
    ]
    assert body["steps"][0] == {
        "kind": "trigger",
        "label": "When a webhook arrives",
        "system": "Webhook (inbound)",
    }
    assert body["sample"]["body"]["number"] == "INV-1001"


@pytest.mark.parametrize("role", NOT_ADMINS)
def test_the_template_gallery_is_for_the_admin_as_in_the_browser(role, api, conns):
    client = api[role]

    assert_error(client.get("/api/v1/templates/"), 403, "permission_denied")
    assert_error(
        client.get("/api/v1/templates/capture-to-ecm/"), 403, "permission_denied"
    )
    made = client.post(
        "/api/v1/templates/capture-to-ecm/instantiate/",
        {"connections": {"events": conns.hook.pk}},
        format="json",
    )
    assert_error(made, 403, "permission_denied")
    assert not Flow.objects.exists()


def test_an_unknown_template_is_not_found(api):
    answer = api["admin"].get("/api/v1/templates/coffee-machine/")

    body = assert_error(answer, 404, "not_found")
    assert body["message"] == "There is no template “coffee-machine”."


def test_a_flow_made_from_a_template_is_then_published_again(api, conns):
    made = api["admin"].post(
        "/api/v1/templates/capture-to-ecm/instantiate/",
        {
            "name": "Invoices to records",
            "connections": {
                "events": conns.hook.pk,
                "source": conns.orders.pk,
                "ecm": conns.otcs.pk,
            },
        },
        format="json",
    )
    assert made.status_code == 201, made.content
    created = made.json()
    assert (created["name"], created["template"], created["status"]) == (
        "Invoices to records",
        "capture-to-ecm",
        "active",
    )
    assert [s["key"] for s in created["definition"]["steps"]] == CAPTURE_STEPS
    assert created["business_key"] == 'trigger.body.type & ":" & trigger.body.number'
    flow = Flow.objects.get(pk=created["id"])
    changed = copy.deepcopy(created["definition"])
    changed["steps"][0]["name"] = "Fetch the invoice"

    published = api["admin"].post(
        url(flow, "publish/"),
        {"definition": changed, "note": "Clearer name"},
        format="json",
    )
    diff = api["admin"].get(url(flow, "versions/2/diff/"))

    assert published.status_code == 201, published.content
    assert published.json()["number"] == 2
    assert diff.json()["changes"] == [
        "Step “Fetch the document” was renamed “Fetch the invoice”."
    ]
    flow.refresh_from_db()
    assert (flow.published_version.number, flow.status) == (2, "active")
    assert_no_secret(made)


@pytest.mark.parametrize(
    ("connections", "field", "problem"),
    [
        (
            {"events": "hook", "source": "orders", "ecm": "orders"},
            "connections.ecm",
            "“Orders API” is not a OpenText Content Server connection.",
        ),
        (
            {"events": "hook", "source": "orders"},
            "connections.ecm",
            "Choose the Content Server connection.",
        ),
        (
            {"events": "hook", "source": "orders", "ecm": 987654},
            "connections.ecm",
            "There is no connection 987654.",
        ),
        (
            {"events": "hook", "source": "orders", "ecm": "otcs", "crm": "otcs"},
            "connections.crm",
            "The template has no slot “crm”: it needs ecm, events, source.",
        ),
        (
            {"events": "hook", "source": "orders", "ecm": "12"},
            "connections.ecm",
            "A valid integer is required.",
        ),
    ],
)
def test_a_template_refuses_connections_of_the_wrong_kind_in_words(
    api, conns, connections, field, problem
):
    ids = {
        slot: getattr(conns, value).pk if value in ("hook", "orders", "otcs") else value
        for slot, value in connections.items()
    }

    answer = api["admin"].post(
        "/api/v1/templates/capture-to-ecm/instantiate/",
        {"connections": ids},
        format="json",
    )

    body = assert_error(answer, 400, "invalid")
    assert body["fields"] == {field: [problem]}
    assert not Flow.objects.exists()


def test_a_template_flow_needs_a_name_no_other_flow_has(api, conns, flow):
    answer = api["admin"].post(
        "/api/v1/templates/capture-to-ecm/instantiate/",
        {
            "name": "File account contracts",
            "connections": {
                "events": conns.hook.pk,
                "source": conns.orders.pk,
                "ecm": conns.otcs.pk,
            },
            "activate": False,
        },
        format="json",
    )

    body = assert_error(answer, 400, "invalid")
    assert body["fields"] == {"name": ["Choose another name."]}
    assert Flow.objects.count() == 1


# --- Secrets --------------------------------------------------------------------------


def test_no_flow_answer_ever_holds_a_connection_secret(api, flow, conns):
    admin = api["admin"]
    services.publish_version(
        flow,
        renamed_and_remapped(flow.published_version.definition),
        admin.user,
        note="Clearer name",
    )
    answers = [
        admin.get("/api/v1/flows/"),
        admin.get(url(flow)),
        admin.get(url(flow, "versions/")),
        admin.get(url(flow, "versions/1/")),
        admin.get(url(flow, "versions/2/diff/?against=1")),
        admin.get(url(flow, "export/")),
        admin.get("/api/v1/templates/"),
        admin.post(url(flow, "activate/")),
        admin.post(url(flow, "versions/1/restore/")),
    ]

    for answer in answers:
        assert answer.status_code in (200, 201), answer.content
        assert_no_secret(answer)
    # the secrets are there to leak: stored, and used by these connections
    assert json.dumps(flow.published_version.definition).count(str(conns.hook.pk)) >= 1
    assert conns.hook.secrets_set_at.keys() == {"secret"}
