"""Drive the Content Server emulator with OpenText's own client, pyxecm.

Run by tests/interop/test_pyxecm.py with the interpreter of ``.venv-interop``
(pyxecm is not a dependency of the project)::

    .venv-interop/bin/python tests/interop/pyxecm_session.py http://127.0.0.1:8000

It uses pyxecm's ``OTCS`` class as its users do; the only adaptation is
``base_path="/sandbox/otcs"``, the constructor parameter that replaces
Content Server's ``/cs/cs`` (pyxecm appends ``/api``), so the REST base is
``<server>/sandbox/otcs/api``. The steps cover sign-in, browsing, folders,
uploads with category values, versions and downloads, then business
workspaces (types, create from a template, find by business object),
records-management classification and holds. Each step prints one JSON line,
``{"step": ..., "value": ...}`` (or ``"error"`` when pyxecm raised); the
test asserts each value. ``--steps a,b`` runs only the named steps (and the
ones they need).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from pyxecm import OTCS

ENTERPRISE_WORKSPACE = 2000
FOLDER_TYPE = 0
FOLDER = "pyxecm interop"
DOCUMENT = "invoice-17.txt"
FIRST = b"first version, uploaded by pyxecm\n"
SECOND = b"second version, added by pyxecm\n"
CATEGORY_DATA = {
    "9830": {
        "9830_1": {},
        "9830_2": "INV-17",
        "9830_3": 1250,
        "9830_4": ["urgent", "paper"],
    }
}
# Seeded by the emulator: workspace type "Customer" with its template, bound
# to business objects D365/account; RM classification "Customer accounts".
WORKSPACE_TYPE = 16
WORKSPACE_TEMPLATE = 2101
WORKSPACE = "Contoso Ltd"
SYSTEM = "D365"
BO_TYPE = "account"
BO_ID = "ACC-0017"
RM_CLASSIFICATION = 2202
HOLD = "pyxecm audit hold"


class Session:
    """The steps, in order; each one returns a JSON-able value."""

    def __init__(self, base_url: str) -> None:
        address = urlsplit(base_url)
        self.otcs = OTCS(
            protocol=address.scheme,
            hostname=address.hostname or "127.0.0.1",
            port=address.port or (443 if address.scheme == "https" else 80),
            public_url=base_url.rstrip("/"),
            username="admin",
            password="sandbox-admin",
            base_path="/sandbox/otcs",
        )
        self.folder_id = 0
        self.document_id = 0
        self.workspace_id = 0
        self.hold_id = 0

    # -- the steps --

    def rest_url(self) -> str:
        """Where pyxecm sends REST calls (from its configuration)."""
        return str(self.otcs.config()["restUrl"])

    def authenticate(self) -> dict[str, Any]:
        """Sign in with user name and password: a ticket cookie."""
        cookie = self.otcs.authenticate()
        ticket = (cookie or {}).get("otcsticket", "")
        return {"has_ticket": bool(ticket)}

    def enterprise_workspace(self) -> dict[str, Any]:
        """``get_node(2000)``: the Enterprise Workspace."""
        node = self.otcs.get_node(ENTERPRISE_WORKSPACE)
        return {
            "id": self.otcs.get_result_value(node, "id"),
            "name": self.otcs.get_result_value(node, "name"),
            "type": self.otcs.get_result_value(node, "type"),
        }

    def create_folder(self) -> dict[str, Any]:
        """``create_item`` of a folder below the Enterprise Workspace."""
        created = self.otcs.create_item(
            parent_id=ENTERPRISE_WORKSPACE,
            item_type=FOLDER_TYPE,
            item_name=FOLDER,
            item_description="made by pyxecm",
        )
        self.folder_id = int(self.otcs.get_result_value(created, "id") or 0)
        return {
            "id": self.folder_id,
            "name": self.otcs.get_result_value(created, "name"),
            "type": self.otcs.get_result_value(created, "type"),
        }

    def find_folder(self) -> dict[str, Any]:
        """``get_node_by_parent_and_name``: the folder again, by name."""
        found = self.otcs.get_node_by_parent_and_name(ENTERPRISE_WORKSPACE, FOLDER)
        return {"same_id": self.otcs.get_result_value(found, "id") == self.folder_id}

    def upload(self) -> dict[str, Any]:
        """``upload_file_to_parent`` with Invoice category values."""
        created = self.otcs.upload_file_to_parent(
            parent_id=self.folder_id,
            file_name=DOCUMENT,
            mime_type="text/plain",
            file_content=FIRST,
            category_data=CATEGORY_DATA,
            description="uploaded by pyxecm",
        )
        self.document_id = int(self.otcs.get_result_value(created, "id") or 0)
        return {
            "created": self.document_id > 0,
            "name": self.otcs.get_result_value(created, "name"),
            "type": self.otcs.get_result_value(created, "type"),
            "size": self.otcs.get_result_value(created, "size"),
        }

    def list_folder(self) -> dict[str, Any]:
        """``get_subnodes`` of the folder (pyxecm's default ``where_type=-2``)."""
        children = self.otcs.get_subnodes(self.folder_id)
        names = self.otcs.get_result_values(children, "name") or []
        ids = self.otcs.get_result_values(children, "id") or []
        return {"names": names, "has_document": self.document_id in ids}

    def list_documents(self) -> dict[str, Any]:
        """``get_subnodes`` of the folder, documents (type 144) only."""
        children = self.otcs.get_subnodes(self.folder_id, filter_node_types=144)
        names = self.otcs.get_result_values(children, "name") or []
        ids = self.otcs.get_result_values(children, "id") or []
        return {"names": names, "has_document": self.document_id in ids}

    def categories(self) -> dict[str, Any]:
        """``get_node_categories``: the values the upload applied."""
        answer = self.otcs.get_node_categories(self.document_id, metadata=False)
        values: dict[str, Any] = {}
        for item in (answer or {}).get("results", []):
            for key, value in (item.get("data", {}).get("categories") or {}).items():
                if key.startswith("9830_") and not key.endswith("_1"):
                    values[key] = value
        return {"values": values}

    def add_version(self) -> dict[str, Any]:
        """``add_document_version`` from bytes."""
        answer = self.otcs.add_document_version(
            self.document_id,
            file_name=DOCUMENT,
            mime_type="text/plain",
            file_content=SECOND,
            description="second",
        )
        return {"answered": answer is not None}

    def versions(self) -> dict[str, Any]:
        """``get_document_versions``: numbers and sizes."""
        answer = self.otcs.get_document_versions(self.document_id) or []
        items = answer.get("results", []) if isinstance(answer, dict) else answer
        found = [item.get("data", {}).get("versions", item) for item in items]
        return {
            "numbers": [version.get("version_number") for version in found],
            "sizes": [version.get("file_size") for version in found],
        }

    def content_v1(self) -> dict[str, Any]:
        """``get_document_content`` of version 1."""
        data = self.otcs.get_document_content(self.document_id, version_number="1")
        return {"equal": data == FIRST}

    def content_v2(self) -> dict[str, Any]:
        """``get_document_content`` of version 2."""
        data = self.otcs.get_document_content(self.document_id, version_number="2")
        return {"equal": data == SECOND}

    def content_latest(self) -> dict[str, Any]:
        """``get_document_content`` without a version: the latest."""
        data = self.otcs.get_document_content(self.document_id)
        return {"equal": data == SECOND}

    # -- business workspaces, records management, holds --

    def workspace_types(self) -> dict[str, Any]:
        """``get_workspace_types``: ids, names and template ids."""
        answer = self.otcs.get_workspace_types()
        found = []
        for item in (answer or {}).get("results", []):
            props = item.get("data", {}).get("properties", {})
            found.append(
                [
                    props.get("wksp_type_id"),
                    props.get("wksp_type_name"),
                    [template.get("id") for template in props.get("templates", [])],
                ]
            )
        return {"types": found}

    def create_workspace(self) -> dict[str, Any]:
        """``create_workspace`` of type Customer, linked to D365/account."""
        answer = self.otcs.create_workspace(
            workspace_template_id=WORKSPACE_TEMPLATE,
            workspace_name=WORKSPACE,
            workspace_description="made by pyxecm",
            workspace_type=WORKSPACE_TYPE,
            external_system_id=SYSTEM,
            bo_type=BO_TYPE,
            bo_id=BO_ID,
        )
        self.workspace_id = int(self.otcs.get_result_value(answer, "id") or 0)
        return {"created": self.workspace_id > 0}

    def find_workspace(self) -> dict[str, Any]:
        """``get_workspace_by_business_object``: the workspace again."""
        answer = self.otcs.get_workspace_by_business_object(SYSTEM, BO_TYPE, BO_ID)
        return {
            "same_id": self.otcs.get_result_value(answer, "id") == self.workspace_id,
            "name": self.otcs.get_result_value(answer, "name"),
            "type": self.otcs.get_result_value(answer, "type"),
        }

    def workspace_folders(self) -> dict[str, Any]:
        """``get_subnodes``: the folders copied from the template."""
        answer = self.otcs.get_subnodes(self.workspace_id, filter_node_types=0)
        return {"names": self.otcs.get_result_values(answer, "name") or []}

    def duplicate_workspace(self) -> dict[str, Any]:
        """A second workspace for the same business object is refused."""
        answer = self.otcs.create_workspace(
            workspace_template_id=WORKSPACE_TEMPLATE,
            workspace_name=f"{WORKSPACE} again",
            workspace_description="",
            workspace_type=WORKSPACE_TYPE,
            external_system_id=SYSTEM,
            bo_type=BO_TYPE,
            bo_id=BO_ID,
        )
        return {"refused": answer is None}

    def classify(self) -> dict[str, Any]:
        """``assign_rm_classification`` of the workspace."""
        answer = self.otcs.assign_rm_classification(
            self.workspace_id, RM_CLASSIFICATION
        )
        return {"answered": answer is not None}

    def create_hold(self) -> dict[str, Any]:
        """``create_records_management_hold``."""
        answer = self.otcs.create_records_management_hold(
            hold_type="Legal", name=HOLD, comment="made by pyxecm"
        )
        self.hold_id = int((answer or {}).get("holdID") or 0)
        return {"created": self.hold_id > 0}

    def find_hold(self) -> dict[str, Any]:
        """``get_hold_by_name``."""
        answer = self.otcs.get_hold_by_name(HOLD) or {}
        hold = answer.get("results", {}).get("data", {}).get("hold", {})
        return {
            "same_id": hold.get("HoldID") == self.hold_id,
            "type": hold.get("HoldType"),
            "active": hold.get("ActiveHold"),
        }

    def assign_hold(self) -> dict[str, Any]:
        """``assign_hold`` of the workspace."""
        answer = self.otcs.assign_hold(self.workspace_id, self.hold_id)
        return {"answered": answer is not None}


WORKSPACE_STEPS = ["authenticate", "create_workspace"]
STEPS: dict[str, list[str]] = {
    "rest_url": [],
    "authenticate": [],
    "enterprise_workspace": ["authenticate"],
    "create_folder": ["authenticate"],
    "find_folder": ["authenticate", "create_folder"],
    "upload": ["authenticate", "create_folder"],
    "list_folder": ["authenticate", "create_folder", "upload"],
    "list_documents": ["authenticate", "create_folder", "upload"],
    "categories": ["authenticate", "create_folder", "upload"],
    "add_version": ["authenticate", "create_folder", "upload"],
    "versions": ["authenticate", "create_folder", "upload", "add_version"],
    "content_v1": ["authenticate", "create_folder", "upload"],
    "content_v2": ["authenticate", "create_folder", "upload", "add_version"],
    "content_latest": ["authenticate", "create_folder", "upload", "add_version"],
    "workspace_types": ["authenticate"],
    "create_workspace": ["authenticate"],
    "find_workspace": WORKSPACE_STEPS,
    "workspace_folders": WORKSPACE_STEPS,
    "duplicate_workspace": WORKSPACE_STEPS,
    "classify": WORKSPACE_STEPS,
    "create_hold": ["authenticate"],
    "find_hold": ["authenticate", "create_hold"],
    "assign_hold": [*WORKSPACE_STEPS, "create_hold"],
}


def plan(wanted: list[str]) -> list[str]:
    """The wanted steps and what they need, in the order of ``STEPS``."""
    needed = set(wanted)
    for name in wanted:
        needed.update(STEPS[name])
    return [name for name in STEPS if name in needed]


def run(step: Callable[[], Any]) -> dict[str, Any]:
    """One step's value, or the exception pyxecm raised."""
    try:
        return {"value": step()}
    except Exception as error:
        return {"error": f"{type(error).__name__}: {error}"}


def main(argv: list[str] | None = None) -> int:
    """Run the steps against ``base_url`` and print one JSON line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="the server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--steps", default="", help="comma-separated step names")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    wanted = [name for name in args.steps.split(",") if name] or list(STEPS)
    unknown = [name for name in wanted if name not in STEPS]
    if unknown:
        parser.error(f"unknown steps: {', '.join(unknown)}")
    session = Session(args.base_url)
    for name in plan(wanted):
        outcome = run(getattr(session, name))
        print(json.dumps({"step": name, **outcome}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
