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
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from lab.evaluation import handbook_protocol, ranking_metrics
from models_ml.features import HISTORY_COLUMNS, build_features
from models_ml.frames import labels_frame, orders_frame
from models_ml.training import model_fit

HISTORY_DAYS = 31 + 7  # the longest window (sawtooth) and the label delay


def _week(raw: pd.DataFrame, train_start: datetime, args: argparse.Namespace) -> dict:
    delay = timedelta(days=args.delay_days)
    train_end = train_start + timedelta(days=args.train_days)
    test_start = train_end + delay
    test_end = test_start + timedelta(days=args.test_days)
    first = train_start - timedelta(days=HISTORY_DAYS)
    rows = raw[(raw["TX_DATETIME"] >= first) & (raw["TX_DATETIME"] < test_end)]
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
    training = ((times >= train_start) & (times < train_end)).to_numpy()
    started = time.perf_counter()
    model = model_fit(features[training], frauds[training])
    fit_s = time.perf_counter() - started
    scores = np.zeros(len(rows))
    testing = (times >= test_start).to_numpy()
    scores[testing] = model.predict_proba(features[testing])[:, 1]
    window = (times >= train_start).to_numpy()
    days = times.dt.tz_convert(None).to_numpy().astype("datetime64[D]").astype(int)
    first_test = int(np.datetime64(test_start.date(), "D").astype(int))
    protocol = dict(
        first_day=int(days[window].min()),
        test_days=range(first_test, first_test + args.test_days),
        delay_days=args.delay_days,
        k=args.k,
    )
    summary, _ = handbook_protocol(
        days[window], customers[window], scores[window], frauds[window], **protocol
    )
    perfect, _ = handbook_protocol(
        days[window],
        customers[window],
        frauds[window].astype(float),
        frauds[window],
        **protocol,
    )
    return {
        "train_start": f"{train_start:%Y-%m-%d}",
        **{k: round(float(v), 4) for k, v in summary.items()},
        "cp_at_k_perfect": round(float(perfect["cp_at_k"]), 4),
        "auc_all_test": round(
            float(ranking_metrics(frauds[testing], scores[testing])["auc"]), 4
        ),
        "orders": len(rows),
        "training_rows": int(training.sum()),
        "features_s": round(features_s, 1),
        "fit_s": round(fit_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.handbook_offline")
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
    args = parser.parse_args()
    raw = pd.read_parquet(
        args.data,
        columns=["TX_DATETIME", "CUSTOMER_ID", "TERMINAL_ID", "TX_AMOUNT", "TX_FRAUD"],
    )
    raw["TX_DATETIME"] = raw["TX_DATETIME"].dt.tz_localize("UTC")
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
