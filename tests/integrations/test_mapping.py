"""The mapping engine: expressions, transforms, rules and schema checks."""

from __future__ import annotations

import pickle
import threading
import time
from typing import Literal

import jsonata
import pytest
from pydantic import BaseModel, ConfigDict

from integrations.mapping import (
    TRANSFORMS,
    MappingFailed,
    PreviewResult,
    Rule,
    RuleError,
    apply_mapping,
    check_rules,
    evaluate,
    expressions,
    preview,
)

NO_CLOSE = "Expected ) before end of expression"
KNOWN = (
    "known transforms: boolean, case, concat, date, default, lookup, map, number, "
    "regex, string, trim"
)

CONTEXT = {
    "trigger": {
        "body": {
            "account": {"name": "  Acme Corp ", "id": 42},
            "lines": [
                {"sku": "A-1", "qty": 2, "price": 10.5, "tags": ["x", "y"]},
                {"sku": "B-2", "qty": 1, "price": 4, "tags": []},
                {"sku": "C-3", "qty": 3, "note": None, "tags": ["z"]},
            ],
        }
    },
    "steps": {"create_ws": {"workspace_id": 9830, "empty": [], "one": [7]}},
    "nested": [[{"v": 1}], [[{"v": 2}]], {"v": [3, 4]}],
}


def value_after(value, *transforms, context=None, tables=None):
    """The mapped value of a single rule with no expression."""
    rule = Rule("out", "v", tuple(transforms))
    return apply_mapping([rule], {"v": value, **(context or {})}, tables=tables)["out"]


def rule_error(value, *transforms, tables=None) -> str:
    rule = Rule("out", "v", tuple(transforms))
    with pytest.raises(MappingFailed) as failed:
        apply_mapping([rule], {"v": value}, tables=tables)
    return str(failed.value)


# --- expressions ---------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "trigger.body.account.name",
        "trigger.body.account.missing",
        "trigger.body.lines",
        "trigger.body.lines.sku",
        "trigger.body.lines.price",
        "trigger.body.lines.note",
        "trigger.body.lines.tags",
        "trigger.body.lines.sku.deeper",
        "steps.create_ws.workspace_id",
        "steps.create_ws.empty",
        "steps.create_ws.one",
        "steps.create_ws.workspace_id.x",
        "nested.v",
        "nowhere",
        "_private",
    ],
)
def test_plain_paths_give_the_same_result_as_jsonata(path):
    assert expressions.plain_path(path) is not None
    expected = jsonata.Jsonata(path).evaluate(CONTEXT)
    assert evaluate(path, CONTEXT) == expected


def test_plain_path_results():
    assert evaluate("trigger.body.account.id", CONTEXT) == 42
    assert evaluate("trigger.body.lines.sku", CONTEXT) == ["A-1", "B-2", "C-3"]
    assert evaluate("trigger.body.lines.tags", CONTEXT) == ["x", "y", "z"]
    assert evaluate("steps.create_ws.one", CONTEXT) == [7]
    assert evaluate("trigger.body.nope", CONTEXT) is None


@pytest.mark.parametrize(
    "expression", ["true", "a.null", "$x", "a[0]", "9830_2", "a.b "]
)
def test_literals_and_operators_are_not_plain_paths(expression):
    assert expressions.plain_path(expression) is None


def test_jsonata_functions_and_concatenation():
    assert evaluate("$uppercase(trigger.body.account.name)", CONTEXT) == "  ACME CORP "
    assert evaluate("$sum(trigger.body.lines.qty)", CONTEXT) == 6
    assert (
        evaluate(
            'trigger.body.lines[0].sku & "/" & $string(steps.create_ws.workspace_id)',
            CONTEXT,
        )
        == "A-1/9830"
    )


def test_undefined_is_none():
    assert evaluate("trigger.body.lines[sku = 'nope']", CONTEXT) is None


def test_syntax_error_is_a_value_error_in_plain_words():
    with pytest.raises(ValueError) as error:
        evaluate("$foo(", CONTEXT)
    assert str(error.value) == (
        f"The expression “$foo(” is not valid: {NO_CLOSE} (at character 5)."
    )


def test_evaluation_error_is_a_value_error_in_plain_words():
    with pytest.raises(ValueError) as error:
        evaluate("1 / 0", CONTEXT)
    assert str(error.value) == (
        "The expression “1 / 0” could not be evaluated: float division by zero."
    )


def test_the_same_expression_compiles_once(monkeypatch):
    compiled = []
    real = jsonata.Jsonata

    def counting(expression):
        compiled.append(expression)
        return real(expression)

    monkeypatch.setattr(jsonata, "Jsonata", counting)
    monkeypatch.setattr(jsonata.Jsonata, "CURRENT", real.CURRENT, raising=False)
    expressions.cache_clear()
    for number in range(3):
        assert evaluate("$string(n + 1)", {"n": number}) == str(number + 1)
    assert compiled == ["$string(n + 1)"]
    assert expressions.cache_info() == expressions.CacheInfo(
        hits=2, misses=1, maxsize=1024, currsize=1
    )


def test_the_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(expressions, "CACHE_SIZE", 3)
    expressions.cache_clear()
    for number in range(5):
        evaluate(f"{number} + 1", {})
    assert expressions.cache_info().currsize == 3


def test_threads_evaluating_the_same_expression_get_their_own_results():
    expression = '$string(n * 2) & "-" & name'
    results: dict[int, object] = {}
    barrier = threading.Barrier(8)

    def work(number: int) -> None:
        barrier.wait()
        for _ in range(50):
            result = evaluate(expression, {"n": number, "name": f"t{number}"})
            if result != f"{number * 2}-t{number}":
                results[number] = result
                return
        results[number] = "ok"

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == dict.fromkeys(range(8), "ok")


def test_micro_benchmark_prints_evaluation_times():
    """Not a timing assertion: run with -s to read the numbers."""
    rounds = 2000
    for label, expression in [
        ("plain path", "trigger.body.account.name"),
        (
            "JSONata",
            '$uppercase(trigger.body.account.name) & "-" & '
            "$string($sum(trigger.body.lines.qty))",
        ),
    ]:
        evaluate(expression, CONTEXT)
        start = time.perf_counter()
        for _ in range(rounds):
            evaluate(expression, CONTEXT)
        per_call = (time.perf_counter() - start) / rounds
        print(f"\n{label}: {per_call * 1e6:.1f} µs per evaluation")


# --- transforms ------------------------------------------------------------------


def test_every_transform_is_listed_with_label_and_options():
    assert sorted(TRANSFORMS) == [
        "boolean",
        "case",
        "concat",
        "date",
        "default",
        "lookup",
        "map",
        "number",
        "regex",
        "string",
        "trim",
    ]
    assert TRANSFORMS["case"].label == "Change case"
    assert [option.name for option in TRANSFORMS["case"].options] == ["to"]
    assert TRANSFORMS["case"].options[0].choices == ("upper", "lower", "title")


def test_trim_and_case():
    assert value_after("  Acme Corp ", {"name": "trim"}) == "Acme Corp"
    assert value_after("acme", {"name": "case", "to": "upper"}) == "ACME"
    assert value_after("ACME", {"name": "case", "to": "lower"}) == "acme"
    assert (
        value_after("they're o'neil", {"name": "case", "to": "title"})
        == "They're O'neil"
    )
    assert value_after(None, {"name": "trim"}, {"name": "case", "to": "upper"}) is None
    assert rule_error(5, {"name": "trim"}) == (
        "Rule “out”: the number 5 is not text, so it cannot be trimmed."
    )


def test_default():
    assert value_after(None, {"name": "default", "value": "n/a"}) == "n/a"
    assert value_after("", {"name": "default", "value": 0}) == 0
    assert value_after("x", {"name": "default", "value": "n/a"}) == "x"


@pytest.mark.parametrize(
    ("text", "separator", "expected"),
    [
        ("1.234,50", ",", 1234.5),
        ("1234,5", ",", 1234.5),
        ("1,234.50", ".", 1234.5),
        (" -12 ", ".", -12),
        ("3.0", ".", 3),
        ("1 000 000", ".", 1000000),
        (7.5, ".", 7.5),
        (8.0, ".", 8),
    ],
)
def test_number(text, separator, expected):
    result = value_after(text, {"name": "number", "decimal_separator": separator})
    assert result == expected
    assert type(result) is type(expected)


def test_number_error():
    assert rule_error("12,5.3", {"name": "number", "decimal_separator": ","}) == (
        "Rule “out”: the text “12,5.3” is not a number (the decimal separator is “,”)."
    )
    assert rule_error(True, {"name": "number"}) == (
        "Rule “out”: the value true is not a number (the decimal separator is “.”)."
    )


def test_date():
    dates = {"name": "date", "from": "DD.MM.YYYY", "to": "iso"}
    assert value_after("01.03.2025", dates) == "2025-03-01"
    iso = {"name": "date", "from": "iso", "to": "DD/MM/YYYY HH:mm"}
    assert value_after("2025-03-01T10:05:00Z", iso) == "01/03/2025 10:05"
    assert (
        value_after("2025-03-01T10:05:00Z", {"name": "date"})
        == "2025-03-01T10:05:00+00:00"
    )
    assert value_after("2025-03-01", {"name": "date", "to": "YYYY%MM"}) == "2025%03"


def test_date_errors():
    assert rule_error("31/02/2025", {"name": "date", "from": "DD/MM/YYYY"}) == (
        "Rule “out”: the date “31/02/2025” does not match the format DD/MM/YYYY."
    )
    assert rule_error("tomorrow", {"name": "date"}) == (
        "Rule “out”: the date “tomorrow” does not match an ISO 8601 date."
    )


def test_concat():
    context = {"first": "Ada", "last": "Lovelace", "none": None}
    concat = {
        "name": "concat",
        "with": ["none", "last", '"(" & $string(36) & ")"'],
        "separator": " ",
    }
    assert value_after("Ada", concat, context=context) == "Ada Lovelace (36)"
    assert (
        value_after(None, {"name": "concat", "with": ["none"]}, context=context) is None
    )
    bad = {"name": "concat", "with": ["$nope("]}
    assert rule_error("x", bad) == (
        "Rule “out”: the expression “$nope(” is not valid: "
        f"{NO_CLOSE} (at character 6)."
    )


def test_regex():
    assert (
        value_after("Invoice INV-123", {"name": "regex", "pattern": r"INV-(\d+)"})
        == "123"
    )
    assert (
        value_after("Invoice INV-123", {"name": "regex", "pattern": r"INV-\d+"})
        == "INV-123"
    )
    named = {"name": "regex", "pattern": r"(?P<year>\d{4})-\d\d", "group": "year"}
    assert value_after("2025-03", named) == "2025"
    assert value_after(4711, {"name": "regex", "pattern": r"\d\d"}) == "47"
    assert value_after("none", {"name": "regex", "pattern": r"\d+"}) is None
    required = {"name": "regex", "pattern": r"\d+", "required": True}
    assert rule_error("none", required) == (
        "Rule “out”: the text “none” does not match the pattern “\\d+”."
    )


def test_regex_guards():
    assert rule_error("a" * 10_001, {"name": "regex", "pattern": "a"}) == (
        "Rule “out”: the text is 10,001 characters long, "
        "more than the 10,000 a pattern may search."
    )
    assert rule_error("a", {"name": "regex", "pattern": "a" * 501}) == (
        "Rule “out”: the pattern is 501 characters long; at most 500 are allowed."
    )


def test_map():
    status = {"name": "map", "values": {"O": "open", "S": "shipped", "1": "one"}}
    assert value_after("S", status) == "shipped"
    assert value_after(1, status) == "one"
    assert value_after("X", {**status, "default": "open"}) == "open"
    assert rule_error("X", status) == (
        "Rule “out”: the text “X” is not in the value map (known values: O, S, 1)."
    )
    many = {"name": "map", "values": {str(n): n for n in range(12)}}
    assert rule_error("X", many) == (
        "Rule “out”: the text “X” is not in the value map "
        "(known values: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, …)."
    )


def test_lookup():
    tables = {"countries": {"DE": "Germany", "FR": "France"}}
    lookup = {"name": "lookup", "table": "countries"}
    assert value_after("DE", lookup, tables=tables) == "Germany"
    assert value_after("XX", {**lookup, "default": None}, tables=tables) is None
    assert rule_error("XX", lookup, tables=tables) == (
        "Rule “out”: the text “XX” is not in the table “countries” "
        "(known values: DE, FR)."
    )
    assert rule_error("DE", lookup) == (
        "Rule “out”: the lookup table “countries” does not exist."
    )


def test_string():
    assert value_after(3.0, {"name": "string"}) == "3"
    assert value_after(2.5, {"name": "string"}) == "2.5"
    assert value_after(False, {"name": "string"}) == "false"
    assert value_after(["ä", 1], {"name": "string"}) == '["ä", 1]'
    assert value_after(None, {"name": "string"}) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("yes", True),
        ("Ja", True),
        ("1", True),
        (1, True),
        ("false", False),
        ("NEIN", False),
        (0, False),
        (True, True),
        (None, None),
    ],
)
def test_boolean(value, expected):
    assert value_after(value, {"name": "boolean"}) is expected


def test_boolean_error():
    assert rule_error("maybe", {"name": "boolean"}) == (
        "Rule “out”: the text “maybe” is not a yes/no value "
        "(use yes, true, 1 or ja for yes and no, false, 0 or nein for no)."
    )


def test_transforms_apply_in_order():
    transforms = ({"name": "trim"}, {"name": "case", "to": "upper"})
    assert value_after("  acme ", *transforms) == "ACME"


# --- rules -------------------------------------------------------------------------


def test_rule_round_trips_through_dicts():
    data = {"target": "name", "expression": "a", "transforms": [{"name": "trim"}]}
    rule = Rule.from_dict(data)
    assert rule == Rule("name", "a", ({"name": "trim"},))
    assert rule.as_dict() == data


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            {"target": "a..b"},
            RuleError(
                "",
                (
                    "The rule target the text “a..b” is not a field name (names "
                    "separated by dots, without spaces)."
                ),
            ),
        ),
        (
            {"target": "a", "expr": "x"},
            RuleError("a", "Rule “a”: it has unknown settings (expr)."),
        ),
        (
            {"target": "a", "expression": 1},
            RuleError("a", "Rule “a”: its expression must be text."),
        ),
        (
            {"target": "a", "transforms": ["trim"]},
            RuleError(
                "a",
                (
                    "Rule “a”: its transforms must be a list of settings, each with a "
                    "name."
                ),
            ),
        ),
    ],
)
def test_rule_from_dict_refuses_bad_shapes(data, error):
    with pytest.raises(RuleError) as raised:
        Rule.from_dict(data)
    assert raised.value == error


def test_nested_targets_build_nested_objects():
    rules = [
        {
            "target": "name",
            "expression": "trigger.body.account.name",
            "transforms": [{"name": "trim"}],
        },
        {"target": "customer.address.city", "expression": '"Berlin"'},
        {"target": "customer.id", "expression": "trigger.body.account.id"},
        {"target": "categories.9830_2", "expression": "steps.create_ws.workspace_id"},
    ]
    assert apply_mapping(rules, CONTEXT) == {
        "name": "Acme Corp",
        "customer": {"address": {"city": "Berlin"}, "id": 42},
        "categories": {"9830_2": 9830},
    }


def test_clashing_targets_fail_instead_of_overwriting():
    rules = [
        Rule("customer", "trigger.body.account"),
        Rule("customer.name", '"x"'),
        Rule("customer", '"y"'),
    ]
    with pytest.raises(MappingFailed) as failed:
        apply_mapping(rules, CONTEXT)
    assert failed.value.errors == [
        RuleError(
            "customer.name",
            "Rule “customer.name”: another rule already fills “customer” as a whole.",
        ),
        RuleError(
            "customer", "Rule “customer”: another rule already fills this field."
        ),
    ]
    assert CONTEXT["trigger"]["body"]["account"] == {"name": "  Acme Corp ", "id": 42}


def test_mapping_failed_lists_every_error():
    rules = [
        Rule("a", "1 / 0"),
        Rule("b", "v", ({"name": "number"},)),
        Rule("c", "v", ({"name": "nope"},)),
        Rule("d", "v"),
    ]
    with pytest.raises(MappingFailed) as failed:
        apply_mapping(rules, {"v": "abc"})
    assert [error.target for error in failed.value.errors] == ["a", "b", "c"]
    assert str(failed.value) == (
        "Rule “a”: the expression “1 / 0” could not be evaluated: "
        "float division by zero. "
        "Rule “b”: the text “abc” is not a number (the decimal separator is “.”). "
        "Rule “c”: there is no transform called “nope” (known transforms: boolean, "
        "case, concat, date, default, lookup, map, number, regex, string, trim)."
    )
    copy = pickle.loads(pickle.dumps(failed.value))  # noqa: S301 (own data)
    assert copy.errors == failed.value.errors


def test_preview_returns_partial_output_and_per_rule_errors():
    result = preview(
        [Rule("name", "trigger.body.account.name"), Rule("qty", "$sum(", ())],
        CONTEXT,
    )
    assert result == PreviewResult(
        output={"name": "  Acme Corp "},
        errors=[
            RuleError(
                "qty",
                (
                    f"Rule “qty”: the expression “$sum(” is not valid: {NO_CLOSE} (at "
                    f"character 5)."
                ),
            )
        ],
    )
    assert not result.ok
    assert preview([Rule("name", "trigger.body.account.name")], CONTEXT).ok


def test_rule_error_is_a_value_with_a_message():
    error = RuleError("a", "Rule “a”: broken.")
    assert str(error) == "Rule “a”: broken."
    assert error.as_dict() == {"target": "a", "message": "Rule “a”: broken."}
    assert {error, RuleError("a", "Rule “a”: broken.")} == {error}


# --- check_rules ---------------------------------------------------------------------


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")
    city: str
    zip: str | None = None


class CreateFolder(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    parent_id: int
    status: Literal["open", "shipped", "invoiced"] = "open"
    kind: Literal["folder"] = "folder"
    description: str | None
    address: Address | None = None
    amount: float = 0
    active: bool = True
    tags: list[str] = []


SCHEMA = CreateFolder.model_json_schema()


def test_check_rules_finds_every_static_problem():
    rules = [
        {"target": "name", "expression": "$uppercase(trigger.name"},
        {"target": "status", "expression": "s", "transforms": [{"name": "capitalize"}]},
        {"target": "status", "expression": "s", "transforms": [{"name": "case"}]},
        {
            "target": "kind",
            "expression": "k",
            "transforms": [{"name": "case", "to": "camel", "x": 1}],
        },
        {
            "target": "address.city",
            "expression": "c",
            "transforms": [{"name": "lookup", "table": "cities"}],
        },
        {"target": "address.street", "expression": "s"},
        {
            "target": "colour",
            "expression": "c",
            "transforms": [{"name": "regex", "pattern": "(a", "required": "yes"}],
        },
        {
            "target": "amount",
            "expression": "a",
            "transforms": [
                {"name": "date", "from": "d/m/y"},
                {"name": "regex", "pattern": "(a)", "group": 2},
            ],
        },
    ]
    assert [str(error) for error in check_rules(rules, SCHEMA, {"countries": {}})] == [
        (
            f"Rule “name”: the expression “$uppercase(trigger.name” is not valid: "
            f"{NO_CLOSE} (at character 23)."
        ),
        f"Rule “status”: there is no transform called “capitalize” ({KNOWN}).",
        "Rule “status”: the transform “case” needs the option “to”.",
        (
            "Rule “kind”: the option “to” of the transform “case” must be one of "
            "upper, lower, title, not “camel”."
        ),
        "Rule “kind”: the transform “case” has no option “x”.",
        "Rule “address.city”: the lookup table “cities” does not exist.",
        (
            "Rule “colour”: the option “required” of the transform “regex” must be "
            "true or false, not the text “yes”."
        ),
        (
            "Rule “amount”: the option “from” of the transform “date” must be "
            "“iso” or a format using YYYY, MM, DD, HH, mm and ss, not “d/m/y”."
        ),
        "Rule “amount”: the pattern “(a)” has no group 2.",
        "Rule “status”: another rule already fills this field.",
        (
            "Rule “address.street”: the field “address.street” is not an input of this "
            "action."
        ),
        "Rule “colour”: the field “colour” is not an input of this action.",
        "The field “parent_id” is required but no rule fills it.",
        "The field “description” is required but no rule fills it.",
    ]


def test_check_rules_names_the_rule_with_a_syntax_error():
    errors = check_rules([Rule("total", "$sum(lines.price")])
    assert errors == [
        RuleError(
            "total",
            (
                f"Rule “total”: the expression “$sum(lines.price” is not valid: "
                f"{NO_CLOSE} (at character 16)."
            ),
        )
    ]


def test_check_rules_accepts_good_rules():
    rules = [
        Rule("name", "a", ({"name": "trim"}, {"name": "default", "value": "x"})),
        Rule("parent_id", "b", ({"name": "lookup", "table": "ids"},)),
        Rule("description", ""),
        Rule("address.city", "c"),
    ]
    assert check_rules(rules, SCHEMA) == []
    assert check_rules(rules, SCHEMA, {"ids": {}}) == []


def test_required_fields_of_nested_objects_filled_field_by_field():
    assert check_rules(
        [
            Rule("name", "a"),
            Rule("parent_id", "1"),
            Rule("description", ""),
            Rule("address.zip", "z"),
        ],
        SCHEMA,
    ) == [RuleError("", "The field “address.city” is required but no rule fills it.")]


# --- schema validation ---------------------------------------------------------


def schema_errors(output_rules, schema=SCHEMA) -> list[str]:
    return [str(error) for error in preview(output_rules, {}, schema=schema).errors]


def test_valid_output_passes_the_schema():
    rules = [
        Rule("name", '"Q1"'),
        Rule("parent_id", "12"),
        Rule("description", ""),
        Rule("address", '{"city": "Berlin", "zip": null}'),
        Rule("amount", "3"),
        Rule("tags", '["a"]'),
    ]
    result = preview(rules, {}, schema=SCHEMA)
    assert result.errors == []
    CreateFolder.model_validate(result.output)


def test_schema_errors_in_plain_words():
    rules = [
        Rule("name", "1"),
        Rule("parent_id", '"abc"'),
        Rule("status", '"paid"'),
        Rule("kind", '"file"'),
        Rule("active", '"yes"'),
        Rule("amount", "true"),
        Rule("address", '{"zip": 10115, "street": "Main"}'),
        Rule("extra", "1"),
    ]
    assert schema_errors(rules) == [
        "The field “description” is required but no rule fills it.",
        "The field “name” must be text, not the number 1.",
        "The field “parent_id” must be a whole number, not the text “abc”.",
        "The field “status” must be one of open, shipped, invoiced, not “paid”.",
        "The field “kind” must be “folder”, not “file”.",
        "The field “active” must be true or false, not the text “yes”.",
        "The field “amount” must be a number, not the value true.",
        "The field “address.city” is required but no rule fills it.",
        "The field “address.zip” must be text or empty, not the number 10115.",
        "The field “address.street” is not an input of this action.",
        "The field “extra” is not an input of this action.",
    ]


def test_schema_errors_name_the_rule_that_filled_the_field():
    errors = preview(
        [Rule("parent_id", '"abc"'), Rule("address.zip", "1")], {}, schema=SCHEMA
    ).errors
    assert [error.target for error in errors] == [
        "",
        "",
        "parent_id",
        "",
        "address.zip",
    ]


def test_optional_fields_allow_none_and_required_ones_do_not():
    rules = [
        Rule("name", "nothing"),
        Rule("parent_id", "1"),
        Rule("description", "nothing"),
        Rule("address", "nothing"),
    ]
    assert schema_errors(rules) == [
        "The field “name” must be text, but it has no value."
    ]


def test_failed_rules_do_not_also_report_schema_errors():
    rules = [Rule("name", "$("), Rule("parent_id", "1"), Rule("description", "")]
    assert schema_errors(rules) == [
        f"Rule “name”: the expression “$(” is not valid: {NO_CLOSE} (at character 2)."
    ]


def test_integers_are_numbers_but_booleans_are_not_integers():
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer"}, "x": {"type": "number"}},
    }
    assert schema_errors([Rule("n", "3.0"), Rule("x", "3")], schema) == []
    assert schema_errors([Rule("n", "true"), Rule("x", "2.5")], schema) == [
        "The field “n” must be a whole number, not the value true."
    ]
