"""bench.handbook_limits: which scenario-2 frauds each estimate counts."""

import numpy as np
import pandas as pd

from bench.handbook_limits import detectable, episode_first, nanoseconds, ranker

DAY = pd.Timedelta(days=1)


def _rows() -> pd.DataFrame:
    """Terminal T: an old unrelated scenario-1 fraud, then a compromise that
    starts on 07-01 12:00; a second compromise of T after a 40-day gap."""
    t0 = pd.Timestamp("2018-07-01 12:00", tz="UTC")
    rows = [
        (t0 - 30 * DAY, "c1", "T", 300.0, 1, 1),  # scenario 1, long before
        (t0, "c2", "T", 10.0, 1, 2),  # the compromise's first fraud
        (t0 + 7 * DAY - pd.Timedelta(hours=2), "c3", "T", 10.0, 1, 2),  # day 7, 10:00
        (t0 + 7 * DAY + pd.Timedelta(hours=1), "c4", "T", 10.0, 1, 2),  # label known
        (t0 + 47 * DAY, "c5", "T", 10.0, 1, 2),  # a new compromise
        (t0 + 2 * DAY, "c6", "U", 50.0, 1, 3),  # a leaked card, ×5
        (t0, "c6", "U", 10.0, 0, 0),
        (t0 + DAY, "c6", "U", 10.0, 0, 0),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "TX_DATETIME",
            "CUSTOMER_ID",
            "TERMINAL_ID",
            "TX_AMOUNT",
            "TX_FRAUD",
            "TX_FRAUD_SCENARIO",
        ],
    )
    return frame


def _masks() -> dict[str, np.ndarray]:
    rows = _rows()
    days = rows["TX_DATETIME"].dt.tz_convert(None).to_numpy().astype("datetime64[D]")
    days = days.astype(int)
    fraud = rows["TX_FRAUD"] == 1
    s2 = rows["TX_FRAUD_SCENARIO"] == 2
    first_any = pd.Series(days[fraud]).groupby(rows["TERMINAL_ID"][fraud].to_numpy())
    first_s2 = pd.Series(days[s2]).groupby(rows["TERMINAL_ID"][s2].to_numpy())
    return detectable(rows, days, 7, first_any.min(), first_s2.min())


def test_episodes_restart_after_a_gap_longer_than_28_days():
    rows = _rows()
    times = nanoseconds(rows["TX_DATETIME"])
    s2 = (rows["TX_FRAUD_SCENARIO"] == 2).to_numpy()
    first_t, _ = episode_first(rows["TERMINAL_ID"].to_numpy(), times, s2)
    assert first_t[1] == first_t[2] == first_t[3] == times[1]
    assert first_t[4] == times[4]
    assert first_t[0] == -1


def test_issue_estimate_counts_a_terminal_known_only_for_an_unrelated_fraud():
    masks = _masks()
    # c2 is the compromise's first fraud: unknown to anyone, but the issue's
    # rule sees the scenario-1 fraud 30 days before and counts it.
    assert masks["issue"][1]
    assert not masks["s2_first_ever"][1]
    assert not masks["honest"][1]


def test_honest_estimate_waits_for_the_label_not_the_calendar_day():
    masks = _masks()
    # c3: 7 calendar days after the first fraud, 22 hours short of its label.
    assert masks["episode_days"][2]
    assert not masks["honest"][2]
    assert masks["honest"][3]


def test_a_new_compromise_is_not_known_from_the_previous_one():
    masks = _masks()
    assert masks["s2_first_ever"][4]
    assert not masks["episode_days"][4]
    assert not masks["honest"][4]


def test_scenario_three_counts_unless_its_amount_looks_usual():
    masks = _masks()
    assert masks["honest"][5]
    assert masks["honest_s3_ratio"][5]  # 50 against a usual 10
    scores = ranker(masks["honest"], _rows()["TX_FRAUD"].to_numpy() == 1)
    assert scores.tolist() == [1, -1, -1, 1, -1, 1, 0, 0]
