"""Three rule engines on the same 100 rules and one order (64 variables).

    pip install --target /tmp/rules-alt cel-python==0.5.0 rule-engine==5.1.0
    RULES_ALT=/tmp/rules-alt .venv/bin/python -m bench.rules_engines

common-expression-language (the product's, a Rust interpreter) with one
prepared context per order, cel-python (pure Python CEL) and rule-engine.
The two others are not dependencies of the product: install them apart.
"""

from __future__ import annotations

import os
import sys
import time

RULE = "card_country != ip_country && amount > {k}.0 && score > 0.5"


def main() -> None:
    sys.path.append(os.environ.get("RULES_ALT", "/tmp/rules-alt"))
    import cel

    context = {
        "amount": 150.0,
        "card_country": "BR",
        "ip_country": "DE",
        "score": 0.7,
        "channel": "web",
    }
    context.update({f"f{k}": 1.0 for k in range(59)})
    rules = [RULE.format(k=100 + i) for i in range(100)]
    out = {}
    programs = [cel.compile(r) for r in rules]
    n = 2000
    began = time.perf_counter()
    for _ in range(n):
        prepared = cel.Context(context)
        for p in programs:
            p.execute(prepared)
    out["common-expression-language"] = (time.perf_counter() - began) / n * 1e6
    import celpy  # type: ignore[import-not-found]

    env = celpy.Environment()
    compiled = [env.program(env.compile(r)) for r in rules]
    n = 50
    began = time.perf_counter()
    for _ in range(n):
        activation = celpy.json_to_cel(context)
        for p in compiled:
            p.evaluate(activation)
    out["cel-python"] = (time.perf_counter() - began) / n * 1e6
    import rule_engine  # type: ignore[import-not-found]

    engines = [rule_engine.Rule(r.replace("&&", "and")) for r in rules]
    n = 200
    began = time.perf_counter()
    for _ in range(n):
        for r in engines:
            r.matches(context)
    out["rule-engine"] = (time.perf_counter() - began) / n * 1e6
    for name, micros in out.items():
        print(f"{name}: {micros:,.0f} µs per order (100 rules)")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
