"""``seed_demo`` gives one demo login per role and the same logins every time."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_one_login_per_role_and_repeats_them(
    settings, tmp_path, capsys, woken
):
    settings.VAR_DIR = tmp_path

    call_command("seed_demo")
    first = capsys.readouterr().out
    call_command("seed_demo")
    second = capsys.readouterr().out

    assert first == second
    lines = [line.split() for line in first.splitlines()[1:5]]
    users = {line[-2]: line[-1] for line in lines}
    assert sorted(users) == ["admin", "auditor", "reviewer", "viewer"]
    request = RequestFactory().post("/login/")
    for username, password in users.items():
        user = authenticate(request, username=username, password=password)
        assert user is not None
    assert {
        user.username: sorted(user.groups.values_list("name", flat=True))
        for user in get_user_model().objects.filter(username__in=users)
    } == {
        "admin": ["Integration admin"],
        "auditor": ["Compliance auditor"],
        # the demo reviewer works two queues
        "reviewer": ["Accounts payable", "Reviewer"],
        "viewer": ["Viewer"],
    }
    assert (tmp_path / "demo_logins.json").stat().st_mode & 0o777 == 0o600


def test_seed_demo_refuses_to_run_in_production(settings):
    from django.core.management.base import CommandError

    settings.PRODUCTION = True

    with pytest.raises(
        CommandError, match="never loaded when XCONNECTOR_ENV=production"
    ):
        call_command("seed_demo")


def test_the_demo_connections_work_against_the_emulators(
    settings, tmp_path, live_server, capsys, woken
):
    from connectors import services
    from connectors.models import Connection

    settings.VAR_DIR = tmp_path
    settings.XCONNECTOR_FILES_ROOT = tmp_path / "files"

    call_command("seed_demo", base_url="http://127.0.0.1:9")  # an earlier BIND
    call_command("seed_demo", base_url=live_server.url)

    assert "Demo connections: 10 (Content Server (sandbox), Orders API (sandbox)" in (
        capsys.readouterr().out
    )
    outcomes = {
        connection.name: services.check_connection(connection)
        for connection in Connection.objects.order_by("name")
    }
    assert {name: outcome.ok for name, outcome in outcomes.items()} == {
        "Content Server (sandbox)": True,
        "Dynamics 365 (sandbox)": True,
        "Exstream (sandbox)": True,
        "Notifications (local outbox)": True,
        "Orders API (sandbox)": True,
        "Partner webhooks": True,
        "Print provider (sandbox folder)": True,
        "SMS gateway (sandbox)": True,
        "Scanner drop folder": True,
        "Trading Grid (sandbox)": True,
    }
