"""Document versions: list, add (multipart ``file``) and download.

Uploads are copied from Django's upload (a temporary file when large) to the
blob folder in chunks, and downloads are streamed from disk with
``FileResponse``: a 1 GB document never sits in memory.
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse

from connectors.otcs.emulator.nodes import add_version, get_node, links
from connectors.otcs.emulator.responses import ApiError, otcs, params, uploaded_file
from connectors.otcs.emulator.state import blob_dir, iso
from connectors.sandbox.models import OtcsNode, OtcsVersion


def version_data(version: OtcsVersion) -> dict[str, Any]:
    """One version as Content Server describes it."""
    return {
        "create_date": iso(version.create_date),
        "description": version.description,
        "file_create_date": iso(version.create_date),
        "file_modify_date": iso(version.create_date),
        "file_name": version.file_name,
        "file_size": version.size,
        "file_type": version.file_name.rpartition(".")[2]
        if "." in version.file_name
        else "",
        "id": version.node_id,
        "locked": False,
        "mime_type": version.mime_type,
        "modify_date": iso(version.create_date),
        "name": version.file_name,
        "owner_id": version.owner_id,
        "version_id": version.pk,
        "version_number": version.number,
        "version_number_major": version.major,
        "version_number_minor": version.minor,
        "version_number_name": f"{version.major}.{version.minor}",
    }


def _document(node_id: int) -> OtcsNode:
    node = get_node(node_id)
    if node.type != 144:
        raise ApiError(400, f"Node {node_id} is not a document.")
    return node


@otcs("GET", "POST")
def versions(request: HttpRequest, node_id: int, user_id: int) -> HttpResponse:
    """``GET``: every version, oldest first; ``POST``: add one.

    The answer to ``POST`` carries the new version under
    ``results.data.versions`` and its number as ``results.data.version_number``
    [I: the real answer's exact shape was not found].
    """
    node = _document(node_id)
    if request.method == "GET":
        found = node.otcsversion_set.order_by("number")
        return JsonResponse(
            {
                "links": links(request),
                "results": [{"data": {"versions": version_data(v)}} for v in found],
            }
        )
    upload = uploaded_file(request)
    if upload is None:
        raise ApiError(400, "A file is required to add a version.")
    version = add_version(node, upload, user_id, params(request))
    return JsonResponse(
        {
            "links": links(request),
            "results": {
                "data": {
                    "version_number": version.number,
                    "versions": version_data(version),
                }
            },
        }
    )


def _stream(version: OtcsVersion) -> FileResponse:
    path = blob_dir() / version.blob
    if not path.exists():
        raise ApiError(500, f"The content of version {version.number} is missing.")
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=version.file_name,
        content_type=version.mime_type,
    )
    response.block_size = 1024 * 1024  # read lazily, 1 MB at a time
    return response


@otcs("GET")
def latest(request: HttpRequest, node_id: int, user_id: int) -> HttpResponse:
    """``GET api/v1/nodes/{id}/versions/latest``: the newest version, as
    ``{"data": {...}}`` (pyxecm reads ``data.version_number`` from it)."""
    node = _document(node_id)
    version = OtcsVersion.objects.filter(node=node).order_by("-number").first()
    if version is None:
        raise ApiError(400, f"Node {node_id} has no version.")
    return JsonResponse({"data": version_data(version)})


@otcs("GET")
def content(request: HttpRequest, node_id: int, user_id: int) -> HttpResponse:
    """The latest version's bytes."""
    node = _document(node_id)
    latest = node.otcsversion_set.order_by("-number").first()
    if latest is None:
        raise ApiError(400, f"Node {node_id} has no versions.")
    return _stream(latest)


@otcs("GET")
def version_content(
    request: HttpRequest, node_id: int, number: int, user_id: int
) -> HttpResponse:
    """One version's bytes."""
    node = _document(node_id)
    version = node.otcsversion_set.filter(number=number).first()
    if version is None:
        raise ApiError(400, f"Could not get version {number} of node {node_id}")
    return _stream(version)
