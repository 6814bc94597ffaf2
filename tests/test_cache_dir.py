"""The per-user folder of the commands' embedding store (``get_cache_dir``)."""

from pathlib import Path

import pytest

from sklearn_pos import get_cache_dir
from sklearn_pos.store import CACHE_ENV


@pytest.fixture
def clean_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


def test_default_is_under_the_home_cache(clean_environment):
    folder = get_cache_dir()
    assert folder == clean_environment / "home" / ".cache" / "sklearn_pos"
    assert folder.is_dir()


def test_xdg_cache_home_is_followed(clean_environment, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(clean_environment / "xdg"))
    assert get_cache_dir() == clean_environment / "xdg" / "sklearn_pos"
    monkeypatch.setenv("XDG_CACHE_HOME", "")  # empty: as if unset
    assert get_cache_dir().parent.name == ".cache"


def test_the_environment_variable_wins_over_xdg(clean_environment, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(clean_environment / "xdg"))
    monkeypatch.setenv(CACHE_ENV, "~/embeddings")
    assert get_cache_dir() == clean_environment / "home" / "embeddings"


def test_an_explicit_folder_wins(clean_environment, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(clean_environment / "env"))
    given = clean_environment / "given" / "deeper"
    assert get_cache_dir(given) == given and given.is_dir()
    assert isinstance(get_cache_dir(str(given)), Path)
    assert not (clean_environment / "env").exists()


def test_a_folder_that_cannot_be_created_raises(clean_environment):
    a_file = clean_environment / "a-file"
    a_file.write_text("x")
    with pytest.raises(OSError):
        get_cache_dir(a_file / "store")
