"""Replay a labelled order file through the product; see lab/replay/.

Run it on a throwaway database, never on one with real orders:

    createdb -h 127.0.0.1 -U postgres riskreview_replay
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/riskreview_replay
    python manage.py migrate
    python manage.py replay --data FILE --mapping handbook --mode static \\
        --train-start 2018-07-25 --json static.json

Any other labelled order file works through a column mapping: each --map names
the column that feeds an order field, or is_fraud for the truth (columns
already named like a field need none), for example

    python manage.py replay --data shop.csv --map id=order_id \\
        --map placed=created_at --map user=customer_id --map total=amount \\
        --map chargeback=is_fraud --mode live --start 2026-01-01 --days 28 --k 50
"""

from __future__ import annotations

import json
import math
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from tqdm import tqdm

from lab.replay import (
    MAPPING_PRESETS,
    LiveConfig,
    ReplayRefused,
    StaticConfig,
    mapping_build,
    replay_live_run,
    replay_static_run,
)

_DAY_COLUMNS = [
    ("day", "day", "{}"),
    ("orders", "orders", "{}"),
    ("rows", "rows", "{}"),
    ("frauds", "frauds", "{}"),
    ("cards", "compromised_cards", "{}"),
    ("cases", "cases", "{}"),
    ("expl", "exploration", "{}"),
    ("audit", "audit", "{}"),
    ("reviewed", "reviewed", "{}"),
    ("found", "reviewed_frauds", "{}"),
    ("prop", "propagated_frauds", "{}"),
    ("rules", "rule_frauds", "{}"),
    ("cb", "chargebacks", "{}"),
    ("ok", "confirmed_legitimate", "{}"),
    ("matured", "matured", "{}"),
    ("thresh", "review_threshold", "{:.3f}"),
    ("labels", "labels", "{}"),
    ("model", "model_version", "v{}"),
    ("AUC", "auc", "{:.3f}"),
    ("AP", "ap", "{:.3f}"),
    ("P@k", "p_at_k", "{:.3f}"),
    ("CP@k", "cp_at_k", "{:.3f}"),
    ("CP@k end", "cp_at_k_final", "{:.3f}"),
]


class Command(BaseCommand):
    help = (
        "Replay a labelled order file day by day through intake, scoring, the "
        "queue, simulated reviewers, chargebacks and retraining. Works on the "
        "database DATABASE_URL names and refuses one that holds orders unless "
        "--reset (which deletes them)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", type=Path, required=True, help="CSV or Parquet")
        parser.add_argument("--mode", choices=["static", "live"], required=True)
        parser.add_argument(
            "--mapping", choices=sorted(MAPPING_PRESETS), help="A built-in mapping."
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="SOURCE=FIELD",
            help="Read a field (an order field, or is_fraud for the truth) from a "
            "column; repeatable, wins over --mapping.",
        )
        parser.add_argument("--k", type=int, default=100, help="Reviews a day.")
        parser.add_argument("--delay-days", type=int, default=7)
        parser.add_argument(
            "--warmup-days",
            type=int,
            help="Days of history before the first replayed day (default: what "
            "the features look back on).",
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=10_000,
            help="Orders per intake batch (a day's orders, in time order).",
        )
        parser.add_argument("--json", type=Path, help="Write the results here.")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete all orders, cases, labels, scores and model versions first.",
        )
        parser.add_argument(
            "--model-dir",
            type=Path,
            help="Where models go (default: MODEL_DIR/replay-<database name>).",
        )
        parser.add_argument(
            "--run-tasks",
            action="store_true",
            help="Run the re-scoring a promotion asks for in process; by "
            "default it is skipped.",
        )
        static = parser.add_argument_group("static mode (the handbook protocol)")
        static.add_argument("--train-start", type=date.fromisoformat)
        static.add_argument("--train-days", type=int, default=7)
        static.add_argument("--test-days", type=int, default=7)
        live = parser.add_argument_group("live mode (the learning loop)")
        live.add_argument("--start", type=date.fromisoformat)
        live.add_argument("--days", type=int)
        live.add_argument("--end", type=date.fromisoformat, help="Last day, included.")
        live.add_argument(
            "--retrain-every-days",
            type=int,
            default=LiveConfig.retrain_every_days,
            help="Train every N days at the day's start (default 1: the product's "
            "nightly training; 7: weekly, as the earlier replays).",
        )
        live.add_argument(
            "--exploration-share", type=float, default=settings.QUEUE_EXPLORATION_SHARE
        )
        live.add_argument(
            "--audit-share", type=float, default=settings.QUEUE_AUDIT_SHARE
        )
        live.add_argument(
            "--review-threshold",
            type=float,
            help="Orders from this probability on become cases (default: set "
            "after each new model to what would have queued 2 k orders a day "
            "over the week before).",
        )
        live.add_argument(
            "--decline-threshold",
            type=float,
            default=LiveConfig.decline_threshold,
            help="Orders from this probability on are declined, not queued.",
        )
        live.add_argument(
            "--confirm-legitimate",
            action="store_true",
            help="Confirm orders without a chargeback as legitimate after the "
            "delay (the handbook's assumption); by default only frauds are "
            "reported.",
        )
        live.add_argument(
            "--no-gate",
            action="store_true",
            help="Promote on the newest labels' holdout, not the unbiased gate.",
        )
        live.add_argument(
            "--maturity-days",
            type=int,
            help="Approved orders become legitimate labels after this many days "
            "(default: --delay-days; 0: never).",
        )
        live.add_argument(
            "--review-rounds",
            type=int,
            default=4,
            help="The day's reviews in this many rounds, each fraud decision "
            "re-scoring its linked orders before the next (1: no propagation).",
        )
        live.add_argument(
            "--static-json",
            type=Path,
            action="append",
            default=[],
            help="A static run's --json: its test week's share of the perfect "
            "CP@k is shown beside the live week that starts on the same day.",
        )
        live.add_argument("--seed", type=int, default=0)

    def handle(self, *args: object, **options: Any) -> None:
        _check_positive(options, "k", "delay_days", "chunk_size", "train_days")
        _check_positive(options, "test_days", "retrain_every_days")
        try:
            mapping = mapping_build(options["mapping"], options["map"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        model_dir = options["model_dir"] or (
            settings.MODEL_DIR / f"replay-{connection.settings_dict['NAME']}"
        )
        bar = tqdm(
            unit="order",
            file=sys.stderr,
            disable=options["verbosity"] == 0,
            smoothing=0.05,
        )

        def progress(rows: int, note: str, total: int) -> None:
            if bar.total != total:
                bar.total = total
            bar.set_postfix_str(note, refresh=False)
            bar.update(rows)

        try:
            with bar:
                result = self._run(
                    options,
                    mapping,
                    progress,
                    model_dir=model_dir,
                    rescore=options["run_tasks"],
                )
        except (ValidationError, ReplayRefused) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [exc]
            raise CommandError("; ".join(str(m) for m in messages)) from exc
        self._report(result)
        if options["json"]:
            options["json"].write_text(json.dumps(_json_safe(result), indent=2) + "\n")
            self.stdout.write(f"results written to {options['json']}")

    def _run(
        self, options: dict, mapping: dict, progress: Any, **training: Any
    ) -> dict:
        common = {
            "k": options["k"],
            "delay_days": options["delay_days"],
            "warmup_days": options["warmup_days"],
            "chunk_size": options["chunk_size"],
        }
        if options["mode"] == "static":
            if options["train_start"] is None:
                raise CommandError("--mode static needs --train-start")
            config = StaticConfig(
                train_start=options["train_start"],
                train_days=options["train_days"],
                test_days=options["test_days"],
                **common,
            )
            return replay_static_run(
                options["data"],
                mapping,
                config,
                reset=options["reset"],
                progress=progress,
                **training,
            )
        live = LiveConfig(
            start=options["start"] or _missing("--start"),
            days=_live_days(options),
            retrain_every_days=options["retrain_every_days"],
            exploration_share=options["exploration_share"],
            audit_share=options["audit_share"],
            review_threshold=options["review_threshold"],
            decline_threshold=options["decline_threshold"],
            confirm_legitimate=options["confirm_legitimate"],
            gate=not options["no_gate"],
            maturity_days=options["maturity_days"],
            review_rounds=options["review_rounds"],
            seed=options["seed"],
            **common,
        )
        if min(live.exploration_share, live.audit_share) < 0 or (
            live.exploration_share + live.audit_share >= 1
        ):
            raise CommandError("the shares must be >= 0, exploration + audit < 1")
        review = live.review_threshold
        if not 0 <= (review or 0) <= live.decline_threshold <= 1:
            raise CommandError("need 0 <= review threshold <= decline threshold <= 1")
        if live.review_rounds < 1 or (live.maturity_days or 0) < 0:
            raise CommandError("need --review-rounds >= 1 and --maturity-days >= 0")
        result = replay_live_run(
            options["data"],
            mapping,
            live,
            reset=options["reset"],
            progress=progress,
            **training,
        )
        _static_beside(result["weeks"], options["static_json"])
        return result

    def _report(self, result: dict) -> None:
        rows = [_cells(day) for day in result["days"]]
        widths = [
            max(len(header), *(len(r[i]) for r in rows))
            for i, (header, _key, _fmt) in enumerate(_DAY_COLUMNS)
        ]
        present = [
            i
            for i, (_h, key, _f) in enumerate(_DAY_COLUMNS)
            if any(key in day for day in result["days"])
        ]
        line = "  ".join(_DAY_COLUMNS[i][0].rjust(widths[i]) for i in present)
        self.stdout.write(line)
        for row in rows:
            self.stdout.write("  ".join(row[i].rjust(widths[i]) for i in present))
        for week in result.get("weeks", []):
            self.stdout.write(
                f"week {week['week']} ({week['first_day']} … {week['last_day']}): "
                f"CP@k {_fmt(week['cp_at_k'])} "
                f"(perfect {_fmt(week['cp_at_k_perfect'])}, "
                f"share {_pct(week.get('share_of_perfect'))}; after same-day "
                f"re-scoring {_fmt(week.get('cp_at_k_final'))}, "
                f"{_pct(week.get('final_share_of_perfect'))}; static "
                f"{_pct(week.get('static_share_of_perfect'))})  "
                f"AP {_fmt(week['ap'])}  AUC {_fmt(week['auc'])}  "
                f"labels {week['labels']}  frauds found by reviewers "
                f"{week['reviewed_frauds']}, of them after propagation "
                f"{week.get('propagated_frauds', 0)}; frauds declined by rules "
                f"{week.get('rule_frauds', 0)}"
            )
        summary = result["summary"]
        self.stdout.write(
            f"{result['mode']}: AUC {_fmt(summary['auc'])}  AP {_fmt(summary['ap'])}  "
            f"P@{summary['k']} {_fmt(summary['p_at_k'])}  "
            f"CP@{summary['k']} {_fmt(summary['cp_at_k'])}  "
            f"({summary['seconds']['total']:.0f} s)"
        )


def _cells(day: dict) -> list[str]:
    cells = []
    for _header, key, fmt in _DAY_COLUMNS:
        value = day.get(key)
        cells.append("-" if value is None else fmt.format(value))
    return cells


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _static_beside(weeks: list[dict], paths: list[Path]) -> None:
    """Put each static run's share of the perfect CP@k beside the live week
    that starts on its first test day."""
    for path in paths:
        static = json.loads(path.read_text())
        config = static["config"]
        first = date.fromisoformat(str(config["train_start"])[:10]) + timedelta(
            days=config["train_days"] + config["delay_days"]
        )
        for week in weeks:
            if week["first_day"] == f"{first:%Y-%m-%d}":
                week["static_share_of_perfect"] = static["summary"][
                    "cp_at_k_share_of_perfect"
                ]


def _missing(option: str) -> Any:
    raise CommandError(f"--mode live needs {option}")


def _live_days(options: dict) -> int:
    if options["days"] is not None and options["end"] is not None:
        raise CommandError("give --days or --end, not both")
    if options["end"] is not None:
        days = (options["end"] - options["start"]) // timedelta(days=1) + 1
    elif options["days"] is not None:
        days = options["days"]
    else:
        raise CommandError("--mode live needs --days or --end")
    if days < 1:
        raise CommandError("the replay needs at least one day")
    return days


def _check_positive(options: dict, *names: str) -> None:
    for name in names:
        if options[name] is not None and options[name] < 1:
            raise CommandError(f"--{name.replace('_', '-')} must be at least 1")


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _json_safe(value.item())
    return value
