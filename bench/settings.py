"""Settings for benchmark servers: production settings plus the floor endpoint."""

from riskreview.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
