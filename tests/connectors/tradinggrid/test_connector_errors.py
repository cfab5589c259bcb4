"""Test connection, token renewal, throttling and refused credentials."""

from __future__ import annotations

import pytest
import requests

from connectors.errors import AuthError, TransientError
from connectors.tradinggrid.connector import TradingGridConnector
from connectors.tradinggrid.sandbox.models import TgToken
from tests.connectors.tradinggrid.conftest import fault

pytestmark = [
    pytest.mark.urls("tests.connectors.tradinggrid.sandbox_urls"),
    pytest.mark.django_db(transaction=True),
]


def test_check_signs_in_and_reads_the_company(tg):
    assert tg.check().message == (
        "Signed in to Trading Grid as Demo Supplier Inc. (GC00804444LX)."
    )
    assert TgToken.objects.count() == 1


def test_the_token_is_reused_until_it_expires(tg):
    tg.check()
    tg.check()

    assert TgToken.objects.count() == 1


def test_an_expired_token_is_renewed_once_and_the_call_repeated(tg, sandbox):
    # given a token that Trading Grid has since expired
    tg.check()
    requests.post(f"{sandbox}_sandbox/tokens/expire", timeout=5).raise_for_status()

    # when
    result = tg.check()

    # then
    assert result.message.startswith("Signed in to Trading Grid as Demo Supplier")
    assert TgToken.objects.count() == 2


def test_too_many_requests_is_transient_with_the_wait_asked_for(tg, sandbox):
    # given a signed-in connection, then Trading Grid throttles one call
    tg.check()
    fault(sandbox, status=429, count=1, seconds=7)

    # when
    with pytest.raises(TransientError) as raised:
        tg.check()

    # then
    assert raised.value.status == 429
    assert raised.value.retry_after == 7.0
    assert raised.value.message == (
        "Trading Grid received too many requests (HTTP 429). It asked to wait "
        "7 seconds."
    )
    assert tg.check().message.startswith("Signed in")  # the next call works


def test_a_wrong_consumer_secret_is_an_auth_error(live_server, settings, tg):
    # given
    values = tg.config.public_settings()
    config = TradingGridConnector.Config.from_parts(
        values, {"consumer_secret": "wrong"}
    )

    # when
    with pytest.raises(AuthError) as raised:
        TradingGridConnector(config).check()

    # then
    assert raised.value.status == 401
    assert "refused the client id or secret" in raised.value.message


def test_another_companys_id_is_refused(tg):
    values = tg.config.public_settings() | {"company_id": "GC00900001RT"}
    config = TradingGridConnector.Config.from_parts(
        values, {"consumer_secret": "sandbox-secret"}
    )

    with pytest.raises(AuthError) as raised:
        TradingGridConnector(config).check()

    assert raised.value.status == 403
