"""An emulated OpenText Trading Grid (/sandbox/tradinggrid/...).

Follows /work/shared/EXTERNAL_APIS.md section 3: OAuth tokens from a
consumer key and secret, Community Management (company, partner
directory), Lens transaction search, and, where no public API exists, the
recommended store-and-forward mailbox plus collaboration threads [I].
Demo companies and scripted partners are described in ``state`` and
``partners``. ``_sandbox/faults`` and ``_sandbox/tokens/expire`` are
emulator-only controls for tests.
"""

from __future__ import annotations

from django.urls import path

from connectors.tradinggrid.emulator import collaboration, community, lens, mailbox

app_name = "sandbox_tradinggrid"

COMPANY = "TGCommunityServices/v1/companies/<str:company_id>"
INBOUND = "mailboxes/<str:mailbox>/inbound"

urlpatterns = [
    path("v1/oauth2/tokens", community.tokens, name="tokens"),
    path(COMPANY, community.company, name="company"),
    path(f"{COMPANY}/partnerDirectory", community.partner_directory, name="partners"),
    path("mailboxes/<str:mailbox>/outbound", mailbox.outbound, name="outbound"),
    path(INBOUND, mailbox.inbound, name="inbound"),
    path(f"{INBOUND}/<str:document_id>", mailbox.document, name="document"),
    path(f"{INBOUND}/<str:document_id>/content", mailbox.content, name="content"),
    path(f"{INBOUND}/<str:document_id>/ack", mailbox.ack, name="ack"),
    path("collaboration/threads", collaboration.threads, name="threads"),
    path("collaboration/threads/<str:thread_id>", collaboration.thread, name="thread"),
    path(
        "collaboration/threads/<str:thread_id>/messages",
        collaboration.messages,
        name="messages",
    ),
    path(
        "collaboration/threads/<str:thread_id>/messages/<str:message_id>"
        "/attachments/<str:index>",
        collaboration.attachment,
        name="attachment",
    ),
    path("visibility_transaction_search", lens.transaction_search, name="lens"),
    path("_sandbox/faults", community.faults, name="faults"),
    path(
        "_sandbox/partner-documents",
        community.partner_document,
        name="partner-documents",
    ),
    path("_sandbox/tokens/expire", community.expire_tokens, name="expire-tokens"),
]
