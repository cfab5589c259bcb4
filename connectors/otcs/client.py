"""The Content Server REST client: the only code that talks to Content Server.

Written against the documented REST API (``/work/shared/EXTERNAL_APIS.md``
section 1, and OpenText's own ``pyxecm``):

- a ticket from ``POST v1/auth`` (form fields ``username``, ``password``,
  ``domain``) is sent as the ``OTCSTicket`` header; every response may carry
  a refreshed ticket in the same header and the newest one is kept;
- a 401 means the ticket expired: sign in again ONCE and repeat the call;
- structured calls send one form field ``body`` holding JSON; uploads are
  ``multipart/form-data`` streamed with ``MultipartEncoder`` from a file, so
  the document never sits in memory;
- errors come as ``{"error": "..."}``; unknown nodes answer 400 "Could not
  get a node for 123", duplicate names 500 "... already exists".

Downloads go through ``HttpClient.stream_download``, which does not show the
response headers: a ticket refreshed by a download is not picked up (the
current one stays valid, since using it restarts its inactivity clock).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

import requests
from requests_toolbelt import MultipartEncoder

from connectors.base import Document
from connectors.errors import AuthError, ConnectorError, PermanentError
from connectors.http import HttpClient
from connectors.http.client import Timeout

SYSTEM = "Content Server"
FOLDER, DOCUMENT = 0, 144
_NODE_IN_TEXT = re.compile(r"Could not get a node for (\d+)", re.IGNORECASE)
Body = Callable[[], tuple[Any, dict[str, str]]]


class NodeNotFoundError(PermanentError):
    """Content Server knows no node of this id (or hides it from the user)."""

    def __init__(self, node_id: int | str | None, **kwargs: Any) -> None:
        what = f"node {node_id}" if node_id is not None else "the node asked for"
        super().__init__(
            f"Content Server could not find {what}: check the node id, and that "
            "the connection's user may see it.",
            **kwargs,
        )
        self.node_id = node_id


class NameExistsError(PermanentError):
    """An item of the same name already exists in the target folder."""


class ContentServerClient:
    """Calls to one Content Server as one user.

    ``base_url`` is the REST base ending in ``/api/`` (``.../cs.exe/api/``).
    ``auth_count`` counts sign-ins, so callers and tests can see re-auths.
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        domain: str = "",
        verify: bool = True,
        timeout: Timeout | None = None,
    ) -> None:
        self.http = HttpClient(
            base_url.rstrip("/") + "/",
            verify=verify,
            timeout=timeout,
            system_label=SYSTEM,
        )
        self.username = username
        self._password = password
        self.domain = domain
        self._ticket = ""
        self.auth_count = 0

    # -- Authentication --

    def authenticate(self) -> str:
        """Sign in with user name and password; return (and keep) the ticket."""
        fields = {"username": self.username, "password": self._password}
        if self.domain:
            fields["domain"] = self.domain
        response = self.http.request(
            "POST",
            "v1/auth",
            data=fields,
            raise_errors=False,
            redact=[self._password],
        )
        self.auth_count += 1
        if response.status_code == 401:
            response.close()
            raise self._refused()
        if response.status_code >= 400:
            raise self._error(response, None)
        ticket = str(_json(response).get("ticket") or "")
        if not ticket:
            raise PermanentError(
                "Content Server signed the user in but returned no ticket: "
                "check that the address ends in /api/."
            )
        self._ticket = ticket
        return ticket

    def _refused(self) -> AuthError:
        return AuthError(
            "Content Server refused the user name or password: check the "
            "connection's credentials.",
            status=401,
        )

    # -- Sending --

    def call(
        self,
        method: str,
        path: str,
        *,
        node_id: int | str | None = None,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        body: Body | None = None,
    ) -> Any:
        """Send one authenticated call and return its JSON body.

        ``data`` is sent as form fields; ``body`` builds a fresh request body
        and its headers for each attempt (a streamed upload cannot be sent
        twice from the same encoder). ``node_id`` names the node in errors.
        """
        response = self._send(method, path, node_id, params, data, body)
        return _json(response)

    def _send(
        self,
        method: str,
        path: str,
        node_id: int | str | None,
        params: Mapping[str, Any] | None,
        data: Mapping[str, Any] | None,
        body: Body | None,
        *,
        stream: bool = False,
    ) -> requests.Response:
        for attempt in (1, 2):
            if not self._ticket:
                self.authenticate()
            payload, headers = body() if body else (data, {})
            response = self.http.request(
                method,
                path,
                params=params,
                data=payload,
                headers={**headers, "OTCSTicket": self._ticket},
                stream=stream,
                raise_errors=False,
                redact=[self._password],
            )
            self._keep_ticket(response)
            if response.status_code == 401:
                response.close()
                self._ticket = ""
                if attempt == 1:
                    continue  # the ticket expired: sign in again, once
                raise self._refused()
            if response.status_code >= 400:
                raise self._error(response, node_id)
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _keep_ticket(self, response: requests.Response) -> None:
        newer = response.headers.get("OTCSTicket")
        if newer:
            self._ticket = newer

    def _error(
        self, response: requests.Response, node_id: int | str | None
    ) -> ConnectorError:
        text = ""
        try:
            payload = response.json()
            if isinstance(payload, dict):
                text = " ".join(
                    str(payload[k]) for k in ("error", "errorDetail") if payload.get(k)
                )
        except ValueError:
            pass
        status = response.status_code
        secrets = [s for s in (self._password, self._ticket) if s]
        detail = f"HTTP {status} from {response.request.method} {response.url}"
        detail += f": {text}" if text else ""
        if status == 400 and (found := _NODE_IN_TEXT.search(text)):
            response.close()
            return NodeNotFoundError(int(found.group(1)), detail=detail, status=status)
        if status == 500 and "already exists" in text.lower():
            response.close()
            return NameExistsError(
                f"Content Server refused the name: {text.rstrip('.')}.",
                detail=detail,
                status=status,
            )
        error = self.http.status_error(response, secrets)
        response.close()
        return error

    # -- Nodes --

    def get_node(self, node_id: int) -> dict[str, Any]:
        """The node's ``properties`` (v2 ``results.data.properties``)."""
        payload = self.call(
            "GET",
            f"v2/nodes/{node_id}",
            node_id=node_id,
            params={"fields": ["properties", "versions.element(0)"]},
        )
        data = payload["results"]["data"]
        properties = dict(data["properties"])
        versions = data.get("versions")
        latest = versions[0] if isinstance(versions, list) and versions else versions
        if isinstance(latest, dict):
            properties.setdefault("version_number", latest.get("version_number"))
        return properties

    def children(
        self,
        parent_id: int,
        *,
        where_type: int | None = None,
        where_name: str = "",
        sort: str = "asc_name",
        limit: int = 100,
    ) -> Iterator[dict[str, Any]]:
        """Every child's ``properties``, page by page."""
        page = 1
        while True:
            params: dict[str, Any] = {"page": page, "limit": limit, "sort": sort}
            if where_type is not None:
                params["where_type"] = where_type
            if where_name:
                params["where_name"] = where_name
            payload = self.call(
                "GET", f"v2/nodes/{parent_id}/nodes", node_id=parent_id, params=params
            )
            for item in payload.get("results") or []:
                yield item["data"]["properties"]
            paging = (payload.get("collection") or {}).get("paging") or {}
            if page >= int(paging.get("page_total") or 1):
                return
            page += 1

    def child_named(
        self, parent_id: int, name: str, where_type: int | None = None
    ) -> dict[str, Any] | None:
        """The child called exactly ``name``, or None.

        ``where_name`` matches parts of names on real servers, so the
        listing is filtered again by exact name here.
        """
        for item in self.children(parent_id, where_type=where_type, where_name=name):
            if item.get("name") == name:
                return item
        return None

    def create_folder(self, parent_id: int, name: str) -> dict[str, Any]:
        """A new folder's properties."""
        spec = {"type": FOLDER, "parent_id": parent_id, "name": name}
        payload = self.call(
            "POST", "v2/nodes", node_id=parent_id, data={"body": json.dumps(spec)}
        )
        return payload["results"]["data"]["properties"]

    def upload(
        self,
        parent_id: int,
        name: str,
        file: IO[bytes],
        *,
        media_type: str = "application/octet-stream",
        description: str = "",
        categories: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create a document from ``file`` (seekable; streamed, never loaded)."""
        spec: dict[str, Any] = {"type": DOCUMENT, "parent_id": parent_id, "name": name}
        if description:
            spec["description"] = description
        if categories:
            spec["roles"] = {"categories": dict(categories)}
        fields = {"body": json.dumps(spec)}
        payload = self.call(
            "POST",
            "v2/nodes",
            node_id=parent_id,
            body=_multipart(fields, name, file, media_type),
        )
        return payload["results"]["data"]["properties"]

    def add_version(
        self,
        node_id: int,
        name: str,
        file: IO[bytes],
        *,
        media_type: str = "application/octet-stream",
        description: str = "",
        major: bool = False,
    ) -> dict[str, Any]:
        """Add a version from ``file``; return the new version's data."""
        fields = {"add_major_version": "true" if major else "false"}
        if description:
            fields["description"] = description
        payload = self.call(
            "POST",
            f"v2/nodes/{node_id}/versions",
            node_id=node_id,
            body=_multipart(fields, name, file, media_type),
        )
        data = (payload.get("results") or {}).get("data") or {}
        return dict(data.get("version") or data.get("properties") or data)

    def versions(self, node_id: int) -> list[dict[str, Any]]:
        """The node's versions, oldest first (v2 ``results[].data.versions``)."""
        payload = self.call("GET", f"v2/nodes/{node_id}/versions", node_id=node_id)
        found = []
        for item in payload.get("results") or []:
            data = item.get("data", item)
            found.append(data.get("versions", data))
        return found

    def download(self, node_id: int, version: int | None = None) -> Document:
        """The node's (or one version's) content as a streamed Document."""
        path = f"v2/nodes/{node_id}/content"
        if version is not None:
            path = f"v2/nodes/{node_id}/versions/{version}/content"
        for attempt in (1, 2):
            if not self._ticket:
                self.authenticate()
            try:
                return self.http.stream_download(
                    path, headers={"OTCSTicket": self._ticket}
                )
            except AuthError as error:
                if error.status != 401:
                    raise
                self._ticket = ""  # expired: sign in again, once
                if attempt == 2:
                    raise self._refused() from None
            except PermanentError as error:
                if error.status == 400 and _NODE_IN_TEXT.search(error.detail):
                    raise NodeNotFoundError(
                        node_id, detail=error.detail, status=400
                    ) from None
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    # -- Categories --

    def categories(self, node_id: int) -> dict[str, Any]:
        """Every category value of the node, flat ``{catId}_{attrId}`` keys."""
        payload = self.call("GET", f"v2/nodes/{node_id}/categories", node_id=node_id)
        values: dict[str, Any] = {}
        for item in payload.get("results") or []:
            values.update((item.get("data") or {}).get("categories") or {})
        return values

    def apply_category(
        self, node_id: int, category_id: int, values: Mapping[str, Any]
    ) -> None:
        """Apply a category with ``values`` (``{catId}_{attrId}`` keys)."""
        spec = {"category_id": category_id, **values}
        self.call(
            "POST",
            f"v2/nodes/{node_id}/categories",
            node_id=node_id,
            data={"body": json.dumps(spec)},
        )

    def update_category(
        self, node_id: int, category_id: int, values: Mapping[str, Any]
    ) -> None:
        """Change values of a category already on the node."""
        self.call(
            "PUT",
            f"v2/nodes/{node_id}/categories/{category_id}/",
            node_id=node_id,
            data={"body": json.dumps(dict(values))},
        )

    # -- Search --

    def search(
        self, where: str, *, page: int = 1, limit: int = 25, sort: str = ""
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """One page of an LQL search: the results' properties and the paging."""
        fields: dict[str, Any] = {"where": where, "page": page, "limit": limit}
        if sort:
            fields["sort"] = sort
        payload = self.call("POST", "v2/search", data=fields)
        items = [item["data"]["properties"] for item in payload.get("results") or []]
        paging = (payload.get("collection") or {}).get("paging") or {}
        return items, paging

    def close(self) -> None:
        self.http.close()


def _multipart(
    fields: Mapping[str, str], name: str, file: IO[bytes], media_type: str
) -> Body:
    """A body factory: each call rewinds ``file`` and builds a new encoder."""

    def build() -> tuple[Any, dict[str, str]]:
        file.seek(0)
        encoder = MultipartEncoder(fields={**fields, "file": (name, file, media_type)})
        return encoder, {"Content-Type": encoder.content_type}

    return build


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        payload = response.json() if response.content else {}
    except ValueError:
        raise PermanentError(
            "Content Server answered with something that is not JSON: check "
            "that the address of the connection ends in /api/.",
            status=response.status_code,
        ) from None
    return payload if isinstance(payload, dict) else {"results": payload}
