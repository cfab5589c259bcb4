"""The tables the Dataverse emulator knows: columns, lookups and CSDL.

Column names follow EXTERNAL_APIS.md section 4; the types and the extra
columns (``revenue``, ``description``...) are [I]: enough for an OData
client to read ``$metadata``, not a copy of Dataverse's 1,000+ columns.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

NAMESPACE = "Microsoft.Dynamics.CRM"
COMMON = {
    "statecode": "Int32",
    "statuscode": "Int32",
    "createdon": "DateTimeOffset",
    "modifiedon": "DateTimeOffset",
    "versionnumber": "Int64",
}
MONEY = {"estimatedvalue", "totalamount", "revenue"}  # Money in webhooks [I]
OPTION_SETS = {"statecode", "statuscode", "contract", "authtype", "stage", "mode"}


@dataclass(frozen=True)
class Lookup:
    """A single-valued navigation property and the column it reads back as."""

    target: str  # entity set
    column: str  # _..._value


@dataclass(frozen=True)
class Table:
    entity_set: str
    logical_name: str
    primary_name: str
    columns: dict[str, str]
    lookups: dict[str, Lookup] = field(default_factory=dict)
    webhooks: bool = True  # business tables raise Create/Update/Delete

    @property
    def key(self) -> str:
        return f"{self.logical_name}id"

    def all_columns(self) -> dict[str, str]:
        lookups = {lookup.column: "Guid" for lookup in self.lookups.values()}
        return {self.key: "Guid", **self.columns, **lookups, **COMMON}


def _table(
    entity_set: str,
    logical_name: str,
    primary_name: str,
    columns: dict[str, str],
    lookups: dict[str, tuple[str, str]] | None = None,
    *,
    webhooks: bool = True,
) -> Table:
    return Table(
        entity_set,
        logical_name,
        primary_name,
        columns,
        {name: Lookup(*spec) for name, spec in (lookups or {}).items()},
        webhooks,
    )


S, D, N = "String", "Decimal", "Int32"
_CUSTOMER = {"customerid_account": ("accounts", "_customerid_value")}
_PRICE = {"pricelevelid": ("pricelevels", "_pricelevelid_value")}
TABLES: dict[str, Table] = {
    t.entity_set: t
    for t in [
        _table(
            "accounts",
            "account",
            "name",
            {
                "name": S,
                "accountnumber": S,
                "telephone1": S,
                "emailaddress1": S,
                "address1_city": S,
                "revenue": D,
                "description": S,
            },
            {"primarycontactid": ("contacts", "_primarycontactid_value")},
        ),
        _table(
            "contacts",
            "contact",
            "fullname",
            {
                "firstname": S,
                "lastname": S,
                "fullname": S,
                "emailaddress1": S,
                "telephone1": S,
                "jobtitle": S,
            },
            {"parentcustomerid_account": ("accounts", "_parentcustomerid_value")},
        ),
        _table(
            "opportunities",
            "opportunity",
            "name",
            {
                "name": S,
                "estimatedvalue": D,
                "estimatedclosedate": "Date",
                "stepname": S,
                "description": S,
            },
            _CUSTOMER,
        ),
        _table(
            "incidents",
            "incident",
            "title",
            {"title": S, "ticketnumber": S, "description": S},
            _CUSTOMER,
        ),
        _table(
            "salesorders",
            "salesorder",
            "name",
            {"name": S, "ordernumber": S, "totalamount": D},
            {**_CUSTOMER, **_PRICE},
        ),
        _table(
            "invoices",
            "invoice",
            "name",
            {"name": S, "invoicenumber": S, "totalamount": D},
            {**_CUSTOMER, **_PRICE},
        ),
        _table(
            "annotations",
            "annotation",
            "subject",
            {
                "subject": S,
                "notetext": S,
                "filename": S,
                "mimetype": S,
                "documentbody": S,
                "filesize": N,
                "isdocument": "Boolean",
            },
            # [V] a note's objectid can point at most tables; these are the
            # ones the emulator has.
            {
                "objectid_account": ("accounts", "_objectid_value"),
                "objectid_contact": ("contacts", "_objectid_value"),
                "objectid_opportunity": ("opportunities", "_objectid_value"),
                "objectid_incident": ("incidents", "_objectid_value"),
                "objectid_salesorder": ("salesorders", "_objectid_value"),
                "objectid_invoice": ("invoices", "_objectid_value"),
            },
        ),
        _table(
            "sharepointdocumentlocations",
            "sharepointdocumentlocation",
            "name",
            {"name": S, "relativeurl": S, "absoluteurl": S, "locationtype": N},
            {
                "regardingobjectid_account": ("accounts", "_regardingobjectid_value"),
                "regardingobjectid_contact": ("contacts", "_regardingobjectid_value"),
                "regardingobjectid_opportunity": (
                    "opportunities",
                    "_regardingobjectid_value",
                ),
                "regardingobjectid_salesorder": (
                    "salesorders",
                    "_regardingobjectid_value",
                ),
                "regardingobjectid_incident": ("incidents", "_regardingobjectid_value"),
                "parentsiteorlocation_sharepointsite": (
                    "sharepointsites",
                    "_parentsiteorlocation_value",
                ),
                "parentsiteorlocation_sharepointdocumentlocation": (
                    "sharepointdocumentlocations",
                    "_parentsiteorlocation_value",
                ),
            },
        ),
        _table(
            "serviceendpoints",
            "serviceendpoint",
            "name",
            {
                "name": S,
                "contract": N,
                "url": S,
                "authtype": N,
                "authvalue": S,
                "messageformat": N,
            },
            webhooks=False,
        ),
        _table(
            "sdkmessageprocessingsteps",
            "sdkmessageprocessingstep",
            "name",
            {"name": S, "stage": N, "mode": N, "rank": N, "supporteddeployment": N},
            {
                "eventhandler_serviceendpoint": (
                    "serviceendpoints",
                    "_eventhandler_value",
                ),
                "sdkmessageid": ("sdkmessages", "_sdkmessageid_value"),
                "sdkmessagefilterid": (
                    "sdkmessagefilters",
                    "_sdkmessagefilterid_value",
                ),
            },
            webhooks=False,
        ),
        _table("sdkmessages", "sdkmessage", "name", {"name": S}, webhooks=False),
        _table(
            "sdkmessagefilters",
            "sdkmessagefilter",
            "primaryobjecttypecode",
            {"primaryobjecttypecode": S},
            {"sdkmessageid": ("sdkmessages", "_sdkmessageid_value")},
            webhooks=False,
        ),
    ]
}
BY_LOGICAL_NAME = {table.logical_name: table for table in TABLES.values()}

# serviceendpoint.authtype values (Dataverse option set) [V in the SDK docs].
AUTH_TYPES = {"WebhookKey": 4, "HttpHeader": 5, "HttpQueryString": 6}
MESSAGES = ("Create", "Update", "Delete")
_IDS = uuid.UUID("5c3b6a4e-1f1d-4c8e-9d7a-0d2b8f6a9e11")


def message_id(name: str) -> str:
    """The stable GUID of a seeded ``sdkmessages`` row."""
    return str(uuid.uuid5(_IDS, f"sdkmessage:{name}"))


def filter_id(message: str, logical_name: str) -> str:
    """The stable GUID of a seeded ``sdkmessagefilters`` row."""
    return str(uuid.uuid5(_IDS, f"sdkmessagefilter:{message}:{logical_name}"))


def csdl() -> str:
    """``$metadata``: a CSDL document good enough for OData v4 clients."""
    types, sets = [], []
    for table in TABLES.values():
        props = "".join(
            f'<Property Name="{name}" Type="Edm.{kind}"/>'
            for name, kind in table.all_columns().items()
        )
        navs = "".join(
            f'<NavigationProperty Name="{name}" '
            f'Type="{NAMESPACE}.{TABLES[lk.target].logical_name}">'
            f'<ReferentialConstraint Property="{lk.column}" '
            f'ReferencedProperty="{TABLES[lk.target].key}"/></NavigationProperty>'
            for name, lk in table.lookups.items()
            if lk.target in TABLES
        )
        types.append(
            f'<EntityType Name="{table.logical_name}">'
            f'<Key><PropertyRef Name="{table.key}"/></Key>{props}{navs}</EntityType>'
        )
        bindings = "".join(
            f'<NavigationPropertyBinding Path="{name}" Target="{lk.target}"/>'
            for name, lk in table.lookups.items()
            if lk.target in TABLES
        )
        sets.append(
            f"<EntitySet Name={quoteattr(table.entity_set)} "
            f'EntityType="{NAMESPACE}.{table.logical_name}">{bindings}</EntitySet>'
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<edmx:Edmx Version="4.0" '
        'xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">'
        "<edmx:DataServices>"
        f'<Schema Namespace="{NAMESPACE}" Alias="mscrm" '
        'xmlns="http://docs.oasis-open.org/odata/ns/edm">'
        + "".join(types)
        + '<EntityContainer Name="System">'
        + "".join(sets)
        + "</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"
    )
