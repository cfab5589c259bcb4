"""python-odata, an OData v4 client nobody here wrote, against the emulator."""

from __future__ import annotations

import pytest
import requests
from odata import ODataService

pytestmark = [
    pytest.mark.urls("tests.connectors.dynamics.sandbox_urls"),
    pytest.mark.django_db(transaction=True),
]


def test_python_odata_reads_metadata_and_pages_through_a_filtered_query(api, web):
    # given five accounts in Seattle besides the demo ones, and pages of two
    for number in range(5):
        web.post(
            f"{api}accounts",
            json={"name": f"Seattle {number}", "address1_city": "Seattle"},
            timeout=10,
        ).raise_for_status()
    session = requests.Session()
    session.headers.update(web.headers)
    session.headers["Prefer"] = "odata.maxpagesize=2"
    seen: list[str] = []
    session.hooks["response"].append(lambda r, **_: seen.append(r.url))

    # when
    service = ODataService(
        api, reflect_entities=True, session=session, quiet_progress=True
    )
    Account = service.entities["accounts"]
    query = service.query(Account).filter(Account.address1_city == "Seattle")
    names = sorted(account.name for account in query)

    # then
    assert names == [
        "Contoso Ltd",
        "Seattle 0",
        "Seattle 1",
        "Seattle 2",
        "Seattle 3",
        "Seattle 4",
    ]
    pages = [url for url in seen if "/accounts" in url]
    assert len(pages) == 3
    assert "$skiptoken" in requests.utils.unquote(pages[2])
