"""Lens transaction search: ``POST visibility_transaction_search`` [V].

The body is GraphQL: the JSON ``{"query": "..."}`` of GraphQL over HTTP,
or the query text itself. Only ``getTransactions(query:{...})`` is
answered, with the arguments xConnector needs: ``count`` (at most 100),
``offset``, ``query`` (terms joined by AND, ``*`` wildcards, matched
against type, names, addresses and ids), ``sortby:{field:arrivaltime,
type:ASC|DESC}``, ``contentKeyFilters:[{key, value}]`` and
``fields:{should|must:[{field, query}]}``. The answer holds exactly the
fields selected, ``contentkeys(names:[...]){key value}`` included. A
company sees the transactions it sent or received.
"""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from connectors.tradinggrid.emulator.mailbox import iso
from connectors.tradinggrid.emulator.responses import ApiError, grid
from connectors.tradinggrid.emulator.state import Company
from connectors.tradinggrid.sandbox.models import TgTransaction

_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<number>-?\d+(?:\.\d+)?)'
    r"|(?P<name>[_A-Za-z][_0-9A-Za-z]*)|(?P<punct>[{}()\[\]:,!$=@]))"
)


class _Parser:
    """A recursive-descent reader of the GraphQL subset used here."""

    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, Any]] = []
        position = 0
        text = re.sub(r"#[^\n]*", "", text)
        while position < len(text):
            if not text[position:].strip():
                break
            match = _TOKEN.match(text, position)
            if match is None:
                raise _syntax(f"unexpected character {text[position:].strip()[:1]!r}")
            kind = match.lastgroup or ""
            raw = match.group(kind)
            self.tokens.append((kind, json.loads(raw) if kind == "string" else raw))
            position = match.end()
        self.index = 0

    def peek(self) -> tuple[str, Any]:
        return self.tokens[self.index] if self.index < len(self.tokens) else ("", "")

    def take(self, value: str | None = None) -> Any:
        kind, lexeme = self.peek()
        if not kind or (value is not None and lexeme != value):
            raise _syntax(f"expected {value or 'more'}, found {lexeme or 'the end'}")
        self.index += 1
        return lexeme

    def value(self) -> Any:
        kind, lexeme = self.peek()
        if lexeme == "{":
            self.take("{")
            result = {}
            while self.peek()[1] != "}":
                name = self.take()
                self.take(":")
                result[name] = self.value()
                if self.peek()[1] == ",":
                    self.take(",")
            self.take("}")
            return result
        if lexeme == "[":
            self.take("[")
            items = []
            while self.peek()[1] != "]":
                items.append(self.value())
                if self.peek()[1] == ",":
                    self.take(",")
            self.take("]")
            return items
        self.take()
        if kind == "number":
            return float(lexeme) if "." in lexeme else int(lexeme)
        if kind == "name":
            return {"true": True, "false": False, "null": None}.get(lexeme, lexeme)
        if kind == "string":
            return lexeme
        raise _syntax(f"unexpected {lexeme}")

    def arguments(self) -> dict[str, Any]:
        if self.peek()[1] != "(":
            return {}
        self.take("(")
        result = {}
        while self.peek()[1] != ")":
            name = self.take()
            self.take(":")
            result[name] = self.value()
            if self.peek()[1] == ",":
                self.take(",")
        self.take(")")
        return result

    def selection(self) -> list[tuple[str, dict[str, Any], list]]:
        self.take("{")
        fields = []
        while self.peek()[1] != "}":
            name = self.take()
            args = self.arguments()
            inner = self.selection() if self.peek()[1] == "{" else []
            fields.append((name, args, inner))
            if self.peek()[1] == ",":
                self.take(",")
        self.take("}")
        return fields


def _syntax(message: str) -> ApiError:
    return ApiError(400, f"The GraphQL query is not valid: {message}.", "GRAPHQL_PARSE")


def parse_query(text: str) -> tuple[dict[str, Any], list]:
    """The arguments and selection of ``getTransactions`` in ``text``."""
    parser = _Parser(text)
    while parser.peek()[0] and parser.peek()[1] != "getTransactions":
        parser.index += 1
    if not parser.peek()[0]:
        raise _syntax("only getTransactions is supported")
    parser.take("getTransactions")
    arguments = parser.arguments()
    if parser.peek()[1] != "{":
        raise _syntax("getTransactions needs a selection of fields")
    return arguments, parser.selection()


_FIELDS = {
    "transactionid": "transaction_id",
    "sendername": "sender_name",
    "receivername": "receiver_name",
    "senderaddress": "sender_address",
    "receiveraddress": "receiver_address",
    "editype": "editype",
    "status": "status",
    "correlationid": "correlation_id",
    "doctype": "doc_type",
    "controlnumber": "control_number",
}


def _matches(pattern: str, value: str) -> bool:
    pattern, value = pattern.lower(), value.lower()
    return fnmatchcase(value, pattern) or any(
        fnmatchcase(word, pattern) for word in value.split()
    )


def _free_text(record: TgTransaction, terms: list[str]) -> bool:
    values = [getattr(record, column) for column in _FIELDS.values()]
    return all(any(_matches(term, v) for v in values if v) for term in terms)


def _field_query(record: TgTransaction, clause: dict[str, Any]) -> bool:
    column = _FIELDS.get(str(clause.get("field", "")).lower())
    if column is None:
        raise ApiError(
            400, f"Unknown search field {clause.get('field')}.", "GRAPHQL_FIELD"
        )
    return _matches(str(clause.get("query", "")), getattr(record, column))


def search(company: Company, arguments: dict[str, Any]) -> tuple[list, int, int]:
    """The matching page, the total and the offset."""
    query = arguments.get("query")
    if not isinstance(query, dict):
        raise _syntax("getTransactions needs a query:{...} argument")
    records = TgTransaction.objects.filter(
        sender_company=company.id
    ) | TgTransaction.objects.filter(receiver_company=company.id)
    order = query.get("sortby") or {}
    if str(order.get("field", "arrivaltime")).lower() != "arrivaltime":
        raise ApiError(400, "Only sorting by arrivaltime is supported.", "GRAPHQL_SORT")
    descending = str(order.get("type", "DESC")).upper() == "DESC"
    records = records.order_by(
        "-arrival_time" if descending else "arrival_time", "-id" if descending else "id"
    )
    terms = [t for t in str(query.get("query") or "").split() if t.upper() != "AND"]
    fields = query.get("fields") or {}
    should = fields.get("should") or []
    must = fields.get("must") or []
    filters = query.get("contentKeyFilters") or []
    found = []
    for record in records:
        if terms and not _free_text(record, terms):
            continue
        if should and not any(_field_query(record, c) for c in should):
            continue
        if not all(_field_query(record, c) for c in must):
            continue
        keys = record.content_keys
        if not all(
            _matches(str(f.get("value", "")), str(keys.get(str(f.get("key", "")), "")))
            for f in filters
        ):
            continue
        found.append(record)
    count = max(1, min(100, int(query.get("count") or 20)))
    offset = max(0, int(query.get("offset") or 0))
    return found[offset : offset + count], len(found), offset


def _transaction(record: TgTransaction, selection: list) -> dict[str, Any]:
    values = {
        "transactionid": record.transaction_id,
        "arrivaltime": iso(record.arrival_time),
        "status": record.status,
        # deliverystatus, transactionlevel: values [I].
        "deliverystatus": "Delivered"
        if record.status == TgTransaction.Status.DELIVERED
        else "Not delivered",
        "sendername": record.sender_name,
        "receivername": record.receiver_name,
        "senderaddress": record.sender_address,
        "receiveraddress": record.receiver_address,
        "editype": record.editype,
        "transactionlevel": "Interchange",
        "correlationid": record.correlation_id or None,
        "errorcode": record.error_code or None,
        "externalerrormessage": record.error_message or None,
        "doctype": record.doc_type,
        "controlnumber": record.control_number,
    }
    data: dict[str, Any] = {}
    for name, args, inner in selection:
        if name == "contentkeys":
            names = args.get("names") or list(record.content_keys)
            pairs = [
                {"key": n, "value": record.content_keys[n]}
                for n in names
                if n in record.content_keys
            ]
            wanted = [f[0] for f in inner] or ["key", "value"]
            data[name] = [{k: p[k] for k in wanted if k in p} for p in pairs]
        elif name in values:
            data[name] = values[name]
        else:
            raise ApiError(
                400, f"Cannot query field {name} on Transaction.", "GRAPHQL_FIELD"
            )
    return data


_RESULT_FIELDS = {"count", "total", "offset", "transactions"}
_TRANSACTION_FIELDS = {
    "transactionid",
    "arrivaltime",
    "status",
    "deliverystatus",
    "sendername",
    "receivername",
    "senderaddress",
    "receiveraddress",
    "editype",
    "transactionlevel",
    "correlationid",
    "errorcode",
    "externalerrormessage",
    "doctype",
    "controlnumber",
    "contentkeys",
}


def _check_selection(selection: list) -> None:
    """GraphQL refuses a query that selects a field the type lacks."""
    for name, _, inner in selection:
        if name not in _RESULT_FIELDS:
            raise _unknown(name, "TransactionResult")
        if name == "transactions":
            for field, _, keys in inner:
                if field not in _TRANSACTION_FIELDS:
                    raise _unknown(field, "Transaction")
                if field == "contentkeys" and {k[0] for k in keys} - {"key", "value"}:
                    raise _unknown("contentkeys", "Transaction")


def _unknown(name: str, kind: str) -> ApiError:
    return ApiError(400, f"Cannot query field {name} on {kind}.", "GRAPHQL_FIELD")


@grid("POST")
def transaction_search(request: HttpRequest, company: Company) -> HttpResponse:
    text = request.body.decode("utf-8", errors="replace")
    if (request.content_type or "").startswith("application/json"):
        try:
            text = str(json.loads(text or "{}").get("query") or "")
        except (ValueError, AttributeError):
            raise _syntax("the body is not a JSON object") from None
    arguments, selection = parse_query(text)
    _check_selection(selection)
    page, total, offset = search(company, arguments)
    result: dict[str, Any] = {}
    for name, _, inner in selection:
        if name == "transactions":
            result[name] = [_transaction(r, inner) for r in page]
        elif name in ("count", "total", "offset"):
            result[name] = {"count": len(page), "total": total, "offset": offset}[name]
    return JsonResponse({"data": {"getTransactions": result}})
