"""OpenText's own Python client, pyxecm, works against the emulator unchanged.

pyxecm runs in its own interpreter (``.venv-interop``, see conftest.py) as a
subprocess: tests/interop/pyxecm_session.py drives the emulator served by
``live_server`` and prints one JSON line per step. The only setting it
needs is ``OTCS(..., base_path="/sandbox/otcs")`` (instead of ``/cs/cs``).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.connectors.otcs.test_emulator_nodes import Otcs

SESSION = Path(__file__).with_name("pyxecm_session.py")
FIRST = b"first version, uploaded by pyxecm\n"
SECOND = b"second version, added by pyxecm\n"

pytestmark = pytest.mark.urls("tests.connectors.otcs.sandbox_urls")


@pytest.fixture
def server(live_server: Any, settings: Any, tmp_path: Path) -> str:
    """The live server's address, with blobs in a private folder."""
    settings.VAR_DIR = tmp_path
    return str(live_server.url)


def run_session(python: Path, base_url: str, steps: str = "") -> dict[str, Any]:
    """Run pyxecm_session.py; ``{step: {"value": ...} or {"error": ...}}``."""
    argv = [str(python), str(SESSION), base_url]
    if steps:
        argv += ["--steps", steps]
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcomes: dict[str, Any] = {}
    for line in done.stdout.splitlines():
        record = json.loads(line)
        outcomes[record.pop("step")] = record
    return outcomes


def test_pyxecm_signs_in_browses_uploads_and_versions(
    interop_python: Path, server: str
) -> None:
    # when
    steps = run_session(interop_python, server)

    # then
    folder_id = steps["create_folder"]["value"]["id"]
    assert steps["rest_url"] == {"value": f"{server}/sandbox/otcs/api"}
    assert steps["authenticate"] == {"value": {"has_ticket": True}}
    assert steps["enterprise_workspace"] == {
        "value": {"id": 2000, "name": "Enterprise Workspace", "type": 141}
    }
    assert steps["create_folder"] == {
        "value": {"id": folder_id, "name": "pyxecm interop", "type": 0}
    }
    assert folder_id >= 100000
    assert steps["find_folder"] == {"value": {"same_id": True}}
    assert steps["upload"] == {
        "value": {
            "created": True,
            "name": "invoice-17.txt",
            "type": 144,
            "size": len(FIRST),
        }
    }
    assert steps["list_documents"] == {
        "value": {"names": ["invoice-17.txt"], "has_document": True}
    }
    assert steps["categories"] == {
        "value": {
            "values": {
                "9830_2": "INV-17",
                "9830_3": 1250,
                "9830_4": ["urgent", "paper"],
                "9830_5_1_6": None,
                "9830_5_1_7": None,
            }
        }
    }
    assert steps["add_version"] == {"value": {"answered": True}}
    assert steps["versions"] == {
        "value": {"numbers": [1, 2], "sizes": [len(FIRST), len(SECOND)]}
    }
    assert steps["content_v1"] == {"value": {"equal": True}}
    assert steps["content_v2"] == {"value": {"equal": True}}

    # and the emulator, asked directly, holds what pyxecm made
    otcs = Otcs(f"{server}/sandbox/otcs/api")
    folder = otcs.call("GET", f"v2/nodes/{folder_id}").json()
    assert folder["results"]["data"]["properties"]["description"] == "made by pyxecm"
    children = otcs.call("GET", f"v2/nodes/{folder_id}/nodes").json()["results"]
    assert [item["data"]["properties"]["name"] for item in children] == [
        "invoice-17.txt"
    ]
    document = children[0]["data"]["properties"]
    assert (document["description"], document["size"], document["mime_type"]) == (
        "uploaded by pyxecm",
        len(SECOND),
        "text/plain",
    )
    category = otcs.call("GET", f"v2/nodes/{document['id']}/categories/9830").json()
    values = category["results"]["data"]["categories"]
    assert (values["9830_2"], values["9830_3"], values["9830_4"]) == (
        "INV-17",
        1250,
        ["urgent", "paper"],
    )
    assert otcs.call("GET", f"v2/nodes/{document['id']}/content").content == SECOND
    first = otcs.call("GET", f"v2/nodes/{document['id']}/versions/1/content")
    assert first.content == FIRST


WORKSPACE_STEPS = (
    "workspace_types,create_workspace,find_workspace,workspace_folders,"
    "duplicate_workspace,classify,create_hold,find_hold,assign_hold"
)


def test_pyxecm_creates_a_classified_workspace_under_hold(
    interop_python: Path, server: str
) -> None:
    # when
    steps = run_session(interop_python, server, WORKSPACE_STEPS)

    # then
    assert {name: outcome.get("value") for name, outcome in steps.items()} == {
        "authenticate": {"has_ticket": True},
        "workspace_types": {
            "types": [
                [16, "Customer", [2101]],
                [17, "Sales order", [2104]],
                [18, "Supplier", [2105]],
                [19, "Contract", [2108]],
                [20, "Case", [2111]],
            ]
        },
        "create_workspace": {"created": True},
        "find_workspace": {
            "same_id": True,
            "name": "Contoso Ltd",
            "type": 848,
        },
        "workspace_folders": {"names": ["Contracts", "Correspondence"]},
        "duplicate_workspace": {"refused": True},
        "classify": {"answered": True},
        "create_hold": {"created": True},
        "find_hold": {"same_id": True, "type": "Legal", "active": 1},
        "assign_hold": {"answered": True},
    }

    # and the emulator, asked directly, holds what pyxecm made
    otcs = Otcs(f"{server}/sandbox/otcs/api")
    found = otcs.call("GET", "v2/externalsystems/D365/botypes/account/boids/ACC-0017")
    (workspace,) = found.json()["results"]
    workspace_id = workspace["data"]["properties"]["id"]
    classes = otcs.call("GET", f"v1/nodes/{workspace_id}/rmclassifications").json()
    assert [item["rmclassification_id"] for item in classes["data"]] == [2202]
    holds = otcs.call("GET", f"v1/nodes/{workspace_id}/holds").json()
    assert [(item["hold_name"], item["active"]) for item in holds["data"]] == [
        ("pyxecm audit hold", True)
    ]
    refused = otcs.call("DELETE", f"v2/nodes/{workspace_id}")
    assert refused.status_code == 403
    assert otcs.call("GET", f"v2/nodes/{workspace_id}").status_code == 200


def test_pyxecm_lists_a_folder_with_its_default_filter(
    interop_python: Path, server: str
) -> None:
    # when
    steps = run_session(interop_python, server, "list_folder")

    # then
    assert steps["list_folder"] == {
        "value": {"names": ["invoice-17.txt"], "has_document": True}
    }


def test_pyxecm_downloads_the_latest_version(interop_python: Path, server: str) -> None:
    # when
    steps = run_session(interop_python, server, "content_latest")

    # then
    assert steps["content_latest"] == {"value": {"equal": True}}
