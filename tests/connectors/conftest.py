"""Fixtures for the connector tests."""

from __future__ import annotations

import pytest

from connectors import registry


@pytest.fixture
def sample_connector(monkeypatch):
    """The framework's stand-in connector, registered for one test."""
    monkeypatch.setitem(
        registry.BUILTINS, "sample", "tests.connectors.sample:SampleConnector"
    )
    registry.reset()
    yield registry.get_connector("sample")
    registry.reset()
