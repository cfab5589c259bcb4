"""No page makes more than 15 database queries, however much data there is,
and none loads anything from outside the server.

The demo is seeded and run against the emulators, each page is read as the
integration admin and as the reviewer, then the demo's runs are repeated
(more runs, tasks, transfers, workspaces' events and audit events) and each
page is read again: the count may not pass 15, nor grow with the data.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from connectors.models import Connection
from integrations import services
from integrations.models import Flow, FlowRun, ReviewTask
from tests.integrations.flows import drain
from workspaces.models import Workspace

LIMIT = 15


def pages() -> list[str]:
    """Every page a person opens, with a real object for the detail pages."""
    run = FlowRun.objects.order_by("pk").first()
    task = ReviewTask.objects.order_by("pk").first()
    workspace = Workspace.objects.order_by("pk").first()
    event = AuditEvent.objects.order_by("-sequence").first()
    designed = Flow.objects.get(template_key="capture-to-ecm").pk
    return [
        "/",
        "/connections/",
        f"/connections/{Connection.objects.order_by('pk').first().pk}/",
        "/connections/new/",
        "/flows/",
        f"/flows/{Flow.objects.order_by('pk').first().pk}/",
        "/flows/templates/",
        "/flows/templates/capture-to-ecm/",
        f"/flows/{designed}/design/",
        f"/flows/{designed}/design/?step=file",
        f"/flows/{designed}/design/?add=file&q=upload",
        f"/flows/{designed}/versions/",
        "/flows/import/",
        "/runs/",
        f"/runs/{run.pk}/",
        "/tasks/",
        f"/tasks/{task.pk}/",
        "/workspaces/",
        f"/workspaces/{workspace.pk}/",
        "/audit/",
        f"/audit/events/{event.sequence}/",
        "/audit/timeline/",
        "/account/tokens/",
        "/api/docs/",
    ]


def counts(client: Client, urls: list[str]) -> dict[str, int]:
    found = {}
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        # 403 or 404: a page or an object this role may not see
        assert response.status_code in (200, 403, 404), (url, response.status_code)
        if response.status_code == 200:
            found[url] = len(queries)
            # nothing is loaded from outside the server
            page = response.content.decode()
            assert 'src="http' not in page and "src='http" not in page, url
            assert 'rel="stylesheet" href="http' not in page, url
    return found


def client_for(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def repeat_the_demo_runs(admin: Any) -> None:
    for run in list(FlowRun.objects.select_related("flow")):
        services.start_run(run.flow, run.payload, admin)
    drain()


@pytest.mark.django_db(transaction=True)
def test_no_page_makes_more_than_15_queries_whatever_the_data(sandbox, woken):
    call_command("seed_demo", base_url=sandbox)
    drain()
    admin = get_user_model().objects.get(username="admin")
    urls = pages()
    small = {
        who: counts(client_for(who), urls) for who in ("admin", "reviewer", "auditor")
    }

    for _ in range(2):
        repeat_the_demo_runs(admin)
    assert FlowRun.objects.count() >= 30
    large = {
        who: counts(client_for(who), urls) for who in ("admin", "reviewer", "auditor")
    }

    too_many = {
        (who, url): n
        for who, found in large.items()
        for url, n in found.items()
        if n > LIMIT
    }
    assert too_many == {}, large
    grew = {
        (who, url): (small[who][url], n)
        for who, found in large.items()
        for url, n in found.items()
        if url in small[who] and n > small[who][url]
    }
    assert grew == {}
    assert len(large["admin"]) == len(urls)  # the admin may open every page
