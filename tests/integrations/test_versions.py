"""Flow versions: what changed between two, in words; using an old one
again; a flow exported to JSON (no secret, connections by name) and
imported into an installation with connections of the same names."""

from __future__ import annotations

import copy
import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from connectors.models import Connection
from integrations import flow_templates, services, versions
from integrations.models import Flow
from tests.factories import UserFactory
from tests.integrations.flows import HOOK_SECRET
from xconnector import roles


def capture_flow(systems, user) -> Flow:
    return flow_templates.instantiate(
        "capture-to-ecm",
        {"events": systems.hook, "source": systems.orders, "ecm": systems.otcs},
        user,
    )


def test_the_changes_between_two_versions_are_said_in_words(systems, admin_user):
    flow = capture_flow(systems, admin_user)
    before = flow.published_version.definition
    after = copy.deepcopy(before)
    steps = after["steps"]
    steps[0]["name"] = "Fetch the invoice"
    steps[1]["mapping"][0]["expression"] = "3000"
    steps[1]["mapping"].append(
        {"target": "description", "expression": '"From billing"'}
    )
    steps[1]["mapping"] = [
        r for r in steps[1]["mapping"] if r["target"] != "source_key"
    ]
    steps[0]["connection"] = systems.otcs.pk  # a wrong connection, to be seen
    del steps[4]  # no more legal holds
    note = {"name": "seen", "expression": "true"}
    steps.insert(
        2, {"key": "note", "type": "set", "name": "Note it", "variables": [note]}
    )
    after["tables"]["folders"]["order"] = "Sales/Orders"
    after["business_key"] = "trigger.body.number"

    said = versions.changes(before, after, versions.connection_names(before, after))

    assert said == [
        "The business object is now “trigger.body.number” (was "
        '“trigger.body.type & ":" & trigger.body.number”).',
        "The lookup table “folders”: 1 added.",
        "Step “Note it” was added, after “File it with its metadata”.",
        "Step “Put it on legal hold” was removed.",
        "Step “Fetch the document” was renamed “Fetch the invoice”.",
        "Step “Fetch the invoice” now uses “Content Server” (was “Orders API”).",
        "Step “File it with its metadata”: “parent_id” is now mapped from “3000” "
        "(was “2000”).",
        "Step “File it with its metadata”: “description” is now mapped from "
        '“"From billing"”.',
        "Step “File it with its metadata”: “source_key” is no longer mapped.",
    ]


def test_an_old_version_is_used_again_as_a_new_version(
    systems, admin_user, admin_client
):
    flow = capture_flow(systems, admin_user)
    first = flow.published_version
    changed = copy.deepcopy(first.definition)
    changed["steps"][0]["name"] = "Fetch the invoice"
    services.publish_version(flow, changed, admin_user, note="Clearer name")

    compare = admin_client.get(f"/flows/{flow.pk}/versions/").content.decode()
    answer = admin_client.post(f"/flows/{flow.pk}/versions/1/restore/", follow=True)

    assert "Step “Fetch the document” was renamed “Fetch the invoice”." in compare
    flow.refresh_from_db()
    restored = flow.published_version
    assert (restored.number, restored.note) == (3, "Restored version 1")
    assert restored.definition == first.definition
    assert "Version 1 is back in use, as version 3." in answer.content.decode()
    reviewer = Client()
    reviewer.force_login(UserFactory(username="rita", role=roles.REVIEWER))
    assert reviewer.post(f"/flows/{flow.pk}/versions/1/restore/").status_code == 403


def test_a_flow_is_exported_without_secrets_and_imported_by_connection_names(
    systems, admin_user, admin_client
):
    flow = capture_flow(systems, admin_user)

    download = admin_client.get(f"/flows/{flow.pk}/export/")

    assert download.status_code == 200
    assert download["Content-Disposition"] == (
        'attachment; filename="operational-documents-to-governed-records-v1.json"'
    )
    text = download.content.decode()
    assert HOOK_SECRET not in text and "sandbox-token" not in text
    exported = json.loads(text)
    assert exported["format"] == "xconnector.flow/1"
    assert exported["definition"]["trigger"]["connection"] == {
        "name": "Dynamics events",
        "connector": "webhook",
    }
    assert exported["definition"]["steps"][1]["connection"] == {
        "name": "Content Server",
        "connector": "otcs",
    }

    def upload(data: dict, name: str) -> object:
        file = SimpleUploadedFile(
            "flow.json", json.dumps(data).encode(), "application/json"
        )
        return admin_client.post("/flows/import/", {"file": file, "name": name})

    made = upload(exported, "Billing documents (copy)")
    copied = Flow.objects.get(name="Billing documents (copy)")
    assert made.status_code == 302 and made["Location"] == f"/flows/{copied.pk}/"
    assert copied.status == "draft"
    assert copied.published_version.definition == flow.published_version.definition
    assert copied.published_version.note == (
        "Imported (version 1 of “Operational documents to governed records”)"
    )

    # an installation without a connection of that name says which one
    Connection.objects.filter(pk=systems.orders.pk).update(name="Billing API")
    refused = upload(exported, "Another copy")
    assert refused.status_code == 400
    assert (
        "Step “Fetch the document” needs a http connection called “Orders API”: "
        "create it (or rename yours), then import again."
    ) in refused.content.decode()
    assert not Flow.objects.filter(name="Another copy").exists()
    not_a_flow = upload({"hello": "world"}, "")
    assert "This is not a flow exported from xConnector" in not_a_flow.content.decode()
    reviewer = Client()
    reviewer.force_login(UserFactory(username="rita", role=roles.REVIEWER))
    assert reviewer.get("/flows/import/").status_code == 403
