"""What re-scoring reads: stored transcripts, and each call's latest verdicts per step."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import NamedTuple

from callqa.store.connection import Connection
from callqa.types import AsrRecord, Segment, Speaker, Transcript, Word

__all__ = ["RescoreQueries", "StoredCall", "StoredSegment"]


class StoredSegment(NamedTuple):
    """A row of `segments`, as read; its words still JSON."""

    speaker: Speaker
    start: float
    end: float
    text: str
    avg_logprob: float | None
    no_speech_prob: float | None
    words: str | None
    looped: bool
    overlap: bool


@dataclass(frozen=True)
class StoredCall:
    """A call as read from the file. Its transcript is parsed on demand: re-scoring many
    calls parses them in the worker processes, not all in the one that reads the file."""

    content_hash: str
    call_id: str
    manager_name: str | None
    duration: float
    language: str | None
    channel_layout: str | None
    asr: str | None  # JSON
    warnings: list[str] | None
    segments: list[StoredSegment]

    def transcript(self) -> Transcript:
        segments = [
            Segment(
                s.speaker,
                s.start,
                s.end,
                s.text,
                s.avg_logprob,
                s.no_speech_prob,
                [Word(**w) for w in json.loads(s.words)] if s.words else [],
                s.looped,
                s.overlap,
            )
            for s in self.segments
        ]
        asr = json.loads(self.asr) if self.asr else None
        return Transcript(segments, self.duration, self.language, self.channel_layout, AsrRecord.from_dict(asr) if asr else None, list(self.warnings or []))


class RescoreQueries(Connection):
    def stored_calls(self, script_id: str | None = None) -> list[StoredCall]:
        """Every stored call, or those scored with `script_id`, in call order; transcripts still unparsed."""
        where, params = ("", []) if script_id is None else ("WHERE content_hash IN (SELECT content_hash FROM scores WHERE script_id = ?)", [script_id])
        calls = self.con.execute(
            f"SELECT content_hash, call_id, manager_name, duration, language, channel_layout, asr, warnings FROM calls {where} ORDER BY started_at, call_id",
            params,
        ).fetchall()
        segments: dict[str, list[StoredSegment]] = {c[0]: [] for c in calls}
        rows = self.con.execute(
            f"SELECT content_hash, speaker, start_s, end_s, text, avg_logprob, no_speech_prob, words, looped, overlap FROM segments {where} ORDER BY content_hash, idx",
            params,
        ).fetchall()
        for row in rows:
            segments[row[0]].append(StoredSegment(*row[1:]))
        return [
            StoredCall(h, call_id, manager_name, duration, language, channel_layout, asr, warnings, segments[h])
            for h, call_id, manager_name, duration, language, channel_layout, asr, warnings in calls
        ]

    def step_verdicts(self, script_id: str) -> dict[str, tuple[int, dict[str, str]]]:
        """For each call scored with `script_id`: its latest script version and every step's status there."""
        rows = self.con.execute(
            """
            SELECT r.content_hash, r.script_version, r.step_id, r.status FROM step_results r
            JOIN (SELECT content_hash, max(script_version) AS v FROM scores WHERE script_id = ? GROUP BY 1) latest
              ON r.content_hash = latest.content_hash AND r.script_version = latest.v
            WHERE r.script_id = ?
            """,
            [script_id, script_id],
        ).fetchall()
        verdicts: dict[str, tuple[int, dict[str, str]]] = {}
        for h, version, step_id, status in rows:
            verdicts.setdefault(h, (version, {}))[1][step_id] = status
        return verdicts
