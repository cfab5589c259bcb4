"""The product's URL names are its own: no emulator route can take them."""

from __future__ import annotations

from django.urls import reverse

from xconnector.context_processors import NAVIGATION


def test_every_menu_entry_reverses_to_the_product_page():
    paths = {item.url_name: reverse(item.url_name) for item in NAVIGATION}

    assert paths == {
        "dashboard": "/",
        "connections": "/connections/",
        "flows": "/flows/",
        "runs": "/runs/",
        "tasks": "/tasks/",
        "workspaces": "/workspaces/",
        "audit": "/audit/",
    }
