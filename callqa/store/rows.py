"""A call's rows for every table, built where the call was analysed (a thread,
a Dask worker) and loaded set-based by the one writer."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from callqa.store.connection import now
from callqa.types import RecordingMetadata, Transcript, Word

if TYPE_CHECKING:  # only its fields are read: the store never loads the analysis stage
    from callqa.analysis import CallAnalysis

__all__ = ["CallRecord", "CallResult", "Rows", "SeenFile", "call_result", "call_rows", "recording_rows", "score_rows"]


class SeenFile(NamedTuple):
    """A readable recording as a batch found it."""

    path: str
    content_hash: str
    size: int


@dataclass(frozen=True)
class CallRecord:
    """A recording before analysis: its content's hash, where it was found, and its metadata."""

    content_hash: str
    file_path: str
    metadata: RecordingMetadata


class Rows:
    """Rows for several tables, kept column-wise, so that many calls load with one
    set-based insert per table; built where the call was analysed, loaded by the writer."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, list]] = {}

    def add(self, table: str, **row: Any) -> None:
        columns = self.tables.setdefault(table, {})
        for name, value in row.items():
            columns.setdefault(name, []).append(value)

    def extend(self, other: Rows) -> Rows:
        for table, columns in other.tables.items():
            mine = self.tables.setdefault(table, {})
            for name, values in columns.items():
                mine.setdefault(name, []).extend(values)
        return self

    def count(self, table: str) -> int:
        columns = self.tables.get(table)
        return len(next(iter(columns.values()))) if columns else 0


@dataclass(frozen=True)
class CallResult:
    """One analysed call, ready for the writer: its transcript and one script version's verdicts."""

    content_hash: str
    call_id: str
    duration: float
    rows: Rows


def call_result(record: CallRecord, analysis: CallAnalysis, run_id: str | None) -> CallResult:
    """The one place a call's rows are built, for every table it writes."""
    rows = call_rows(record, analysis.transcript, analysis.duration, run_id).extend(score_rows(record.content_hash, analysis, run_id))
    return CallResult(record.content_hash, record.metadata.call_id, analysis.duration, rows)


def call_rows(record: CallRecord, transcript: Transcript, duration: float, run_id: str | None) -> Rows:
    """The call and its transcript (written once per recording content)."""
    rows, h, meta = Rows(), record.content_hash, record.metadata
    rows.add(
        "calls",
        content_hash=h,
        call_id=meta.call_id,
        file_path=record.file_path,
        manager_id=meta.manager_id,
        manager_name=meta.manager_name,
        started_at=meta.started_at,
        direction=meta.direction,
        duration=duration,
        channel_layout=transcript.channel_layout,
        language=transcript.language,
        asr=json.dumps(transcript.asr.to_dict() if transcript.asr else None, ensure_ascii=False),
        warnings=transcript.warnings,
        created_at=now(),
        run_id=run_id,
        manager_ext=meta.manager_ext,
        team=meta.team,
        client_phone_hash=meta.client_phone_hash,
        metadata_sources=list(meta.sources),
    )
    for i, s in enumerate(transcript.segments):
        rows.add(
            "segments",
            content_hash=h,
            idx=i,
            speaker=s.speaker,
            start_s=s.start,
            end_s=s.end,
            text=s.text,
            avg_logprob=s.avg_logprob,
            no_speech_prob=s.no_speech_prob,
            words=_words_json(s.words),
            looped=s.looped,
            overlap=s.overlap,
        )
    return rows


def _words_json(words: list[Word]) -> str | None:
    # A plain dict per word: dataclasses.asdict was most of the cost of a call's rows.
    return json.dumps([{"start": w.start, "end": w.end, "text": w.text, "probability": w.probability} for w in words], ensure_ascii=False) if words else None


def score_rows(content_hash: str, analysis: CallAnalysis, run_id: str | None) -> Rows:
    """One script version's verdicts on one call: replaces that version's earlier rows when loaded."""
    rows, asr = Rows(), analysis.transcript.asr
    key = {"content_hash": content_hash, "script_id": analysis.script_id, "script_version": analysis.script_version}
    sc, m = analysis.scores, analysis.metrics
    rows.add(
        "scores",
        **key,
        model=asr.model if asr and asr.model else "human transcript",
        pipeline_version=asr.pipeline_version if asr else None,
        script_compliance=sc.script_compliance,
        objection_handling=sc.objection_handling,
        overall=sc.overall,
        flags=analysis.flags,
        stop_word_count=len(analysis.stop_words),
        objection_count=len(analysis.objections),
        objections_handled=sum(o.handled for o in analysis.objections),
        manager_talk_seconds=m.manager_talk_seconds,
        client_talk_seconds=m.client_talk_seconds,
        reliability=json.dumps(analysis.reliability),
        options=json.dumps(asdict(analysis.options)),
        created_at=now(),
        run_id=run_id,
    )
    for s in analysis.steps:
        rows.add(
            "step_results",
            **key,
            step_id=s.id,
            status=s.status,
            found=s.found,
            score=s.score,
            start_s=s.start,
            end_s=s.end,
            evidence=s.evidence,
            phrase=s.phrase,
            context=s.context,
            required=s.required,
            on_time=s.on_time,
            in_order=s.in_order,
            uncertain_because=s.uncertain_because,
        )
    for h in analysis.stop_words:
        rows.add(
            "stop_word_hits", **key, stop_word_id=h.id, speaker=h.speaker, start_s=h.start, text=h.text, context=h.context, severity=h.severity, score=h.score
        )
    for seq, o in enumerate(analysis.objections):
        rows.add(
            "objections",
            **key,
            seq=seq,
            objection_id=o.id,
            start_s=o.start,
            text=o.text,
            context=o.context,
            score=o.score,
            handled=o.handled,
            handling_found=o.handling_found,
            handling_missing=o.handling_missing,
            handling=json.dumps([asdict(p) for p in o.handling], ensure_ascii=False),
            answer=o.answer,
        )
        for p in o.handling:
            rows.add(
                "objection_handling",
                **key,
                seq=seq,
                objection_id=o.id,
                part_id=p.id,
                found=p.found,
                score=p.score,
                start_s=p.start,
                text=p.text,
                phrase=p.phrase,
            )
    for flag in analysis.flags:
        rows.add("flags", **key, flag=flag)
    return rows


def recording_rows(recordings: list[SeenFile], run_id: str | None) -> Rows:
    """Every file seen: copies of one content are one call, several recordings."""
    rows, seen = Rows(), now()
    for path, h, size in recordings:
        rows.add("recordings", file_path=path, content_hash=h, size_bytes=size, first_seen=seen, run_id=run_id)
    return rows
