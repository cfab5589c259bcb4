"""An emulated OpenText Exstream (Core Communications) with its OTDS
(mounted at /sandbox/exstream/).

Follows /work/shared/EXTERNAL_APIS.md section 2: OTDS client credentials
tokens (``auth``), the orchestration API (``orchestration``: version,
on-demand generation, batch input) and the design and asset service
(``design``: communications, workflow states, governed content blocks).
SANDBOX ONLY, marked so in each module: batch job status and outputs
(``orchestration/api/v1/jobs/...``), delivery events (``events``), and the
controls under ``_sandbox/`` (faults, token expiry, callbacks, simulated
deliveries). Seeded communications and the public demo client are in
``state``.
"""

from __future__ import annotations

from django.urls import path

from connectors.exstream.emulator import auth, design, events, orchestration

app_name = "sandbox_exstream"

urlpatterns = [
    path("otdsws/oauth2/token", auth.token, name="token"),
    path(
        "otdstenant/<str:tenant>/otdsws/oauth2/token", auth.token, name="tenant-token"
    ),
    path("orchestration/api/v1/version", auth.version, name="version"),
    path(
        "orchestration/api/v1/inputs/ondemand/<str:domain>/generate",
        orchestration.generate,
        name="generate",
    ),
    path(
        "orchestration/api/v1/inputs/batch/<str:domain>/<str:service_name>",
        orchestration.batch,
        name="batch",
    ),
    path("orchestration/api/v1/jobs/<str:job_id>", orchestration.job, name="job"),
    path(
        "orchestration/api/v1/jobs/<str:job_id>/outputs/<str:output_id>",
        orchestration.job_output,
        name="job-output",
    ),
    path("design/api/v1/resources/<str:domain>", design.resources, name="resources"),
    path(
        "design/api/v1/resources/<str:domain>/<str:resource_id>",
        design.resource_detail,
        name="resource",
    ),
    path(
        "design/api/v1/resources/<str:domain>/<str:resource_id>/state",
        design.resource_state,
        name="resource-state",
    ),
    path(
        "design/api/v1/resources/<str:domain>/<str:resource_id>/contentblocks/<str:name>",
        design.content_block,
        name="content-block",
    ),
    path("_sandbox/faults", auth.faults, name="faults"),
    path("_sandbox/tokens/expire", auth.expire_tokens, name="expire-tokens"),
    path("_sandbox/callbacks", events.callbacks, name="callbacks"),
    path("_sandbox/deliveries", events.deliveries, name="deliveries"),
    path("_sandbox/deliveries/<str:event_id>/resend", events.resend, name="resend"),
]
