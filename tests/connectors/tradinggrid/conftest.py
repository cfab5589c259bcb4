"""The Trading Grid connector, signed in to the emulator of the live server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from connectors.auth import forget_tokens
from connectors.base import ActionContext
from connectors.tradinggrid.connector import TradingGridConnector
from tests.connectors.tradinggrid.contract import tradinggrid_case

SUPPLIER, RETAILER, DISTRIBUTOR = "ZZ:DEMOSUPPLIER", "ZZ:DEMORETAILER", "ZZZ:DEMODIST"
TRIGGER = "new_inbound_documents"

# A purchase order as an ERP would hand it over: bare X12 segments.
ORDER_850 = (
    "ST*850*0001~"
    "BEG*00*SA*PO-1001**20261123~"
    "PO1*1*10*EA*2.50**VP*WIDGET~"
    "PO1*2*4*EA*12.00**VP*GADGET~"
    "SE*5*0001~"
)


@pytest.fixture(autouse=True)
def _fresh_tokens() -> Iterator[None]:
    forget_tokens()  # each test starts without a cached token
    yield
    forget_tokens()


@pytest.fixture
def tg(live_server, settings, tmp_path) -> TradingGridConnector:
    settings.VAR_DIR = tmp_path
    settings.XCONNECTOR_HTTP_ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    values, secrets = tradinggrid_case(live_server)
    config = TradingGridConnector.Config.from_parts(values, secrets)
    return TradingGridConnector(config)


@pytest.fixture
def sandbox(live_server) -> str:
    """The emulator's address, for its sandbox-only controls."""
    return f"{live_server.url}/sandbox/tradinggrid/"


def run(tg: TradingGridConnector, name: str, values: dict, key: str = "k", **kw: Any):
    """One action's output, under idempotency key ``key``."""
    return tg.run_action(name, values, ActionContext(idempotency_key=key, **kw))[0]


def fault(sandbox: str, **values: Any) -> None:
    requests.post(
        f"{sandbox}_sandbox/faults", json=values, timeout=5
    ).raise_for_status()
