"""The handbook's static protocol computed offline: no database, no intake.

    python -m bench.handbook_offline --data FILE [--train-start 2018-07-25 ...]

`manage.py replay --mode static` stores every order and scores the test week
through intake, which reads its features from the tiles. The parity tests
hold those features equal to the offline backfill (`build_features`), so the
same protocol can be computed from one `build_features` call over the file:
history, training and delay weeks labelled `--delay-days` after each order,
the product's estimator (`model_fit`, default parameters, one thread) fitted
on the training week's point-in-time features, the test week scored with the
features it would have had at intake, and the handbook's metrics
(`handbook_protocol`). Much faster than the replay; the replay remains the
end-to-end check.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from lab.evaluation import handbook_protocol, ranking_metrics
from models_ml.features import HISTORY_COLUMNS, build_features
from models_ml.frames import labels_frame, orders_frame
from models_ml.training import model_fit

HISTORY_DAYS = 31 + 7  # the longest window (sawtooth) and the label delay


@dataclass
class Window:
    """The raw rows a static week reads (history … last test day), its day
    numbers and `handbook_protocol`'s arguments."""

    rows: pd.DataFrame
    days: np.ndarray  # integer day numbers
    in_window: np.ndarray  # from the first training day on
    training: np.ndarray
    testing: np.ndarray
    test_start: datetime
    protocol: dict

    def protocol_on(self, scores: np.ndarray) -> tuple[dict, list]:
        """`handbook_protocol` of these transactions under these scores."""
        w = self.in_window
        return handbook_protocol(
            self.days[w],
            self.rows["CUSTOMER_ID"].astype(str).to_numpy()[w],
            np.asarray(scores, dtype=float)[w],
            self.rows["TX_FRAUD"].to_numpy(dtype=int)[w],
            **self.protocol,
        )


def week_window(
    raw: pd.DataFrame, train_start: datetime, args: argparse.Namespace
) -> Window:
    delay = timedelta(days=args.delay_days)
    train_end = train_start + timedelta(days=args.train_days)
    test_start = train_end + delay
    test_end = test_start + timedelta(days=args.test_days)
    first = train_start - timedelta(days=HISTORY_DAYS)
    rows = raw[(raw["TX_DATETIME"] >= first) & (raw["TX_DATETIME"] < test_end)]
    times = rows["TX_DATETIME"]
    window = (times >= train_start).to_numpy()
    days = times.dt.tz_convert(None).to_numpy().astype("datetime64[D]").astype(int)
    first_test = int(np.datetime64(test_start.date(), "D").astype(int))
    return Window(
        rows=rows,
        days=days,
        in_window=window,
        training=((times >= train_start) & (times < train_end)).to_numpy(),
        testing=(times >= test_start).to_numpy(),
        test_start=test_start,
        protocol=dict(
            first_day=int(days[window].min()),
            test_days=range(first_test, first_test + args.test_days),
            delay_days=args.delay_days,
            k=args.k,
        ),
    )


@dataclass
class Week:
    """A static week with the model's features and scores."""

    window: Window
    features: pd.DataFrame
    scores: np.ndarray  # 0 outside the test week
    features_s: float
    fit_s: float


def week_scores(
    raw: pd.DataFrame,
    train_start: datetime,
    args: argparse.Namespace,
    params: dict | None = None,
) -> Week:
    """Features and the fitted model's test-week scores (0 elsewhere)."""
    win = week_window(raw, train_start, args)
    delay = timedelta(days=args.delay_days)
    rows, test_start = win.rows, win.test_start
    times = rows["TX_DATETIME"]
    customers = rows["CUSTOMER_ID"].astype(str).to_numpy()
    terminals = rows["TERMINAL_ID"].astype(str).to_numpy()
    amounts = np.round(rows["TX_AMOUNT"].to_numpy() * 100) / 100
    frauds = rows["TX_FRAUD"].to_numpy(dtype=int)
    moments = times.dt.to_pydatetime()
    orders = orders_frame(
        [t, a, c, c, "", "", "", s, None, "", "", "", "web", 1]
        for t, a, c, s in zip(moments, amounts, customers, terminals, strict=True)
    )
    before_test = (times < test_start).to_numpy()
    labels = labels_frame(
        (t + delay, bool(f), c, c, "", s)
        for t, f, c, s, keep in zip(
            moments, frauds, customers, terminals, before_test, strict=True
        )
        if keep
    )
    started = time.perf_counter()
    features = build_features(orders[HISTORY_COLUMNS], orders, labels)
    features_s = time.perf_counter() - started
    training, testing = win.training, win.testing
    started = time.perf_counter()
    model = model_fit(features[training], frauds[training], params)
    fit_s = time.perf_counter() - started
    scores = np.zeros(len(rows))
    scores[testing] = model.predict_proba(features[testing])[:, 1]
    return Week(win, features, scores, features_s, fit_s)


def _week(raw: pd.DataFrame, train_start: datetime, args: argparse.Namespace) -> dict:
    week = week_scores(raw, train_start, args)
    frauds = week.window.rows["TX_FRAUD"].to_numpy(dtype=int)
    summary, _ = week.window.protocol_on(week.scores)
    perfect, _ = week.window.protocol_on(frauds.astype(float))
    testing = week.window.testing
    return {
        "train_start": f"{train_start:%Y-%m-%d}",
        **{k: round(float(v), 4) for k, v in summary.items()},
        "cp_at_k_perfect": round(float(perfect["cp_at_k"]), 4),
        "auc_all_test": round(
            float(ranking_metrics(frauds[testing], week.scores[testing])["auc"]), 4
        ),
        "orders": len(week.window.rows),
        "training_rows": int(week.window.training.sum()),
        "features_s": round(week.features_s, 1),
        "fit_s": round(week.fit_s, 1),
    }


def read_raw(path: str, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """The file's raw columns (TX_FRAUD_SCENARIO only when asked, never an input)."""
    columns = ["TX_DATETIME", "CUSTOMER_ID", "TERMINAL_ID", "TX_AMOUNT", "TX_FRAUD"]
    raw = pd.read_parquet(path, columns=[*columns, *extra])
    raw["TX_DATETIME"] = raw["TX_DATETIME"].dt.tz_localize("UTC")
    return raw


def parser_with_protocol(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--data", required=True)
    parser.add_argument(
        "--train-start",
        nargs="+",
        default=["2018-07-25", "2018-08-01", "2018-08-08", "2018-08-15"],
    )
    parser.add_argument("--train-days", type=int, default=7)
    parser.add_argument("--delay-days", type=int, default=7)
    parser.add_argument("--test-days", type=int, default=7)
    parser.add_argument("--k", type=int, default=100)
    return parser


def main() -> None:
    args = parser_with_protocol("python -m bench.handbook_offline").parse_args()
    raw = read_raw(args.data)
    weeks = []
    for text in args.train_start:
        start = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
        weeks.append(_week(raw, start, args))
        print(json.dumps(weeks[-1]), flush=True)
    for metric in ("auc", "ap", "cp_at_k"):
        values = [w[metric] for w in weeks if w.get(metric) is not None]
        print(f"mean {metric}: {np.mean(values):.4f}")


if __name__ == "__main__":
    main()
