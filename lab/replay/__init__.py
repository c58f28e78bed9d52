"""Replaying a labelled order file through the product, day by day.

`replay_static_run` follows the Fraud Detection Handbook's protocol (train a
week, wait for the labels, test a week); `replay_live_run` runs the learning
loop from a cold start with simulated reviewers and chargebacks. Both use the
real intake, scoring, queue and training services on whatever database
DATABASE_URL names, so run them on a throwaway one.
"""

from lab.replay.live import LiveConfig, replay_live_run
from lab.replay.source import MAPPING_PRESETS, mapping_build
from lab.replay.static import StaticConfig, replay_static_run
from lab.replay.world import ReplayRefused

__all__ = [
    "MAPPING_PRESETS",
    "LiveConfig",
    "ReplayRefused",
    "StaticConfig",
    "mapping_build",
    "replay_live_run",
    "replay_static_run",
]
