"""The rule language: CEL (github.com/google/cel-spec), through the
`common-expression-language` bindings (a Rust interpreter).

CEL is not Turing-complete: no loops, no recursion, no I/O; an expression
reads the variables it is given and nothing else. What a rule may read is the
catalogue below, and nothing else: the order's fields, its features (the
names the explanations use), the model's score and list membership.

Numbers that have no value (a feature without history, such as a fraud rate
with no labels in its window, or the score when the tenant has no model yet)
are null. Comparing null with a number is an error in CEL: the rule is then
skipped for that order and counted (`Rule.run_errors`), unless the rule
guards it (`has_score && score > 0.8`, `customer_fraud_rate_7d != null &&
…`: CEL's && and || absorb an error when the other side decides).
An e-mail is compared in lower case, as lists store it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError

from models_ml.features import FEATURE_NAMES

MAX_EXPRESSION = 2000
# A comprehension's cost is its range's size times its body's: one nested in
# another (or ranging over another's result) multiplies, and 2000 characters
# of nesting ran for minutes. At most one level, and literals kept small (a
# longer list of values belongs on the block or allow list).
MAX_LITERAL_ITEMS = 100
MAX_ITEMS_IN_COMPREHENSION = 20
MACROS = frozenset(["all", "exists", "exists_one", "map", "filter"])
ENTITY_TYPES = ("card", "email", "device", "ip", "customer", "seller")
# Order field → CEL type, in the API's names.
ORDER_VARIABLES: dict[str, str] = {
    "order_id": "string",
    "amount": "double",
    "currency": "string",
    "customer_id": "string",
    "email": "string",
    "device_id": "string",
    "ip_address": "string",
    "card_fingerprint": "string",
    "card_bin": "string",
    "card_country": "string",
    "billing_country": "string",
    "billing_postcode": "string",
    "shipping_country": "string",
    "shipping_postcode": "string",
    "seller_id": "string",
    "channel": "string",
    "item_count": "int",
    "created_at": "timestamp",
    "account_created_at": "timestamp or null",
    "attributes": "map",
}
FEATURE_VARIABLES = [f for f in FEATURE_NAMES if f not in ORDER_VARIABLES]
OTHER_VARIABLES: dict[str, str] = {
    "score": "double (null without a model)",
    "has_score": "bool",
    "block": "map: block.card, block.email, block.device, block.ip, "
    "block.customer, block.seller (bool)",
    "allow": "map: allow.card, … as for block",
}
VARIABLES = frozenset([*ORDER_VARIABLES, *FEATURE_VARIABLES, *OTHER_VARIABLES])
# CEL's standard functions that the interpreter provides (operators such as
# _>_ and @in are always allowed).
FUNCTIONS = frozenset(
    [
        "size",
        "contains",
        "startsWith",
        "endsWith",
        "matches",
        "int",
        "uint",
        "double",
        "string",
        "bool",
        "bytes",
        "timestamp",
        "duration",
        "has",
        "all",
        "exists",
        "exists_one",
        "map",
        "filter",
        "type",
        "dyn",
        "max",
        "min",
        "getFullYear",
        "getMonth",
        "getDayOfMonth",
        "getDate",
        "getDayOfWeek",
        "getDayOfYear",
        "getHours",
        "getMinutes",
        "getSeconds",
        "getMilliseconds",
    ]
)
_POSITION = re.compile(r"<input>:(\d+):(\d+): ([^\n]*)")
_MACRO_VARIABLE = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*(\w+)")


class RuleRuntimeError(Exception):
    """A rule could not be evaluated on one order (type mismatch, missing key)."""

    def __init__(self, message: str, *, missing_key: bool = False) -> None:
        super().__init__(message)
        self.missing_key = missing_key


@dataclass(frozen=True)
class Compiled:
    program: Any  # cel.Program
    variables: frozenset[str]


def _position(source: str, name: str) -> tuple[int, int]:
    match = re.search(rf"\b{re.escape(name)}\b", source)
    return _line_column(source, match.start() if match else 0)


def _line_column(source: str, offset: int) -> tuple[int, int]:
    line = source.count("\n", 0, offset) + 1
    column = offset - (source.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _error(line: int, column: int, message: str) -> ValidationError:
    return ValidationError({"expression": [f"Line {line}, column {column}: {message}"]})


@lru_cache(maxsize=4096)
def _compile(expression: str) -> Compiled:
    import cel

    program = cel.compile(expression)
    own = set(_MACRO_VARIABLE.findall(expression))
    return Compiled(program, frozenset(set(program.variables()) - own))


@lru_cache(maxsize=4096)
def rule_compile(expression: str) -> Compiled:
    """Compile and check an expression; a ValidationError on "expression"
    says what is wrong and where (line, column).

    Checked: syntax, unknown variables and functions, and a trial evaluation
    on two sample orders that must give true or false (type errors such as
    comparing a string with a number). A branch the samples do not reach can
    still fail on a real order: that order is then skipped by the rule and
    counted (`Rule.run_errors`).
    """
    if not expression.strip():
        raise _error(1, 1, "The rule is empty.")
    if len(expression) > MAX_EXPRESSION:
        raise _error(1, 1, f"At most {MAX_EXPRESSION} characters.")
    try:
        compiled = _compile(expression)
    except ValueError as exc:
        found = _POSITION.search(str(exc))
        if found:
            raise _error(int(found[1]), int(found[2]), found[3]) from None
        raise _error(1, 1, str(exc).splitlines()[0]) from None
    _check_cost(expression)
    for name in sorted(compiled.variables - VARIABLES):
        raise _error(*_position(expression, name), f"Unknown variable '{name}'.")
    for name in compiled.program.functions():
        if name[0] not in "_@!" and name not in FUNCTIONS:
            raise _error(*_position(expression, name), f"Unknown function '{name}'.")
    for sample in _samples():
        try:
            rule_evaluate(compiled, sample)
        except RuleRuntimeError as exc:
            if not exc.missing_key:  # attributes differ from order to order
                raise _error(1, 1, f"Type error: {exc}") from None
    return compiled


@dataclass
class _Group:
    opener: str
    offset: int
    comprehension: bool = False
    items: int = 0
    new_item: bool = True
    has_comprehension: bool = False  # somewhere inside
    chain: bool = False  # the operand being read holds a comprehension


_TOKEN = re.compile(
    r"""(?P<space>\s+|//[^\n]*)"""
    r"""|(?P<string>(?:[rRbB]{1,2})?(?:'{3}|"{3}|'|"))"""
    r"""|(?P<ident>[A-Za-z_]\w*)"""
    r"""|(?P<number>[0-9][\w.]*(?:[eE][+-]?\d+)?)"""
    r"""|(?P<other>.)""",
    re.DOTALL,
)
_OPERATORS = frozenset("+-*/%<>=!&|?:,")


def _check_cost(expression: str) -> None:
    """Refuse what could make one evaluation expensive (see MACROS): a
    comprehension inside another's arguments or range, a literal of more than
    MAX_LITERAL_ITEMS, more than MAX_ITEMS_IN_COMPREHENSION literal items in
    a comprehension's arguments. Runs on an expression that parses."""
    stack = [_Group("", 0)]
    previous = ""  # the previous significant token
    built = 0  # literal items inside comprehensions
    at = 0
    while at < len(expression):
        token = _TOKEN.match(expression, at)
        assert token is not None
        kind, text, start = token.lastgroup, token.group(), at
        at = token.end()
        if kind == "space":
            continue
        top = stack[-1]
        if top.opener in "[{" and top.new_item and text not in ",]}":
            top.items += 1
            top.new_item = False
            if top.items > MAX_LITERAL_ITEMS:
                raise _error(
                    *_line_column(expression, top.offset),
                    f"A list or map literal has at most {MAX_LITERAL_ITEMS} items "
                    "(put longer lists of values on the block or allow list).",
                )
            if any(g.comprehension for g in stack):
                built += 1  # built again for every item of the range
                if built > MAX_ITEMS_IN_COMPREHENSION:
                    raise _error(
                        *_line_column(expression, top.offset),
                        f"At most {MAX_ITEMS_IN_COMPREHENSION} list or map items "
                        "inside a comprehension (all, exists, exists_one, map, "
                        "filter).",
                    )
        if kind == "string":
            at = _string_end(expression, at, text)
        elif kind == "ident" and text in MACROS and previous == ".":
            rest = expression[at:].lstrip()
            if rest.startswith("("):
                if top.chain or any(g.comprehension for g in stack):
                    raise _error(
                        *_line_column(expression, start),
                        f"'{text}' inside another comprehension (all, exists, "
                        "exists_one, map, filter) or over its result: at most "
                        "one level.",
                    )
                at = at + len(expression[at:]) - len(rest) + 1
                stack.append(_Group("(", start, comprehension=True))
                for group in stack:
                    group.has_comprehension = True
                previous = "("
                continue
        elif text in "([{":
            stack.append(_Group(text, start))
        elif text in ")]}" and len(stack) > 1:
            closed = stack.pop()
            stack[-1].chain |= closed.has_comprehension
        elif text == "," and top.opener in "[{":
            top.new_item = True
            top.chain = False
        elif (text in _OPERATORS or text == "in") and not (
            text == "?" and previous in ".["  # optional selection: a.?b, a[?b]
        ):
            top.chain = False
        previous = text


def _string_end(expression: str, at: int, opening: str) -> int:
    """The offset after the string literal whose opening (prefix and quote)
    ends at `at`."""
    quote = opening.lstrip("rRbB")
    raw = "r" in opening.lower()[: len(opening) - len(quote)]
    while at < len(expression):
        if expression.startswith(quote, at):
            return at + len(quote)
        at += 2 if expression[at] == "\\" and not raw else 1
    return at


def rule_evaluate(compiled: Compiled, context: Mapping[str, Any]) -> bool:
    """True or false for one order's context (`order_context`); anything else,
    or any failure, raises RuleRuntimeError."""
    return rule_execute(
        compiled, {k: context[k] for k in compiled.variables if k in context}
    )


def cel_context(context: dict[str, Any]) -> Any:
    """A prepared CEL context: its values are converted once, however many
    rules then read it (100 rules on one order: 0.1 ms instead of 1 ms)."""
    import cel

    return cel.Context(context)


def rule_execute(compiled: Compiled, variables: Any) -> bool:
    """`rule_evaluate` on exactly the variables the rule reads (a dict), or on
    a `cel_context`."""
    try:
        result = compiled.program.execute(variables)
    except Exception as exc:  # the interpreter raises several kinds
        raise RuleRuntimeError(
            _short(exc), missing_key=isinstance(exc, KeyError)
        ) from None
    if not isinstance(result, bool):
        raise RuleRuntimeError(
            f"a rule must be true or false; this one gave {type(result).__name__}"
        )
    return result


def _short(exc: Exception) -> str:
    text = str(exc).split(". ")[0]
    if isinstance(exc, KeyError):
        text = f"no such key: {text}"
    return text[:300]


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def order_context(
    fields: Mapping[str, Any],
    features: Mapping[str, Any],
    score: float | None,
    listed: Iterable[tuple[str, str]] = (),
    wanted: Iterable[str] | None = None,
) -> dict[str, Any]:
    """The variables of one order, as rules see them.

    `fields`: the order's fields by API name; `features`: by feature name
    (None or NaN when missing); `listed`: the (kind, entity type) pairs the
    order is on; `wanted`: only these variables (what the rules read), all
    when None. Live intake and the backtest both build contexts here.
    """
    names = VARIABLES if wanted is None else set(wanted)
    on = set(listed)
    context: dict[str, Any] = {}
    for name in names:
        if name in ORDER_VARIABLES:
            context[name] = _field(name, fields.get(name))
        elif name in ("score", "has_score"):
            context[name] = variable_value(name, score)
        elif name in ("block", "allow"):
            context[name] = variable_value(name, on)
        else:
            context[name] = _number(features.get(name))
    return context


def variable_value(name: str, value: Any, **_: Any) -> Any:
    """One variable's value as rules see it, from its raw value: an order
    field's, a feature's, the score (for `score` and `has_score`), or the
    order's (kind, entity type) list pairs (for `block` and `allow`)."""
    if name in ORDER_VARIABLES:
        return _field(name, value)
    if name == "has_score":
        return _number(value) is not None
    if name in ("block", "allow"):
        pairs = set(value)
        return {t: (name, t) in pairs for t in ENTITY_TYPES}
    return _number(value)


def _field(name: str, value: Any) -> Any:
    kind = ORDER_VARIABLES[name]
    if kind == "string":
        text = "" if value is None else str(value)
        return text.lower() if name == "email" else text
    if kind == "double":
        return _number(value)
    if kind == "int":
        return 0 if value is None else int(value)
    if kind == "map":
        return dict(value or {})
    return value  # a timestamp (aware datetime) or None


def _samples() -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    full = {
        name: {
            "string": "x",
            "double": 100.0,
            "int": 1,
            "timestamp": now,
            "timestamp or null": now,
            "map": {},
        }[kind]
        for name, kind in ORDER_VARIABLES.items()
    }
    empty = {**{k: "" for k in full}, "amount": 0, "item_count": 0}
    empty.update(created_at=now, account_created_at=now, attributes={})
    return [
        order_context(full, dict.fromkeys(FEATURE_NAMES, 1.0), 0.5),
        order_context(
            empty,
            dict.fromkeys(FEATURE_NAMES, 0.0),
            0.0,
            [(k, t) for k in ("block", "allow") for t in ENTITY_TYPES],
        ),
    ]
