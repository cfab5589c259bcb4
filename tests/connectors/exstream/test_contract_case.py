"""The connection the shared contract test makes works, and the schemas hold."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from connectors.exstream.connector import ExstreamConnector
from tests.connectors.exstream.contract import exstream_case

pytestmark = [
    pytest.mark.urls("tests.connectors.exstream.urls"),
    pytest.mark.django_db(transaction=True),
]


def test_the_contract_case_passes_the_check(live_server, sandbox_url):
    # given
    settings, secrets = exstream_case(live_server=live_server)
    config = ExstreamConnector.Config.from_parts(settings, secrets)

    # when
    result = ExstreamConnector(config).check()

    # then
    assert result.message == (
        "Signed in to OTDS as xconnector; Exstream 25.2.0 reachable at localhost"
    )
    assert config.public_settings()["client_id"] == "xconnector"
    assert "client_secret" not in config.public_settings()


def test_every_schema_is_valid_json_schema():
    # given
    description = ExstreamConnector.describe()

    # when
    specs = [*description["actions"].values(), *description["triggers"].values()]
    schemas = [description["config_schema"]]
    schemas += [schema for spec in specs for schema in (spec["input"], spec["output"])]

    # then
    for schema in schemas:
        Draft202012Validator.check_schema(schema)
    assert description["secret_fields"] == ["client_secret", "webhook_secret"]
    assert sorted(description["actions"]) == [
        "fetch_outputs",
        "generate",
        "list_communications",
        "set_state",
        "submit_batch",
        "update_content_block",
    ]
    assert description["triggers"]["receive"]["kind"] == "webhook"
    assert (description["key"], description["category"], description["label"]) == (
        "exstream",
        "output",
        "Exstream",
    )
