"""The OpenAPI schema is valid, warning-free, and documents every answer."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_schema_is_valid_and_every_operation_documents_its_errors(tmp_path):
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    schema = yaml.safe_load(target.read_text())
    operations = [
        (path, method, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]
    assert len(operations) >= 50
    for path, method, operation in operations:
        assert path.startswith("/api/v1/"), path
        codes = set(operation["responses"])
        assert {"400", "401", "403", "404", "429"} <= codes, (method, path)
        error = operation["responses"]["404"]["content"]["application/json"]
        assert error["schema"] == {"$ref": "#/components/schemas/Error"}
    schemes = set(schema["components"]["securitySchemes"])
    assert schemes == {"cookieAuth", "knoxApiToken"}


def test_the_schema_and_the_docs_need_no_sign_in(client):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.content.decode()
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()
