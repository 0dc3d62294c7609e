"""Batch stage: find the recordings not yet processed, read their metadata,
and process one call. The Prefect flows in flows/ only orchestrate these.

A call is keyed by the SHA-256 of its file content plus the script id and
version, so a re-run, or the same file under another name, adds nothing.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from pathlib import Path

from callqa.config import Settings
from callqa.errors import CallQAError, MetadataError
from callqa.hashing import file_sha256
from callqa.ingest import MetadataReader
from callqa.pipeline import analyze_audio
from callqa.scripts import Script, find_script
from callqa.store import CallRecord, CallResult, Failure, SeenFile, call_result
from callqa.types import ChannelLayout

__all__ = ["AUDIO_EXTENSIONS", "BatchPlan", "CallJob", "plan_batch", "process_call"]

AUDIO_EXTENSIONS = frozenset({".wav", ".mp3", ".ogg", ".opus", ".oga", ".m4a", ".aac", ".flac", ".webm"})


@dataclass(frozen=True)
class CallJob:
    record: CallRecord
    script: Script
    channels: ChannelLayout


@dataclass
class BatchPlan:
    found: int = 0
    jobs: list[CallJob] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already done, a copy of another file, or failed for good before
    failures: list[Failure] = field(default_factory=list)
    recordings: list[SeenFile] = field(default_factory=list)  # every readable file
    scripts: list[str] = field(default_factory=list)  # "id vN" of the scripts the jobs use


def _script(ref: str | None, path: Path, settings: Settings, scripts: dict[tuple[str, bool], Script], from_data: bool) -> Script:
    if not ref:
        raise MetadataError(
            f"{path.name}: no script for this recording", hint='add "script": "<id>" to its sidecar JSON or manifest row, pass --script, or set default_script'
        )
    # Loaded once per batch, not per process: a long-running `callqa serve` picks up edited scripts.
    if (ref, from_data) not in scripts:
        scripts[ref, from_data] = find_script(ref, settings.scripts_dir, from_data)
    return scripts[ref, from_data]


def _recordings(folder: Path) -> list[Path]:
    """Files with an audio extension, broken links included: they must fail visibly, not vanish."""
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and (p.is_file() or p.is_symlink()))


def plan_batch(
    folder: Path,
    settings: Settings,
    done: AbstractSet[tuple[str, str, int]] = frozenset(),
    failed_for_good: AbstractSet[str] = frozenset(),
    script_override: str | None = None,
) -> BatchPlan:
    """Every recording under `folder` that still needs processing, as jobs; `done` are the
    (hash, script id, version) keys already scored, `failed_for_good` hashes not to try again."""
    if not folder.is_dir():
        raise CallQAError(f"recordings folder {folder} does not exist", hint="pass an existing folder or set recordings_dir")
    reader = MetadataReader(folder, settings)
    plan = BatchPlan()
    seen: set[tuple[str, str, int]] = set()
    scripts: dict[tuple[str, bool], Script] = {}
    for path in _recordings(folder):
        plan.found += 1
        digest = None
        try:
            digest = file_sha256(path)
            plan.recordings.append(SeenFile(str(path), digest, path.stat().st_size))
            if digest in failed_for_good:
                plan.skipped.append(str(path))
                continue
            meta = reader.read(path)
            # The operator's --script and default_script are trusted; a sidecar's or manifest's names a script in scripts_dir.
            from_data = not script_override and bool(meta.script)
            script = _script(script_override or meta.script or settings.default_script, path, settings, scripts, from_data)
        except CallQAError as exc:
            plan.failures.append(Failure.of(str(path), digest, "metadata", exc))
            continue
        except OSError as exc:
            error = CallQAError(
                f"{path.name}: cannot read file ({exc.strerror or exc})", hint="check that the file exists (not a broken link) and its permissions"
            )
            plan.failures.append(Failure.of(str(path), digest, "read", error))
            continue
        key = (digest, script.id, script.version)
        if key in done or key in seen:  # processed before, or a copy of a file already in this batch
            plan.skipped.append(str(path))
            continue
        seen.add(key)
        plan.jobs.append(CallJob(CallRecord(digest, str(path), meta), script, meta.channels or settings.channels))
    plan.scripts = sorted({f"{s.id} v{s.version}" for s in scripts.values()})
    return plan


def process_call(job: CallJob, settings: Settings, run_id: str | None = None) -> CallResult:
    """Transcribe and analyse one call into the rows to store; where it ran is kept with the call.
    Raises CallQAError subclasses on bad input."""
    meta = job.record.metadata
    analysis = analyze_audio(job.record.file_path, job.script, settings, channels=job.channels, call_id=meta.call_id, manager=meta.manager_name)
    if analysis.transcript.asr:
        analysis.transcript.asr = replace(analysis.transcript.asr, worker=f"{socket.gethostname()}:{os.getpid()}")
    return call_result(job.record, analysis, run_id)
