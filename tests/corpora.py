"""The data corpora under `<repo>/../shared/data/`, read in place."""

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def corpus_path(name: str) -> Path:
    """`<repo>/../shared/data/<name>`; fails the calling test, naming the path,
    when it is missing. Call it from a test or fixture, never at import time."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.fail(
            f"test corpus {name!r} not found at {path}: the shared data folder "
            "must sit beside the repository",
            pytrace=False,
        )
    return path


def corpus_names(name: str, pattern: str) -> list[str]:
    """File names in a corpus folder, for parametrize at collection time; none
    if the folder is missing (a test that calls corpus_path then fails)."""
    folder = SHARED_DATA / name
    return sorted(p.name for p in folder.glob(pattern)) if folder.is_dir() else []
