"""Paths of the bundled samples, and a helper to copy them into a test folder."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SCRIPTS = ROOT / "scripts_library"


def copy_call(call_id: str, folder: Path, name: str | None = None) -> Path:
    """Copy a bundled sample call and its sidecar into `folder`."""
    audio = next(p for p in (EXAMPLES / "calls").glob(f"{call_id}.*") if p.suffix != ".json")
    target = folder / ((name or call_id) + audio.suffix)
    shutil.copyfile(audio, target)
    shutil.copyfile(audio.with_suffix(".json"), target.with_suffix(".json"))
    return target
