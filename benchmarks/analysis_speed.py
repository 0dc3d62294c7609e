"""Speed of the analysis after transcription. Prints one JSON object.

    .venv/bin/python benchmarks/analysis_speed.py [--calls 10000] [--workers 2] [--sparse]

1. One 10-minute call (the reference dialogues of examples/ laid end to end)
   against a 30-step script (stroydom-inbound's steps three times over, with
   its stop-word and objection catalogues): cold (first call in the process)
   and warm (median of 20).
2. `callqa script test` work: re-scoring N stored calls in a DuckDB file
   (the 10 Russian sample transcripts copied under new hashes with SQL,
   set-based) with a new script version, no ASR.

--sparse keeps two wordings a step, as QA leads write scripts: every step then takes its
step type's wordings and is searched for its key words too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from callqa.analysis import analyze_transcript
from callqa.rescore import try_script
from callqa.scripts import load_script
from callqa.store import CallRecord, Store
from callqa.types import RecordingMetadata, Segment, Transcript, transcript_from_dict

ROOT = Path(__file__).resolve().parent.parent


def _references() -> list[tuple[str, Transcript]]:
    paths = sorted((ROOT / "examples" / "reference").glob("ru-*.json"))
    return [(p.stem, transcript_from_dict(json.loads(p.read_text(encoding="utf-8")))) for p in paths]


def _ten_minute_call(references) -> Transcript:
    segments, offset = [], 0.0
    while offset < 600:
        for _, t in references:
            segments += [Segment(s.speaker, s.start + offset, s.end + offset, s.text) for s in t.segments]
            offset += t.duration
    return Transcript([s for s in segments if s.end <= 600], 600.0, "ru")


def _thirty_steps(script):
    steps = [s.model_copy(update={"id": f"{s.id}_{n}"}) for n in range(3) for s in script.steps]
    return script.model_copy(update={"steps": steps})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--sparse", action="store_true", help="two wordings a step (step types and key words apply)")
    args = parser.parse_args()
    base = load_script(ROOT / "scripts_library" / "stroydom-inbound.yaml")
    if args.sparse:
        base = base.model_copy(update={"steps": [s.model_copy(update={"phrases": s.phrases[:2]}) for s in base.steps]})
    script = _thirty_steps(base)
    references = _references()
    call = _ten_minute_call(references)
    started = time.perf_counter()
    analyze_transcript(call, script)
    cold = time.perf_counter() - started
    warm = []
    for _ in range(20):
        started = time.perf_counter()
        analyze_transcript(call, script)
        warm.append(time.perf_counter() - started)

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "rescore.duckdb"
        with Store(db) as store:
            for call_id, t in references:
                store.save_call(
                    CallRecord(call_id, f"{call_id}.mp3", RecordingMetadata(call_id, "m-1", "Анна Иванова")),
                    analyze_transcript(t, base, call_id, manager="Анна Иванова"),
                    None,
                )
            copies = -(-args.calls // len(references))
            # Set-based copies: every row of the 10 calls, once per copy, under a derived hash.
            for table in ("calls", "segments", "scores", "step_results"):
                columns = [r[0] for r in store.con.execute(f"DESCRIBE {table}").fetchall()]
                select = ", ".join("md5(content_hash || '-' || i::VARCHAR)" if c == "content_hash" else c for c in columns)
                store.con.execute(f"INSERT INTO {table} SELECT {select} FROM {table}, range(1, {copies}) t(i)")
            stored = store.con.execute("SELECT count(*) FROM calls").fetchone()[0]
        new = base.model_copy(update={"version": 2})
        with Store(db, read_only=True) as store:
            started = time.perf_counter()
            trial = try_script(store, new, workers=args.workers)
            rescore = time.perf_counter() - started
    print(
        json.dumps(
            {
                "script": "stroydom-inbound, two wordings a step" if args.sparse else "stroydom-inbound",
                "ten_minute_call": {
                    "segments": len(call.segments),
                    "words": sum(len(s.text.split()) for s in call.segments),
                    "script_steps": len(script.steps),
                    "stop_words": len(script.stop_words),
                    "objections": len(script.objections),
                    "cold_ms": round(cold * 1000, 1),
                    "warm_median_ms": round(statistics.median(warm) * 1000, 1),
                    "target_ms": 50,
                },
                "rescore": {
                    "stored_calls": stored,
                    "rescored": trial.calls,
                    "workers": args.workers,
                    "seconds": round(rescore, 1),
                    "calls_per_second": round(trial.calls / rescore),
                    "changed": len(trial.changed),
                    "target_seconds_for_10000": 60,
                },
                "machine": {"cpus": len(os.sched_getaffinity(0))},
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
