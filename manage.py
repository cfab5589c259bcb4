#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xconnector.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # Bad configuration: one clear sentence, not a traceback.
        print(f"xConnector cannot start: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
