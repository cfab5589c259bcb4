"""Configuration comes from the environment; bad values stop start-up clearly."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from xconnector.env import env_bool, env_database, env_int, env_list

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run manage.py in a fresh process with the given variables on top."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("XCONNECTOR_")}
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "ALLOWED_HOSTS"):
        environ.pop(name, None)
    environ.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_env(tmp_path: Path) -> dict[str, str]:
    return {
        "XCONNECTOR_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "xconnector.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "XCONNECTOR_AUDIT_SIGNING_KEY": secrets.token_urlsafe(32),
        "XCONNECTOR_FERNET_KEYS": base64.urlsafe_b64encode(
            secrets.token_bytes(32)
        ).decode(),
        "XCONNECTOR_VAR_DIR": str(tmp_path / "var"),
    }


@pytest.mark.parametrize(
    ("preload", "silenced"),
    [("", "1 silenced"), ("true", "0 silenced")],
    ids=["hsts-preload-off-by-default", "hsts-preload-on"],
)
def test_production_settings_pass_the_deployment_checklist(tmp_path, preload, silenced):
    env = production_env(tmp_path) | {"SECURE_HSTS_PRELOAD": preload}

    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)

    assert result.returncode == 0, result.stderr
    # The only check ever muted is the preload reminder, and only when off.
    assert result.stdout.strip() == f"System check identified no issues ({silenced})."


def test_production_without_secret_key_stops_with_one_sentence(tmp_path):
    env = production_env(tmp_path)
    env["SECRET_KEY"] = ""

    result = manage("check", **env)

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "xConnector cannot start: "
        "SECRET_KEY must be set when XCONNECTOR_ENV=production."
    )


def test_production_without_a_broker_stops_with_one_sentence(tmp_path):
    env = production_env(tmp_path)
    del env["CELERY_BROKER_URL"]

    result = manage("check", **env)

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "xConnector cannot start: "
        "CELERY_BROKER_URL must be set when XCONNECTOR_ENV=production."
    )


def test_production_without_fernet_keys_stops_with_one_sentence(tmp_path):
    env = production_env(tmp_path)
    del env["XCONNECTOR_FERNET_KEYS"]

    result = manage("check", **env)

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "xConnector cannot start: "
        "XCONNECTOR_FERNET_KEYS must be set when XCONNECTOR_ENV=production."
    )


def test_debug_is_refused_in_production(tmp_path):
    result = manage("check", XCONNECTOR_DEBUG="true", **production_env(tmp_path))

    assert result.returncode == 2
    assert "XCONNECTOR_DEBUG must be off when XCONNECTOR_ENV=production" in (
        result.stderr
    )


def test_unparsable_database_url_stops_with_one_sentence_naming_it(tmp_path):
    result = manage(
        "check", DATABASE_URL="mysql//oops", XCONNECTOR_VAR_DIR=str(tmp_path)
    )

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "xConnector cannot start: DATABASE_URL is not a database URL xConnector "
        "understands: expected postgres://user:password@host:5432/name or "
        "sqlite:///path/to/file."
    )


def test_bad_number_names_the_variable():
    with pytest.raises(ImproperlyConfigured) as error:
        env_int(
            "CELERY_TASK_TIME_LIMIT", 3600, environ={"CELERY_TASK_TIME_LIMIT": "1h"}
        )

    assert (
        str(error.value) == "CELERY_TASK_TIME_LIMIT must be a whole number, not '1h'."
    )


def test_number_below_minimum_is_refused():
    with pytest.raises(ImproperlyConfigured) as error:
        env_int("AXES_FAILURE_LIMIT", 5, minimum=1, environ={"AXES_FAILURE_LIMIT": "0"})

    assert str(error.value) == "AXES_FAILURE_LIMIT must be at least 1, not 0."


def test_booleans_accept_the_usual_words_and_refuse_others():
    assert env_bool("X", environ={"X": "Yes"}) is True
    assert env_bool("X", environ={"X": "off"}) is False
    assert env_bool("X", default=True, environ={}) is True
    with pytest.raises(ImproperlyConfigured, match=r"^X must be true or false"):
        env_bool("X", environ={"X": "maybe"})


def test_lists_are_comma_separated_and_trimmed():
    assert env_list("HOSTS", environ={"HOSTS": " a.example, b.example ,,"}) == [
        "a.example",
        "b.example",
    ]


def test_postgres_url_becomes_django_database_settings():
    config = env_database(
        "DATABASE_URL",
        "",
        environ={"DATABASE_URL": "postgres://app:s3cret@db.internal:6432/xconnector"},
    )

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"], config["USER"]) == (
        "db.internal",
        6432,
        "xconnector",
        "app",
    )


def test_database_url_without_a_name_is_refused():
    with pytest.raises(ImproperlyConfigured) as error:
        env_database(
            "DATABASE_URL", "", environ={"DATABASE_URL": "postgres://db:5432/"}
        )

    assert str(error.value) == "DATABASE_URL must name the database after the last '/'."
