"""Connectors come from the built-ins and from installed packages' entry points."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from connectors import registry
from connectors.errors import PermanentError


@pytest.fixture
def installed_packages(tmp_path, monkeypatch):
    """Two installed distributions that declare xconnector.connectors entry
    points: one sound, one whose module is missing."""

    def install(name: str, entry_points: str) -> None:
        info = tmp_path / f"{name}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
        )
        (info / "entry_points.txt").write_text(
            f"[xconnector.connectors]\n{entry_points}\n"
        )

    install("acme_sample", "sample = tests.connectors.sample:SampleConnector")
    install("acme_broken", "acme_erp = acme_erp_missing.connector:AcmeConnector")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.reset()
    yield
    registry.reset()


def test_a_package_adds_a_connector_through_its_entry_point(installed_packages):
    connector = registry.get_connector("sample")

    assert connector.label == "Sample system"
    assert "sample" in registry.connectors()


def test_a_broken_package_is_reported_by_name_and_the_rest_still_load(
    installed_packages,
):
    assert "acme_erp" in registry.broken()
    assert "No module named 'acme_erp_missing'" in registry.broken()["acme_erp"]
    assert "sample" in registry.connectors()

    with pytest.raises(SystemCheckError) as raised:
        call_command("check")
    assert "Connector “acme_erp” could not be loaded" in str(raised.value)


def test_an_unknown_key_says_what_to_do():
    with pytest.raises(PermanentError) as raised:
        registry.get_connector("sap_ariba")

    assert str(raised.value) == (
        "No connector “sap_ariba” is installed here: install its package or "
        "choose another connector."
    )
