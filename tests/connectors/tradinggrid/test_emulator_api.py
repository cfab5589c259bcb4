"""The emulator answers as Trading Grid documents it, for any HTTP client."""

from __future__ import annotations

import pytest
import requests

pytestmark = [
    pytest.mark.urls("tests.connectors.tradinggrid.sandbox_urls"),
    pytest.mark.django_db(transaction=True),
]

KEY, SECRET = "sandbox-consumer", "sandbox-secret"


def token(sandbox: str) -> str:
    response = requests.post(
        f"{sandbox}v1/oauth2/tokens?grant_type=client_credentials",
        auth=(KEY, SECRET),
        timeout=5,
    )
    response.raise_for_status()
    return response.json()["access_token"]


def test_a_token_for_the_consumer_key_and_secret(sandbox):
    response = requests.post(
        f"{sandbox}v1/oauth2/tokens?grant_type=client_credentials",
        auth=(KEY, SECRET),
        timeout=5,
    )

    assert response.status_code == 200
    body = response.json()
    assert sorted(body) == ["access_token", "expires_in", "token_type"]
    assert body["expires_in"] == 36000
    assert body["token_type"] == "Bearer"


def test_a_short_token_lifetime_can_be_configured(sandbox, settings):
    settings.XCONNECTOR_SANDBOX_TRADINGGRID_TOKEN_SECONDS = 0
    value = token(sandbox)

    response = requests.get(
        f"{sandbox}TGCommunityServices/v1/companies/GC00804444LX",
        headers={"Authorization": f"Bearer {value}"},
        timeout=5,
    )

    assert response.status_code == 401
    assert response.json() == {
        "status": 401,
        "message": "The access token is missing, invalid or expired.",
        "error-code": "UNAUTHORIZED",
    }


def test_a_wrong_secret_gets_no_token(sandbox):
    response = requests.post(
        f"{sandbox}v1/oauth2/tokens?grant_type=client_credentials",
        auth=(KEY, "wrong"),
        timeout=5,
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_the_company(sandbox):
    response = requests.get(
        f"{sandbox}TGCommunityServices/v1/companies/GC00804444LX",
        headers={"Authorization": f"Bearer {token(sandbox)}"},
        timeout=5,
    )

    assert response.json() == {
        "companyId": "GC00804444LX",
        "companyName": "Demo Supplier Inc.",
        "ediAddresses": ["ZZ:DEMOSUPPLIER"],
        "city": "Gaithersburg",
        "status": "Active",
    }


def test_lens_accepts_the_documented_query_as_raw_graphql(sandbox):
    # given the query exactly as the Lens documentation writes it
    query = """
    { getTransactions(query:{count:20, offset:0, query:"SYS* AND 850",
      sortby:{field:arrivaltime,type:ASC},
      contentKeyFilters:[{key:"purchase order number",value:"CV*"}],
      fields:{should:[{field:senderaddress,query:"ZZ:DEMORETAILER"}]}})
    { count total offset transactions { transactionid arrivaltime status
      contentkeys(names:["purchase order number"]){key value} } } }
    """

    # when
    response = requests.post(
        f"{sandbox}visibility_transaction_search",
        data=query,
        headers={
            "Authorization": f"Bearer {token(sandbox)}",
            "Content-Type": "application/graphql",
        },
        timeout=5,
    )

    # then
    assert response.status_code == 200
    assert response.json() == {
        "data": {
            "getTransactions": {"count": 0, "total": 0, "offset": 0, "transactions": []}
        }
    }


def test_lens_refuses_an_unknown_field_and_bad_syntax(sandbox):
    headers = {"Authorization": f"Bearer {token(sandbox)}"}
    url = f"{sandbox}visibility_transaction_search"

    unknown = requests.post(
        url,
        json={
            "query": "{ getTransactions(query:{count:1}) { transactions { nope } } }"
        },
        headers=headers,
        timeout=5,
    )
    broken = requests.post(
        url,
        json={"query": "{ getTransactions(query:{count:1} { count } }"},
        headers=headers,
        timeout=5,
    )

    assert unknown.status_code == 400
    assert unknown.json() == {
        "status": 400,
        "message": "Cannot query field nope on Transaction.",
        "error-code": "GRAPHQL_FIELD",
    }
    assert broken.status_code == 400
    assert broken.json()["error-code"] == "GRAPHQL_PARSE"


def test_faults_can_be_queued_and_cleared(sandbox):
    queued = requests.post(
        f"{sandbox}_sandbox/faults", json={"status": 503, "count": 2}, timeout=5
    )
    cleared = requests.delete(f"{sandbox}_sandbox/faults", timeout=5)

    assert queued.json() == {"faults": [{"status": 503, "remaining": 2}]}
    assert cleared.json() == {"faults": []}
