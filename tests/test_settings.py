from pathlib import Path

import pytest

from passage.errors import PassageError
from passage.settings import Settings, load_settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


@pytest.mark.parametrize("name", list(Settings.model_fields))
def test_readme_documents_every_setting(name):
    assert f"`PASSAGE_{name.upper()}`" in README


def test_readme_settings_table_is_current():
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    from settings_table import readme_with_table

    assert readme_with_table(README) == README, "run: python scripts/settings_table.py --write"


def test_flags_beat_environment_which_beats_defaults(monkeypatch):
    monkeypatch.setenv("PASSAGE_K", "7")
    monkeypatch.setenv("PASSAGE_MODE", "bm25")
    settings = load_settings(k=3, mode=None)
    assert (settings.k, settings.mode) == (3, "bm25")


def test_bad_values_give_one_line():
    with pytest.raises(PassageError, match=r"^invalid setting k: Input should be greater than or equal to 1$"):
        load_settings(k=0)
    with pytest.raises(PassageError, match=r"^invalid setting chroma_url: Value error, must start with http:// or https://$"):
        load_settings(chroma_url="localhost:8000")


def test_api_key_is_never_shown():
    settings = Settings(llm_api_key="sk-very-secret")
    assert "sk-very-secret" not in repr(settings) and "sk-very-secret" not in str(settings.model_dump())
