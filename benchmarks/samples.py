"""Whole pipeline over the bundled sample calls: speed, memory, and accuracy
against the hand labels in examples/reference. Prints one JSON object.

    .venv/bin/python benchmarks/samples.py [--text-only]

--text-only analyses the reference transcripts instead of the audio (no ASR).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from collections import Counter
from pathlib import Path

from callqa.asr import get_transcriber
from callqa.config import load_settings
from callqa.pipeline import analyze_audio
from callqa.scoring import analyze_transcript
from callqa.scripts import find_script
from callqa.transcript import transcript_from_dict

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _prf(tp: int, fp: int, fn: int) -> dict:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3), "tp": tp, "fp": fp, "fn": fn}


def _count(found: Counter, expected: Counter) -> tuple[int, int, int]:
    tp = sum((found & expected).values())
    return tp, sum(found.values()) - tp, sum(expected.values()) - tp


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--text-only", action="store_true")
    args = parser.parse_args()
    settings = load_settings()
    if not args.text_only:
        get_transcriber(settings)  # model load is not per-call work
    totals = {k: [0, 0, 0] for k in ("steps", "stop_words", "objections")}
    handled_right = handled_total = 0
    audio_seconds = wall = 0.0
    per_call = []
    for ref_path in sorted((EXAMPLES / "reference").glob("*.json")):
        ref = json.loads(ref_path.read_text(encoding="utf-8"))
        meta = json.loads((EXAMPLES / "calls" / ref_path.name).read_text(encoding="utf-8"))
        script = find_script(meta["script"], settings.scripts_dir)
        audio = next(p for p in (EXAMPLES / "calls").glob(f"{ref['call_id']}.*") if p.suffix != ".json")
        started = time.perf_counter()
        if args.text_only:
            result = analyze_transcript(transcript_from_dict(ref), script, ref["call_id"])
        else:
            result = analyze_audio(audio, script, settings, channels=meta["channels"], call_id=ref["call_id"])
        elapsed = time.perf_counter() - started
        wall += elapsed
        audio_seconds += ref["duration"]
        expected = ref["expected"]
        pairs = {
            "steps": (Counter(s.id for s in result.steps if s.found), Counter(expected["steps_present"])),
            "stop_words": (Counter(h.id for h in result.stop_words), Counter(expected.get("stop_words", []))),
            "objections": (Counter(o.id for o in result.objections), Counter(o["id"] for o in expected.get("objections", []))),
        }
        for kind, (found, wanted) in pairs.items():
            totals[kind] = [a + b for a, b in zip(totals[kind], _count(found, wanted))]
        verdicts = {o.id: o.handled for o in result.objections}
        for o in expected.get("objections", []):
            if o["id"] in verdicts:
                handled_total += 1
                handled_right += verdicts[o["id"]] == o["handled"]
        per_call.append({"call_id": ref["call_id"], "channels": meta["channels"], "seconds": round(elapsed, 2),
                         "missed_steps": sorted((pairs["steps"][1] - pairs["steps"][0]).elements()),
                         "extra_steps": sorted((pairs["steps"][0] - pairs["steps"][1]).elements())})
    print(json.dumps({
        "mode": "text" if args.text_only else "audio",
        "calls": len(per_call),
        "audio_seconds": round(audio_seconds, 1),
        "wall_seconds": round(wall, 1),
        "audio_seconds_per_wall_second": round(audio_seconds / wall, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "steps": _prf(*totals["steps"]),
        "stop_words": _prf(*totals["stop_words"]),
        "objection_detection": _prf(*totals["objections"]),
        "handled_accuracy": round(handled_right / handled_total, 3) if handled_total else None,
        "machine": {"cpus": len(__import__("os").sched_getaffinity(0)), "python": platform.python_version(),
                    "model": settings.model, "device": get_transcriber(settings).options.device if not args.text_only else None},
        "per_call": per_call,
    }, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
