"""Lists are keyset pages (a cursor, never OFFSET, never COUNT): the same
cost on page 1 and page 10,000, and stable while rows are being added."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class NewestFirst(CursorPagination):
    ordering = "-pk"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
