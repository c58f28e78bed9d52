"""Saving and loading model files: atomic writes, checksums, skops (no pickle)."""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

# The only non-default type an HGB classifier needs. Anything else in a file is
# refused by skops, so a crafted file cannot run code when it is loaded.
TRUSTED_TYPES = ["sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"]


class ArtifactError(Exception):
    """A model file is missing, altered, or from another library version."""


def artifact_save(model: Any, directory: Path, name: str) -> tuple[Path, str]:
    """Write `model` to directory/name atomically; return its path and SHA-256.

    The bytes go to a temporary file in the same directory, are fsynced, then
    renamed over the final name: a crash leaves either no file or a whole one.
    """
    import skops.io

    data = skops.io.dumps(model)
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / name
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, final)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return final, hashlib.sha256(data).hexdigest()


# skops' loader checks its own recursion depth in shared state, so two threads
# loading at once (concurrent promotions probing their files) refuse each other
# ("AST constructor recursion depth mismatch").
_SKOPS_LOCK = threading.Lock()


def artifact_load(path: Path, sha256: str) -> Any:
    """Load a model file after checking it is byte for byte the one we wrote."""
    import skops.io

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ArtifactError(f"cannot read model file {path}: {exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise ArtifactError(
            f"model file {path} has SHA-256 {digest}, expected {sha256}: refused"
        )
    try:
        with _SKOPS_LOCK:
            return skops.io.loads(data, trusted=TRUSTED_TYPES)
    except Exception as exc:  # skops raises several types for untrusted content
        raise ArtifactError(f"model file {path} refused by skops: {exc}") from exc
