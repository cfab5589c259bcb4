"""The xConnector API from a program: a flow from a template, a run, its result.

    XCONNECTOR_TOKEN=<token> .venv/bin/python scripts/api_example.py \
        [--url http://127.0.0.1:8000] [--template capture-to-ecm]

Make the token on the "API tokens" page (under your name) or with
``manage.py api_token <user>``. The script uses nothing but HTTP and the
token: it picks, for each connection the template needs, the oldest
connection of that kind, creates and activates the flow, starts a run with
the template's sample data, waits for the run to finish and prints what
each step did and the documents it moved. It exits 1 if the run did not
succeed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import requests

FINAL = {"succeeded", "needs_review", "failed", "cancelled", "replayed"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--template", default="capture-to-ecm")
    parser.add_argument("--timeout", type=float, default=120)
    options = parser.parse_args()
    api = requests.Session()
    api.headers["Authorization"] = f"Token {os.environ['XCONNECTOR_TOKEN']}"
    base = options.url.rstrip("/") + "/api/v1"

    def call(method: str, path: str, **kwargs: object) -> dict:
        answer = api.request(method, base + path, timeout=30, **kwargs)
        if answer.status_code >= 400:  # {"error": code, "message": words}
            sys.exit(
                f"{method} {path}: {answer.status_code} {answer.json()['message']}"
            )
        return answer.json()

    # 1. The template, and a connection of each kind it needs.
    template = call("GET", f"/templates/{options.template}/")
    connections = call("GET", "/connections/", params={"page_size": 200})["results"]
    connections.sort(key=lambda connection: connection["id"])  # oldest first
    chosen = {}
    for slot in template["slots"]:
        match = next(c for c in connections if c["connector"] == slot["connector"])
        chosen[slot["key"]] = match["id"]
        print(f"{slot['label']}: {match['name']}")

    # 2. A flow from the template (published and switched on).
    name = f"{template['title']} (API {time.strftime('%H:%M:%S')})"
    flow = call(
        "POST",
        f"/templates/{options.template}/instantiate/",
        json={"name": name, "connections": chosen},
    )
    print(f"Flow {flow['id']} “{flow['name']}”: {flow['status']}")

    # 3. A run with the template's sample data; the workers take it from here.
    run = call(
        "POST", "/runs/", json={"flow": flow["id"], "payload": template["sample"]}
    )
    print(f"Run {run['id']} {run['status']}", end="", flush=True)
    deadline = time.monotonic() + options.timeout
    while run["status"] not in FINAL and time.monotonic() < deadline:
        time.sleep(1)
        run = call("GET", f"/runs/{run['id']}/")
        print(".", end="", flush=True)
    print(f" {run['status']}")

    # 4. What it did.
    for step in run["steps"]:
        print(f"  {step['key']}: {step['status']} {step.get('error') or ''}".rstrip())
    for transfer in run.get("transfers", []):
        print(f"  filed {transfer['target_ref']} sha256={transfer['sha256']}")
    return 0 if run["status"] == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
