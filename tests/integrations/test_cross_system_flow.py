"""A flow across four systems, each one's emulator over real HTTP.

An account created in Dynamics 365 reaches the flow through a Dataverse
webhook (registered as Dataverse admins do); Exstream renders the welcome
letter; the letter is filed into the account's business workspace in
Content Server; Dynamics gets a document location pointing at it.
"""

from __future__ import annotations

import io

import pytest
import requests
from pypdf import PdfReader

from audit.services import Actor
from connectors import services as connection_services
from connectors.base import ActionContext
from connectors.exstream.emulator.state import WELCOME_LETTER
from connectors.sandbox.models import OtcsNode
from integrations import services
from integrations.models import FlowRun, RunStatus
from tests.connectors.dynamics.conftest import register_webhook, sandbox_token
from tests.connectors.dynamics.contract import dynamics_case
from tests.connectors.exstream.contract import exstream_case
from tests.integrations.flows import drain, rule, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


class Live:
    """What the contract cases expect of the live server: its URL."""

    def __init__(self, url: str) -> None:
        self.url = url


def connect(user, key: str, name: str, case: tuple[dict, dict]):
    settings, secrets = case
    return connection_services.create_connection(
        Actor.user(user),
        connector_key=key,
        name=name,
        settings=settings,
        secrets=secrets,
    )


def test_a_new_dynamics_account_gets_its_welcome_letter_filed_and_linked(
    systems, admin_user, woken
):
    # given: connections to Dynamics (with the webhook key) and Exstream
    live = Live(systems.url)
    dynamics_settings, dynamics_secrets = dynamics_case(live)
    dynamics = connect(
        admin_user,
        "dynamics",
        "Dynamics 365",
        (dynamics_settings, {**dynamics_secrets, "webhook_key": "hook-key"}),
    )
    exstream = connect(admin_user, "exstream", "Exstream", exstream_case(live))
    account = "trigger.attributes"
    flow = services.create_flow(
        "Welcome new customers",
        {
            "trigger": {"type": "webhook", "connection": dynamics.pk},
            "steps": [
                {
                    "key": "letter",
                    "type": "action",
                    "connection": exstream.pk,
                    "action": "generate",
                    "mapping": [
                        rule("communication_id", f'"{WELCOME_LETTER}"'),
                        rule("data.customerNumber", f"{account}.accountnumber"),
                        rule("data.customerName", f"{account}.name"),
                        rule(
                            "file_name",
                            f'"Welcome " & {account}.accountnumber & ".pdf"',
                        ),
                    ],
                },
                {
                    "key": "workspace",
                    "type": "action",
                    "connection": systems.otcs.pk,
                    "action": "find_or_create_workspace",
                    "mapping": [
                        rule("ext_system_id", '"D365"'),
                        rule("bo_type", "trigger.entity"),
                        rule("bo_id", "trigger.id"),
                        rule("name", f"{account}.name"),
                        rule("workspace_type", "16"),
                        rule("parent_id", "2000"),
                    ],
                },
                {
                    "key": "file",
                    "type": "action",
                    "connection": systems.otcs.pk,
                    "action": "upload_document",
                    "document": "letter",
                    "mapping": [
                        rule("parent_id", "steps.workspace.workspace_id"),
                        rule("folder_path", '"Correspondence"'),
                    ],
                    "transfer": {
                        "source_system": '"Exstream"',
                        "source_id": 'trigger.id & "/welcome"',
                    },
                },
                {
                    "key": "link",
                    "type": "action",
                    "connection": dynamics.pk,
                    "action": "link_document",
                    "mapping": [
                        rule("regarding_entity_set", '"accounts"'),
                        rule("regarding_id", "trigger.id"),
                        rule("name", "steps.file.name"),
                        rule(
                            "absolute_url",
                            '"https://ecm.example.com/otcs/cs.exe/app/nodes/" '
                            "& $string(steps.file.node_id)",
                        ),
                    ],
                },
            ],
        },
        admin_user,
        activate=True,
    )
    sandbox = f"{systems.url}/sandbox/dynamics/"
    api = f"{sandbox}api/data/v9.2/"
    web = requests.Session()
    web.headers.update(
        {
            "Authorization": f"Bearer {sandbox_token(sandbox)}",
            "Accept": "application/json",
        }
    )
    register_webhook(web, api, f"{systems.url}/hooks/flows/{flow.hook_token}/")

    # when: someone creates an account in Dynamics 365
    created = web.post(
        f"{api}accounts",
        json={"name": "Northwind Traders", "accountnumber": "NW-7"},
        headers={"Prefer": "return=representation"},
        timeout=10,
    )
    account_id = created.json()["accountid"]
    wait_for(lambda: FlowRun.objects.exists(), timeout=30)
    drain()

    # then: the run succeeded; the letter is in the workspace, linked in Dynamics
    run = FlowRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.payload["id"] == account_id
    letter = OtcsNode.objects.get(name="Welcome NW-7.pdf")
    assert letter.parent.name == "Correspondence"
    assert letter.parent.parent.name == "Northwind Traders"
    locations = web.get(
        f"{api}sharepointdocumentlocations",
        params={"$filter": f"_regardingobjectid_value eq {account_id}"},
        timeout=10,
    ).json()["value"]
    assert [(loc["name"], loc["absoluteurl"]) for loc in locations] == [
        (
            "Welcome NW-7.pdf",
            f"https://ecm.example.com/otcs/cs.exe/app/nodes/{letter.pk}",
        )
    ]
    _, documents = systems.otcs.connector().run_action(
        "download", {"node_id": letter.pk}, ActionContext()
    )
    pdf = PdfReader(io.BytesIO(documents[0].read()))
    text = "".join(page.extract_text() for page in pdf.pages)
    assert "Northwind Traders" in text
    assert "NW-7" in text
