"""E-mail over SMTP, or into the local outbox of the demo (``EmailConnector``)."""

from __future__ import annotations
