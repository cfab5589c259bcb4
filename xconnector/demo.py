"""Demo users for the embedded mode: one per role, passwords kept under var/.

Demo only: ``make run`` calls ``manage.py seed_demo``; production never does.
Passwords are random per installation (not a well-known default) and stored
in ``var/demo_logins.json`` so that every ``make run`` can print them again.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from xconnector import roles


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    password: str


DEMO_USERS = (
    ("admin", roles.INTEGRATION_ADMIN, "Ada", "Admin"),
    ("reviewer", roles.REVIEWER, "Rita", "Reviewer"),
    ("auditor", roles.COMPLIANCE_AUDITOR, "Carl", "Compliance"),
    ("viewer", roles.VIEWER, "Vera", "Viewer"),
)


def logins_file() -> Path:
    return Path(settings.VAR_DIR) / "demo_logins.json"


@transaction.atomic
def seed_demo_users() -> list[DemoLogin]:
    """Create the demo users once; later calls return the same logins."""
    path = logins_file()
    known: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    user_model = get_user_model()
    logins = []
    for username, role, first, last in DEMO_USERS:
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@demo.xconnector.local",
            },
        )
        password = known.get(username)
        if created or password is None or not user.check_password(password):
            password = f"{username}-{secrets.token_urlsafe(9)}"
            user.set_password(password)
        user.is_staff = role == roles.INTEGRATION_ADMIN
        user.save()
        user.groups.add(Group.objects.get(name=role))
        known[username] = password
        logins.append(DemoLogin(username, role, password))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(known, indent=2))
    path.chmod(0o600)
    return logins
