"""The corpora helper fails the test that needs a missing corpus, naming the path."""

import pytest

from tests import corpora


def test_missing_corpus_fails_the_test_naming_its_path(tmp_path, monkeypatch):
    monkeypatch.setattr(corpora, "SHARED_DATA", tmp_path)

    with pytest.raises(pytest.fail.Exception, match=str(tmp_path / "no-such-corpus")):
        corpora.corpus_path("no-such-corpus")


def test_missing_corpus_folder_parametrizes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(corpora, "SHARED_DATA", tmp_path)

    assert corpora.corpus_names("no-such-corpus", "*.json") == []


def test_present_corpus_is_found_in_place(tmp_path, monkeypatch):
    (tmp_path / "suite").mkdir()
    (tmp_path / "suite" / "b.json").write_text("[]")
    (tmp_path / "suite" / "a.json").write_text("{}")
    monkeypatch.setattr(corpora, "SHARED_DATA", tmp_path)

    assert corpora.corpus_path("suite") == tmp_path / "suite"
    assert corpora.corpus_names("suite", "*.json") == ["a.json", "b.json"]
