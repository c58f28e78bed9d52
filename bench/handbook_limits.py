"""How much CP@100 the handbook's raw columns allow: the static protocol's ceilings.

    python -m bench.handbook_limits --data FILE [--train-start 2018-07-25 ...]

Each estimate is a ranker that knows which frauds are "detectable" (from
`TX_FRAUD_SCENARIO`, which no model ever sees): it scores detectable frauds 1,
genuine transactions 0 and the other frauds -1 (so no undetectable card gets a
top-k slot through a tie), run through the same `handbook_protocol` as the
model (known cards and cards detected on earlier test days removed, card score
= the card's highest score of the day, ties by card id, capped at k):

* ``perfect``: every fraud (the protocol's own ceiling).
* ``issue``: every scenario-1 and -3 fraud, and a scenario-2 fraud when its
  terminal's first fraud of *any* scenario, anywhere in the file, is at least
  7 calendar days older (the estimate quoted in issue 12).
* ``s2_first_ever``: the same, counting only the terminal's scenario-2 frauds.
* ``episode_days``: the first scenario-2 fraud of the terminal's *current*
  compromise (a gap of more than 28 days starts a new one), ≥ 7 calendar days.
* ``honest``: the same with the label's real known time: the episode's first
  fraud at least `delay` (7 × 24 h) before the transaction, so its label is
  in the features' windows (which end at the order's minute).
* ``honest_s3_ratio``: ``honest``, but a scenario-3 fraud counts only if its
  amount is at least 2.5 × the card's usual amount (mean of its other
  transactions in the window): a ×5 draw below that looks like a genuine
  high-side amount (genuine amounts are N(m, m/2), so 2.5 m is 3 sd).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from bench.handbook_offline import parser_with_protocol, read_raw, week_window

EPISODE_GAP_DAYS = 28  # a compromised terminal's frauds span 28 days
S3_RATIO = 2.5
DAY_NS = 86_400 * 10**9
ESTIMATES = (
    "perfect",
    "issue",
    "s2_first_ever",
    "episode_days",
    "honest",
    "honest_s3_ratio",
)


def episode_first(
    terminals: np.ndarray, times_ns: np.ndarray, s2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each scenario-2 row, the time and day of its terminal's first
    scenario-2 fraud of the same compromise episode (-1 elsewhere)."""
    first_t = np.full(len(terminals), -1, dtype=np.int64)
    first_d = np.full(len(terminals), -1, dtype=np.int64)
    idx = np.flatnonzero(s2)
    if len(idx) == 0:
        return first_t, first_d
    frame = pd.DataFrame({"term": terminals[idx], "t": times_ns[idx], "i": idx})
    frame = frame.sort_values(["term", "t"], kind="stable")
    gap = frame.groupby("term", sort=False)["t"].diff()
    new = gap.isna() | (gap > EPISODE_GAP_DAYS * DAY_NS)
    episode = new.cumsum()
    starts = frame["t"].groupby(episode).transform("min").to_numpy()
    rows = frame["i"].to_numpy()
    first_t[rows] = starts
    first_d[rows] = starts // DAY_NS  # its calendar day (days since the epoch)
    return first_t, first_d


def detectable(
    rows: pd.DataFrame,
    days: np.ndarray,
    delay_days: int,
    first_fraud_day: pd.Series,
    first_s2_day: pd.Series,
) -> dict[str, np.ndarray]:
    """Estimate name → boolean mask of the rows it counts as detectable.

    `days` are the rows' day numbers (days since the epoch, as
    `week_window`); `first_fraud_day` / `first_s2_day` map a terminal to the
    day of its first fraud (any scenario / scenario 2) in the whole file.
    """
    scenario = rows["TX_FRAUD_SCENARIO"].to_numpy()
    fraud = rows["TX_FRAUD"].to_numpy() == 1
    terminals = rows["TERMINAL_ID"].to_numpy()
    times = nanoseconds(rows["TX_DATETIME"])
    s2 = scenario == 2
    s13 = (scenario == 1) | (scenario == 3)
    any_first = first_fraud_day.reindex(terminals).to_numpy(dtype=float)
    s2_first = first_s2_day.reindex(terminals).to_numpy(dtype=float)
    first_t, first_d = episode_first(terminals, times, s2)
    honest = s13 | (s2 & (times - first_t >= delay_days * DAY_NS))
    amounts = rows["TX_AMOUNT"].to_numpy(dtype=float)
    usual = _usual_amount(rows["CUSTOMER_ID"].to_numpy(), amounts, scenario == 3)
    s3_visible = (scenario == 3) & (amounts >= S3_RATIO * usual)
    return {
        "perfect": fraud,
        "issue": s13 | (s2 & (days - any_first >= delay_days)),
        "s2_first_ever": s13 | (s2 & (days - s2_first >= delay_days)),
        "episode_days": s13 | (s2 & (days - first_d >= delay_days)),
        "honest": honest,
        "honest_s3_ratio": (honest & (scenario != 3)) | s3_visible,
    }


def nanoseconds(times: pd.Series) -> np.ndarray:
    """UTC times as integer nanoseconds since the epoch, whatever the unit."""
    naive = times.dt.tz_convert(None).to_numpy().astype("datetime64[ns]")
    ns: np.ndarray = naive.astype(np.int64)
    return ns


def _usual_amount(
    customers: np.ndarray, amounts: np.ndarray, leaked: np.ndarray
) -> np.ndarray:
    """Per row, the mean amount of the card's transactions that are not
    scenario-3 frauds (the card's own spending, uncontaminated)."""
    frame = pd.DataFrame({"c": customers, "a": np.where(leaked, np.nan, amounts)})
    usual: np.ndarray = frame.groupby("c")["a"].transform("mean").to_numpy()
    return usual


def ranker(mask: np.ndarray, fraud: np.ndarray) -> np.ndarray:
    """1 for detectable frauds, 0 for genuine rows, -1 for the other frauds."""
    return np.where(mask, 1.0, np.where(fraud, -1.0, 0.0))


def week_limits(raw: pd.DataFrame, train_start: datetime, args) -> dict:
    win = week_window(raw, train_start, args)
    frauds = raw["TX_FRAUD"].to_numpy() == 1
    terminals = raw["TERMINAL_ID"].to_numpy()
    raw_days = raw["TX_DATETIME"].dt.tz_convert(None).to_numpy()
    raw_days = raw_days.astype("datetime64[D]").astype(int)
    s2 = raw["TX_FRAUD_SCENARIO"].to_numpy() == 2
    first_any = pd.Series(raw_days[frauds]).groupby(terminals[frauds]).min()
    first_s2 = pd.Series(raw_days[s2]).groupby(terminals[s2]).min()
    masks = detectable(win.rows, win.days, args.delay_days, first_any, first_s2)
    fraud = win.rows["TX_FRAUD"].to_numpy() == 1
    out: dict = {"train_start": f"{train_start:%Y-%m-%d}"}
    for name in ESTIMATES:
        summary, days = win.protocol_on(ranker(masks[name], fraud))
        out[name] = round(float(summary["cp_at_k"]), 4)
        # 1.0 on a day would mean more detectable cards than k (capped)
        out[f"{name}_best_day"] = round(max(r.cp_at_k for r in days), 2)
    out["detectable_test_frauds"] = {
        name: int((masks[name] & win.testing).sum()) for name in ESTIMATES
    }
    return out


def main() -> None:
    args = parser_with_protocol("python -m bench.handbook_limits").parse_args()
    raw = read_raw(args.data, ("TX_FRAUD_SCENARIO",))
    weeks = []
    for text in args.train_start:
        start = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
        weeks.append(week_limits(raw, start, args))
        print(json.dumps(weeks[-1]), flush=True)
    for name in ESTIMATES:
        print(f"mean {name}: {np.mean([w[name] for w in weeks]):.4f}")


if __name__ == "__main__":
    main()
