"""The connection pages: catalog, generated form, secrets, test button, delete."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.services import Actor
from connectors import services
from connectors.models import Connection
from tests.factories import UserFactory
from xconnector import roles

pytestmark = pytest.mark.django_db
FORM = {
    "connector": "sample",
    "name": "ERP (prod)",
    "description": "Invoices and orders",
    "base_url": "https://erp.example.com",
    "region": "us",
    "tags": "finance\nbilling",
    "api_key": "key-NEVER-SHOWN",
    "auth__type": "basic",
    "auth__username": "svc-xc",
    "auth__password": "pw-NEVER-SHOWN",
}


def test_the_catalog_groups_connectors_and_searches(admin_client, sample_connector):
    page = admin_client.get("/connections/new/").content.decode()
    assert "Any system" in page
    assert 'data-connector="sample"' in page

    found = admin_client.get("/connections/new/?q=stand-in", HTTP_HX_REQUEST="true")
    missing = admin_client.get("/connections/new/?q=mainframe", HTTP_HX_REQUEST="true")
    assert 'data-connector="sample"' in found.content.decode()
    assert "<html" not in found.content.decode()  # only the cards
    assert "No connector matches “mainframe”." in missing.content.decode()


def test_a_connection_is_created_from_the_generated_form(
    admin_client, sample_connector
):
    response = admin_client.post("/connections/new/settings/?connector=sample", FORM)

    connection = Connection.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/connections/{connection.pk}/"
    assert connection.settings == {
        "base_url": "https://erp.example.com",
        "region": "us",
        "tags": ["finance", "billing"],
        "auth": {"type": "basic", "username": "svc-xc"},
    }
    assert connection.secrets() == {
        "api_key": "key-NEVER-SHOWN",
        "auth__password": "pw-NEVER-SHOWN",
    }


def test_choosing_another_sign_in_kind_re_renders_only_its_fields(
    admin_client, sample_connector
):
    none = admin_client.post(
        "/connections/new/settings/?connector=sample",
        {**FORM, "auth__type": "none"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    basic = admin_client.post(
        "/connections/new/settings/?connector=sample",
        {**FORM, "auth__type": "basic"},
        HTTP_HX_REQUEST="true",
    ).content.decode()

    assert 'name="auth__username"' not in none
    assert 'name="auth__username"' in basic
    assert "invalid-feedback" not in basic  # no errors while still filling in
    assert Connection.objects.count() == 0


def test_errors_are_shown_in_place_and_nothing_is_saved(admin_client, sample_connector):
    response = admin_client.post(
        "/connections/new/settings/?connector=sample",
        {**FORM, "auth__password": "", "base_url": ""},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in page
    assert 'value="svc-xc"' in page  # what was typed is kept
    assert Connection.objects.count() == 0


def test_secrets_are_never_rendered_only_when_they_were_set(
    admin_client, sample_connector
):
    admin_client.post("/connections/new/settings/?connector=sample", FORM)
    connection = Connection.objects.get()

    page = admin_client.get(f"/connections/{connection.pk}/").content.decode()

    assert "NEVER-SHOWN" not in page
    assert page.count("data-secret-set") == 2
    assert f"Set on {connection.secrets_set_at['api_key'][:10]}" in page


def test_saving_with_empty_secret_fields_keeps_the_stored_secrets(
    admin_client, sample_connector
):
    admin_client.post("/connections/new/settings/?connector=sample", FORM)
    connection = Connection.objects.get()

    admin_client.post(
        f"/connections/{connection.pk}/",
        {**FORM, "name": "ERP (production)", "api_key": "", "auth__password": ""},
    )

    connection.refresh_from_db()
    assert connection.name == "ERP (production)"
    assert connection.secrets() == {
        "api_key": "key-NEVER-SHOWN",
        "auth__password": "pw-NEVER-SHOWN",
    }


def test_the_test_button_shows_the_result_in_place(admin_client, sample_connector):
    connection = services.create_connection(
        Actor("user", "ada", None),
        connector_key="sample",
        name="ERP",
        settings={"base_url": "https://erp.example.com"},
        secrets={},
    )

    response = admin_client.post(
        f"/connections/{connection.pk}/test/", HTTP_HX_REQUEST="true"
    )

    page = response.content.decode()
    assert 'data-status="healthy"' in page
    assert "Reached https://erp.example.com" in page


def test_a_viewer_sees_connections_but_cannot_change_them(sample_connector):
    services.create_connection(
        Actor("user", "ada", None),
        connector_key="sample",
        name="ERP",
        settings={"base_url": "https://erp.example.com"},
        secrets={},
    )
    viewer = Client()
    viewer.force_login(UserFactory(username="vic", role=roles.VIEWER))

    listing = viewer.get("/connections/").content.decode()
    assert "ERP" in listing
    assert "New connection" not in listing
    assert viewer.get("/connections/new/").status_code == 403
    assert (
        viewer.post("/connections/new/settings/?connector=sample", FORM).status_code
        == 403
    )


def test_deleting_a_connection(admin_client, sample_connector):
    admin_client.post("/connections/new/settings/?connector=sample", FORM)
    connection = Connection.objects.get()

    response = admin_client.post(f"/connections/{connection.pk}/delete/", follow=True)

    assert "“ERP (prod)” was deleted." in response.content.decode()
    assert Connection.objects.count() == 0


def test_the_empty_list_invites_to_add_a_connection(admin_client):
    page = admin_client.get("/connections/").content.decode()

    assert "No connections yet" in page
    assert "Add your first connection" in page


def test_a_new_form_starts_at_the_safe_defaults(admin_client):
    page = admin_client.get(
        "/connections/new/settings/?connector=http"
    ).content.decode()

    assert 'name="verify_tls" id="id_verify_tls" checked' in page
    assert '<option value="none" selected>No authentication</option>' in page
    assert '<option value="bearer">Bearer token</option>' in page
    assert 'name="auth__token"' not in page  # until bearer is chosen


def create_http(admin_client, base_url: str) -> Connection:
    admin_client.post(
        "/connections/new/settings/?connector=http",
        {"name": "Partner API", "base_url": base_url, "auth__type": "none"},
    )
    return Connection.objects.get(name="Partner API")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_invalid_address_is_refused_on_save(admin_client):
    response = admin_client.post(
        "/connections/new/settings/?connector=http",
        {"name": "Partner API", "base_url": "ftp//partner", "auth__type": "none"},
    )

    assert "is not a valid web address" in response.content.decode()
    assert Connection.objects.count() == 0


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        (
            "http://127.0.0.1:{port}/",
            "could not connect to 127.0.0.1:{port}: connection refused",
        ),
        (
            "http://10.255.255.1/",
            "The address 10.255.255.1 is private",
        ),
    ],
    ids=["connection-refused", "private-address"],
)
def test_the_test_button_says_what_went_wrong(admin_client, base_url, message):
    port = free_port()
    connection = create_http(admin_client, base_url.format(port=port))

    page = admin_client.post(
        f"/connections/{connection.pk}/test/", HTTP_HX_REQUEST="true"
    ).content.decode()

    connection.refresh_from_db()
    assert connection.status == "failing"
    assert message.format(port=port) in connection.last_check_message
    assert message.format(port=port) in page
    assert 'data-status="failing"' in page


def test_the_dashboard_counts_connections_and_names_the_failing_ones(
    admin_client, sample_connector
):
    actor = Actor("user", "ada", None)
    for name, password in [("ERP", "right"), ("CRM", "wrong"), ("DMS", None)]:
        connection = services.create_connection(
            actor,
            connector_key="sample",
            name=name,
            settings={
                "base_url": f"https://{name.lower()}.example.com",
                **({"auth": {"type": "basic", "username": "svc"}} if password else {}),
            },
            secrets={"auth__password": password} if password else {},
        )
        if name != "DMS":
            services.check_connection(connection)

    page = admin_client.get("/").content.decode()

    assert '<span class="xc-count-number text-green">1</span> working' in page
    assert '<span class="xc-count-number text-red">1</span> failing' in page
    assert (
        '<span class="xc-count-number text-secondary">1</span> not tested yet' in page
    )
    assert "CRM</a>" in page
    assert "Sample system refused the user name or password." in page


def test_only_the_settings_of_the_chosen_verification_are_shown(admin_client):
    def fields(verification: str) -> list[str]:
        page = admin_client.post(
            "/connections/new/settings/?connector=webhook",
            {"connector": "webhook", "name": "Hooks", "verification": verification},
            HTTP_HX_REQUEST="true",
        ).content.decode()
        return [
            name
            for name in ("header_name", "query_param", "secret", "event_id_source")
            if f'name="{name}"' in page
        ]

    assert fields("none") == ["event_id_source"]
    assert fields("shared_secret_header") == [
        "header_name",
        "secret",
        "event_id_source",
    ]
    assert fields("shared_secret_query") == ["query_param", "secret", "event_id_source"]
    assert fields("standard_webhooks") == ["secret", "event_id_source"]
