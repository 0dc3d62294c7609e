import pytest

from callqa.config import load_settings
from callqa.errors import ConfigError


def test_defaults_point_at_the_bundled_model_and_scripts():
    s = load_settings()
    assert s.model == "base"
    assert (s.scripts_dir / "stroydom-inbound.yaml").is_file()
    assert s.models_dir.name == "models"


def test_environment_overrides_file_and_file_overrides_defaults(tmp_path, monkeypatch):
    config = tmp_path / "callqa.toml"
    config.write_text('workers = 3\ndb_path = "from-file.duckdb"\n')
    monkeypatch.setenv("CALLQA_CONFIG", str(config))
    monkeypatch.setenv("CALLQA_WORKERS", "4")
    s = load_settings()
    assert s.workers == 4
    assert s.db_path.name == "from-file.duckdb"
    assert load_settings(workers=2).workers == 2


def test_invalid_values_are_reported_with_their_name(monkeypatch):
    monkeypatch.setenv("CALLQA_DEVICE", "tpu")
    with pytest.raises(ConfigError, match="device"):
        load_settings()


def test_unknown_setting_in_file_is_an_error(tmp_path, monkeypatch):
    config = tmp_path / "callqa.toml"
    config.write_text("wokers = 3\n")
    monkeypatch.setenv("CALLQA_CONFIG", str(config))
    with pytest.raises(ConfigError, match="wokers"):
        load_settings()


def test_missing_settings_file_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("CALLQA_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings()
