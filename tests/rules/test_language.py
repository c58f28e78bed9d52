import math

import pytest
from django.core.exceptions import ValidationError

from rules.language import (
    RuleRuntimeError,
    order_context,
    rule_compile,
    rule_evaluate,
)


def _message(expression: str) -> str:
    with pytest.raises(ValidationError) as info:
        rule_compile(expression)
    return info.value.message_dict["expression"][0]


def test_syntax_error_names_line_and_column():
    assert _message("amount > ").startswith("Line 1, column 10: Syntax error")


def test_syntax_error_on_a_later_line_names_that_line():
    assert _message("amount > 10.0 &&\n  card_country ==").startswith("Line 2,")


def test_unknown_variable_is_refused_where_it_stands():
    assert _message("amount > 1.0 && ip_country == 'BR'") == (
        "Line 1, column 17: Unknown variable 'ip_country'."
    )


def test_unknown_function_is_refused():
    assert "Unknown function 'lowerAscii'" in _message("email.lowerAscii() == 'a'")


def test_comparing_a_string_with_a_number_is_a_type_error():
    assert "Type error" in _message('amount > "100"')


def test_a_rule_that_is_not_true_or_false_is_refused():
    assert "true or false" in _message("amount + 1.0")


def test_macro_variables_are_not_unknown_variables():
    compiled = rule_compile("['a@x.com', 'b@x.com'].exists(e, e == email)")
    assert compiled.variables == {"email"}


def test_rule_reads_fields_features_score_and_lists():
    compiled = rule_compile(
        "card_country != billing_country && customer_orders_1d >= 2.0"
        " && score > 0.5 && !allow.customer && block.ip"
    )
    context = order_context(
        {"card_country": "BR", "billing_country": "DE"},
        {"customer_orders_1d": 3.0},
        0.7,
        [("block", "ip")],
    )
    assert rule_evaluate(compiled, context) is True


def test_comparing_a_missing_feature_is_a_run_time_error():
    compiled = rule_compile("customer_fraud_rate_7d > 0.1")
    context = order_context({}, {"customer_fraud_rate_7d": math.nan}, None)
    with pytest.raises(RuleRuntimeError):
        rule_evaluate(compiled, context)


def test_a_guarded_rule_on_a_missing_score_does_not_match():
    compiled = rule_compile("has_score && score > 0.5")
    assert rule_evaluate(compiled, order_context({}, {}, None)) is False


def test_email_is_compared_in_lower_case():
    compiled = rule_compile("email == 'ana@example.com'")
    assert rule_evaluate(compiled, order_context({"email": "Ana@Example.COM"}, {}, 0))


DIGITS = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"


def nested_comprehensions(depth: int) -> str:
    """e(k+1) = L.all(v_k, e(k) && v_k >= 0): 10^depth evaluations."""
    expression = "true"
    for k in range(depth):
        expression = f"{DIGITS}.all(v{k}, {expression} && v{k} >= 0)"
    return expression


def test_a_comprehension_inside_another_is_refused_where_it_stands():
    message = _message(nested_comprehensions(8))

    column = len(f"{DIGITS}.all(v7, {DIGITS}.") + 1
    assert message.startswith(f"Line 1, column {column}: 'all' inside another")
    assert "at most one level" in message


def test_a_comprehension_over_another_ones_result_is_refused():
    # Each link doubles the lists: exponential without any nesting.
    message = _message(f"size([{DIGITS}.map(x, [x, x])].map(y, y + y)) > 0")

    assert "'map' inside another comprehension" in message


def test_one_level_of_comprehensions_still_checks_and_evaluates():
    compiled = rule_compile(
        f"{DIGITS}.all(v, v >= 0) && attributes.exists(k, k == 'a.all(') == false"
    )

    assert rule_evaluate(compiled, {"attributes": {"b": 1}}) is True


def test_a_list_literal_is_capped():
    values = ", ".join(["'x'"] * 101)

    assert "at most 100 items" in _message(f"card_bin in [{values}]")


def test_lists_built_inside_a_comprehension_are_capped():
    values = ", ".join(["'x'"] * 21)

    before = f"{DIGITS}.exists(v, card_bin in "
    message = _message(f"{before}[{values}])")

    assert message.startswith(f"Line 1, column {len(before) + 1}: At most 20 list")
