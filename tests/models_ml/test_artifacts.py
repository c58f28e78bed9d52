import pytest
from sklearn.linear_model import LogisticRegression

from models_ml.artifacts import ArtifactError, artifact_load, artifact_save


def test_saved_model_loads_back_with_its_checksum(trained_artifact, tmp_path):
    _path, _digest, model = trained_artifact
    path, digest = artifact_save(model, tmp_path, "m.skops")

    loaded = artifact_load(path, digest)

    assert type(loaded) is type(model)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_tampered_file_is_refused(trained_artifact, tmp_path):
    _path, _digest, model = trained_artifact
    path, digest = artifact_save(model, tmp_path, "m.skops")
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))

    with pytest.raises(ArtifactError, match="SHA-256"):
        artifact_load(path, digest)


def test_file_with_untrusted_types_is_refused_even_with_matching_checksum(tmp_path):
    import collections

    import numpy as np

    model = LogisticRegression().fit(np.array([[0.0], [1.0]]), [0, 1])
    model.untrusted = collections.Counter("ab")  # a type skops does not trust
    path, digest = artifact_save(model, tmp_path, "evil.skops")

    with pytest.raises(ArtifactError, match="refused by skops"):
        artifact_load(path, digest)


def test_failed_write_leaves_no_partial_file(tmp_path):
    class Unsavable:
        def __reduce__(self):
            raise RuntimeError("boom")

    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever skops raises
        artifact_save(Unsavable(), tmp_path, "bad.skops")

    assert list(tmp_path.iterdir()) == []
