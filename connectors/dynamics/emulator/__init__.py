"""An emulated Microsoft Dataverse (Dynamics 365) under /sandbox/dynamics/.

Entra ID's client credentials endpoints and discovery document
(``<tenant>/...``), the Web API (``api/data/v9.2/...``) and the
emulator-only ``_sandbox/faults`` control, following
/work/shared/EXTERNAL_APIS.md section 4. The sandbox app credentials
(``sandbox-client`` / ``sandbox-secret``) are public demo values.
"""

from __future__ import annotations

from django.urls import path, re_path

from connectors.dynamics.emulator import api, auth

urlpatterns = [
    path("_sandbox/faults", auth.faults, name="faults"),
    path("<str:tenant>/oauth2/v2.0/token", auth.token, name="token"),
    path(
        "<str:tenant>/oauth2/token",
        auth.token,
        {"version": "v1"},
        name="token-v1",
    ),
    path(
        "<str:tenant>/v2.0/.well-known/openid-configuration",
        auth.openid_configuration,
        name="openid-configuration",
    ),
    path("api/data/v9.2/", api.service_document, name="service"),
    path("api/data/v9.2/$metadata", api.metadata, name="metadata"),
    re_path(
        r"^api/data/v9\.2/(?P<entity_set>[a-z_]+)\((?P<key>.+)\)$",
        api.record,
        name="record",
    ),
    re_path(
        r"^api/data/v9\.2/(?P<entity_set>[a-z_]+)/?$",
        api.collection,
        name="collection",
    ),
]
