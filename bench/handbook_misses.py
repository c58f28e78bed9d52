"""Which detectable frauds the model leaves out of the day's top k, and why.

    python -m bench.handbook_misses --data FILE [--train-start 2018-07-25 ...]

Runs the offline harness (`handbook_offline.week_scores`) and walks the
protocol's test days as `handbook_protocol` does (known and already detected
cards removed). For every card with a fraud that `handbook_limits` counts as
detectable ("honest") but that is not in the day's top k, it prints one JSON
row with the features of the card's best-scored detectable fraud; then a
summary per scenario and the make-up of the top k.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from bench.handbook_limits import DAY_NS, detectable, episode_first, nanoseconds
from bench.handbook_offline import parser_with_protocol, read_raw, week_scores
from lab.evaluation import handbook_known_cards
from models_ml.metrics import top_k_cards

SHOWN = (
    "amount",
    "amount_vs_customer_mean_1d",
    "amount_vs_customer_mean_7d",
    "amount_vs_customer_mean_30d",
    "customer_orders_30d",
    "seller_fraud_labels_7d",
    "seller_fraud_labels_30d",
    "seller_fraud_rate_30d",
)


def week_misses(raw: pd.DataFrame, train_start: datetime, args) -> list[dict]:
    week = week_scores(raw, train_start, args)
    win = week.window
    rows, days, w = win.rows, win.days, win.in_window
    cards = rows["CUSTOMER_ID"].astype(str).to_numpy()
    fraud = rows["TX_FRAUD"].to_numpy(dtype=int)
    scenario = rows["TX_FRAUD_SCENARIO"].to_numpy()
    times = nanoseconds(rows["TX_DATETIME"])
    empty = pd.Series(dtype=float)
    honest = detectable(rows, days, args.delay_days, empty, empty)["honest"]
    first_t, _ = episode_first(rows["TERMINAL_ID"].to_numpy(), times, scenario == 2)
    s3_before = _earlier_s3(cards, times, scenario == 3)
    detected: set = set()
    out = []
    for day in win.protocol["test_days"]:
        known = handbook_known_cards(
            days[w], cards[w], fraud[w], win.protocol["first_day"], day, args.delay_days
        )
        on = (days == day) & ~np.isin(cards, list(known | detected))
        top, compromised = top_k_cards(cards[on], fraud[on], week.scores[on], args.k)
        detected.update(top[compromised > 0].tolist())
        fill: Counter[str] = Counter()
        for card in top:
            mine = on & (cards == card)
            best = int(scenario[mine].max())
            fill[f"s{best}" if fraud[mine].any() else "genuine"] += 1
        card_scores = pd.Series(week.scores[on]).groupby(cards[on]).max()
        ranks = card_scores.rank(ascending=False, method="first")
        kth = float(card_scores.nlargest(args.k).min())  # the k-th card's score
        for card in np.unique(cards[on & honest]):
            if card in set(top.tolist()):
                continue
            mine = np.flatnonzero(on & honest & (cards == card))
            i = mine[np.argmax(week.scores[mine])]
            row = {
                "week": f"{train_start:%Y-%m-%d}",
                "day": str(np.datetime64(int(day), "D")),
                "card": card,
                "scenario": int(scenario[i]),
                "score": round(float(week.scores[i]), 4),
                "kth_score": round(kth, 4),
                "card_rank": int(ranks[card]),
                **{f: round(float(week.features[f].iloc[i]), 3) for f in SHOWN},
                "top_k_fill": dict(fill),
            }
            if scenario[i] == 2:
                row["days_since_label_known"] = round(
                    (times[i] - first_t[i]) / DAY_NS - args.delay_days, 2
                )
            if scenario[i] == 3:
                row["earlier_s3_frauds_30d"] = int(s3_before[i])
            out.append(row)
    return out


def _earlier_s3(cards: np.ndarray, times: np.ndarray, s3: np.ndarray) -> np.ndarray:
    """Per row, the card's scenario-3 frauds in the 30 days before it."""
    out = np.zeros(len(cards), dtype=int)
    frame = pd.DataFrame({"c": cards[s3], "t": times[s3]})
    by_card = {c: np.sort(g["t"].to_numpy()) for c, g in frame.groupby("c")}
    for i in np.flatnonzero(s3):
        t = by_card[cards[i]]
        lo = np.searchsorted(t, times[i] - 30 * DAY_NS)
        out[i] = np.searchsorted(t, times[i]) - lo
    return out


def main() -> None:
    args = parser_with_protocol("python -m bench.handbook_misses").parse_args()
    raw = read_raw(args.data, ("TX_FRAUD_SCENARIO",))
    misses = []
    for text in args.train_start:
        start = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
        week = week_misses(raw, start, args)
        for row in week:
            print(json.dumps(row), flush=True)
        misses += week
    frame = pd.DataFrame(misses)
    print(frame.groupby(["week", "scenario"]).size().unstack(fill_value=0))
    shown = ["score", "card_rank", *SHOWN]
    print(frame.groupby("scenario")[shown].median().T)


if __name__ == "__main__":
    main()
