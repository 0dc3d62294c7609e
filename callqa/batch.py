"""Batch stage: find recordings not yet processed, read their metadata,
and process one call. The Prefect flow in flows/ only orchestrates these.

A call is keyed by the SHA-256 of its file content plus the script id and
version, so a re-run, or the same file under another name, adds nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from callqa.config import ChannelLayout, Settings
from callqa.errors import CallQAError, MetadataError
from callqa.hashing import file_sha256
from callqa.pipeline import analyze_audio
from callqa.scoring import CallAnalysis
from callqa.scripts import Script, find_script
from callqa.store import CallRecord, Store

__all__ = ["AUDIO_EXTENSIONS", "BatchPlan", "CallJob", "plan_batch", "process_call"]

AUDIO_EXTENSIONS = frozenset({".wav", ".mp3", ".ogg", ".opus", ".oga", ".m4a", ".aac", ".flac", ".webm"})
_CHANNEL_LAYOUTS = ("manager-left", "client-left", "mono")


@dataclass(frozen=True)
class CallJob:
    record: CallRecord
    script: Script
    channels: ChannelLayout


@dataclass(frozen=True)
class PlanFailure:
    file_path: str
    content_hash: str | None
    stage: str
    error: CallQAError


@dataclass
class BatchPlan:
    found: int = 0
    jobs: list[CallJob] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already done, or failed for good before
    failures: list[PlanFailure] = field(default_factory=list)


def read_metadata(path: Path) -> dict:
    """The sidecar `<name>.json` next to a recording, checked, or {} when there is none."""
    sidecar = path.with_suffix(".json")
    if not sidecar.exists():
        return {}
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise MetadataError(f"{sidecar.name}: not valid JSON ({exc})", hint="fix or delete the sidecar file") from None
    if not isinstance(data, dict):
        raise MetadataError(f"{sidecar.name}: must be a JSON object", hint='e.g. {"manager_id": "m-1", "script": "stroydom-inbound"}')
    if "channels" in data and data["channels"] not in _CHANNEL_LAYOUTS:
        raise MetadataError(f"{sidecar.name}: channels must be one of {', '.join(_CHANNEL_LAYOUTS)}, not {data['channels']!r}")
    return data


def _parse_time(value: object, sidecar: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise MetadataError(f"{sidecar}: started_at {value!r} is not an ISO date-time", hint="write it as 2026-11-20T10:15:00") from None


def _job(path: Path, digest: str, settings: Settings, script_override: str | None, scripts: dict[str, Script]) -> CallJob:
    meta = read_metadata(path)
    sidecar = path.with_suffix(".json").name
    channels = meta.get("channels", settings.channels)
    script_ref = script_override or meta.get("script") or settings.default_script
    if not script_ref:
        raise MetadataError(f"{path.name}: no script for this recording", hint='add "script": "<id>" to its sidecar JSON, pass --script, or set default_script')
    record = CallRecord(
        content_hash=digest, call_id=str(meta.get("call_id") or path.stem), file_path=str(path),
        manager_id=meta.get("manager_id"), manager_name=meta.get("manager_name"),
        started_at=_parse_time(meta.get("started_at"), sidecar), direction=meta.get("direction"),
    )
    # Loaded once per batch, not per process: a long-running `callqa serve` picks up edited scripts.
    if script_ref not in scripts:
        scripts[script_ref] = find_script(str(script_ref), settings.scripts_dir)
    return CallJob(record, scripts[script_ref], channels)


def plan_batch(folder: Path, store: Store, settings: Settings, script_override: str | None = None, force: bool = False) -> BatchPlan:
    """Every recording under `folder` that still needs processing, as jobs."""
    if not folder.is_dir():
        raise CallQAError(f"recordings folder {folder} does not exist", hint="pass an existing folder or set recordings_dir")
    plan = BatchPlan()
    done = set() if force else store.done_keys()
    failed_for_good = set() if force else store.terminal_failures()
    seen: set[tuple[str, str, int]] = set()
    scripts: dict[str, Script] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS):
        plan.found += 1
        digest = None
        try:
            digest = file_sha256(path)
            if digest in failed_for_good:
                plan.skipped.append(str(path))
                continue
            job = _job(path, digest, settings, script_override, scripts)
        except CallQAError as exc:
            plan.failures.append(PlanFailure(str(path), digest, "metadata", exc))
            continue
        except OSError as exc:
            plan.failures.append(PlanFailure(str(path), digest, "read", CallQAError(f"{path.name}: cannot read file ({exc.strerror})", hint="check file permissions")))
            continue
        key = (digest, job.script.id, job.script.version)
        if key in done or key in seen:  # processed before, or a copy of a file already in this batch
            plan.skipped.append(str(path))
            continue
        seen.add(key)
        plan.jobs.append(job)
    return plan


def process_call(job: CallJob, settings: Settings) -> CallAnalysis:
    """Transcribe and analyse one call; raises CallQAError subclasses on bad input."""
    return analyze_audio(job.record.file_path, job.script, settings, channels=job.channels, call_id=job.record.call_id, manager=job.record.manager_name)
