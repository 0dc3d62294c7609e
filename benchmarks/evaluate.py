"""Accuracy of the analysis against hand labels, and its speed. Prints one JSON object.

    .venv/bin/python benchmarks/evaluate.py [--set eval|examples] [--audio]

--set eval      the held-out evaluation set, benchmarks/eval/dialogues (default)
--set dev       the development set, benchmarks/dev/dialogues: the wordings the script phrases are tuned on
--set examples  the bundled sample calls, examples/ (the dialogues the script phrases were first written against)
--set blind     the script-blind businesses, benchmarks/blind/<business>/ (script.yaml written from the brief alone,
                dialogues written by others from the brief alone); --split tune|held|all picks the businesses
                named in benchmarks/blind/split.yaml (tuning may look at `tune` only; `held` is measured once, at the end)
--only ID...    only the dialogues whose call_id matches one of these glob patterns (e.g. 'dev-ru-5[1-9]' 'dev-en-1?')
--errors        print the summary and the per-dialogue misses/false hits only, one line per dialogue
--audio         run the whole pipeline (decoding, Whisper, analysis) on the rendered calls of the set;
                without it, analyse the text: reference transcripts with real rendered times where a call
                was rendered, else the dialogue's turns with times estimated from their length.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import platform
import re
import resource
import time
from collections import Counter, defaultdict
from pathlib import Path

import yaml
from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

from callqa.analysis import analyze_transcript
from callqa.config import load_settings
from callqa.pipeline import analyze_audio
from callqa.scripts import find_script
from callqa.types import transcript_from_dict

ROOT = Path(__file__).resolve().parent.parent
SETS = {"eval": ROOT / "benchmarks" / "eval", "dev": ROOT / "benchmarks" / "dev", "examples": ROOT / "examples", "blind": ROOT / "benchmarks" / "blind"}
BASELINE_CUT = 80  # rapidfuzz partial_ratio of a wording against a turn: the one-line baseline of issue 11
TARGETS = {
    "text": {"steps_f1": 0.95, "stop_words_precision": 0.95, "stop_words_recall": 0.9, "objections_f1": 0.9, "handled_accuracy": 0.9},
    "audio": {"steps_f1": 0.85},
}
SECONDS_PER_CHAR = 0.095  # Festival's pace on the rendered calls


def _timed_from_turns(dialogue: dict, language: str) -> dict:
    t, segments = 0.4, []
    for turn in dialogue["turns"]:
        t += max(turn.get("pause", 0.6), 0.0)
        length = round(len(turn["text"]) * SECONDS_PER_CHAR, 2)
        segments.append({"speaker": turn["speaker"], "start": round(t, 2), "end": round(t + length, 2), "text": turn["text"]})
        t += length
    return {"call_id": dialogue["call_id"], "language": language, "duration": round(t, 2), "segments": segments}


def _dialogue_paths(args) -> list[tuple[Path, Path]]:
    """(dialogue file, the folder whose calls/ and reference/ belong to it) of the chosen set."""
    root = SETS[args.set]
    if args.set != "blind":
        return [(p, root) for p in sorted((root / "dialogues").glob("*.yaml"))]
    split = yaml.safe_load((root / "split.yaml").read_text(encoding="utf-8"))
    businesses = split["tune"] + split["held"] if args.split == "all" else split[args.split]
    return [(p, root / b) for b in businesses for p in sorted((root / b / "dialogues").glob("*.yaml"))]


def _script(dialogue: dict, folder: Path, settings):
    own = folder / "script.yaml"  # a blind business's own script
    return find_script(str(own) if own.is_file() else dialogue["script"], settings.scripts_dir)


def _baseline_steps(script, segments, manager: str | None) -> set[str]:
    """The one-line fuzzy baseline: a step is found when one of its wordings scores partial_ratio >= 80
    against a turn of the step's speaker (placeholders filled with their first value or the manager's name)."""
    values = defaultdict(str, {name: (options[0] if options else "") for name, options in script.placeholders.items()} | {"manager": manager or ""})
    found = set()
    for step in script.steps:
        turns = [s.text.lower() for s in segments if s.speaker in (step.speaker, "unknown")]
        wordings = [" ".join(re.sub(r"\(([^|()]*)[^()]*\)", r"\1", p).format_map(values).lower().split()) for p in step.phrases]
        if any(fuzz.partial_ratio(w, t, processor=default_process) >= BASELINE_CUT for w in wordings for t in turns):
            found.add(step.id)
    return found


def _prf(tp: int, fp: int, fn: int) -> dict:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3), "tp": tp, "fp": fp, "fn": fn}


def _count(found: Counter, expected: Counter) -> list[int]:
    tp = sum((found & expected).values())
    return [tp, sum(found.values()) - tp, sum(expected.values()) - tp]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=sorted(SETS), default="eval")
    parser.add_argument("--split", choices=["tune", "held", "all"], default="tune", help="with --set blind: which businesses")
    parser.add_argument("--audio", action="store_true")
    parser.add_argument("--only", nargs="+", metavar="ID", help="glob patterns of call_ids to evaluate")
    parser.add_argument("--errors", action="store_true", help="compact output: summary and misses/false hits per dialogue")
    args = parser.parse_args()
    settings = load_settings()
    totals = {k: [0, 0, 0] for k in ("steps", "stop_words", "objections", "baseline_steps")}
    verdicts = Counter()  # (status, whether the step was really done)
    handled_right = handled_total = 0
    audio_seconds = wall = 0.0
    calls = 0
    errors = []
    for path, root in _dialogue_paths(args):
        dialogue = yaml.safe_load(path.read_text(encoding="utf-8"))
        call_id, script = dialogue["call_id"], _script(dialogue, root, settings)
        if args.only and not any(fnmatch.fnmatchcase(call_id, pattern) for pattern in args.only):
            continue
        reference = root / "reference" / f"{call_id}.json"
        audio = [p for p in (root / "calls").glob(f"{call_id}.*") if p.suffix != ".json"]
        if args.audio and not audio:
            continue
        started = time.perf_counter()
        if args.audio:
            result = analyze_audio(audio[0], script, settings, channels=dialogue["channels"], call_id=call_id, manager=dialogue["manager"]["name"])
        else:
            data = json.loads(reference.read_text(encoding="utf-8")) if reference.exists() else _timed_from_turns(dialogue, script.language)
            result = analyze_transcript(transcript_from_dict(data), script, call_id, manager=dialogue["manager"]["name"])
        wall += time.perf_counter() - started
        calls += 1
        audio_seconds += result.duration
        expected = dialogue["expected"]
        done = set(expected["steps_present"])
        verdicts.update((s.status, s.id in done) for s in result.steps)
        baseline = _baseline_steps(script, result.transcript.segments, dialogue["manager"]["name"])
        pairs = {
            "steps": (Counter(s.id for s in result.steps if s.found), Counter(expected["steps_present"])),
            "baseline_steps": (Counter(baseline), Counter(expected["steps_present"])),
            "stop_words": (Counter(h.id for h in result.stop_words), Counter(expected.get("stop_words", []))),
            "objections": (Counter(o.id for o in result.objections), Counter(o["id"] for o in expected.get("objections", []))),
        }
        for kind, (found, wanted) in pairs.items():
            totals[kind] = [a + b for a, b in zip(totals[kind], _count(found, wanted))]
            if found != wanted and kind != "baseline_steps":
                errors.append({"call_id": call_id, "kind": kind, "missed": sorted((wanted - found).elements()), "extra": sorted((found - wanted).elements())})
        # handled verdicts: the n-th detected occurrence of an objection against the n-th labelled one
        for objection_id in {o["id"] for o in expected.get("objections", [])}:
            got = [o.handled for o in result.objections if o.id == objection_id]
            want = [o["handled"] for o in expected["objections"] if o["id"] == objection_id]
            for g, w in zip(got, want):
                handled_total += 1
                handled_right += g == w
                if g != w:
                    errors.append({"call_id": call_id, "kind": "handled", "objection": objection_id, "expected": w})
    figures = {k: _prf(*v) for k, v in totals.items()}
    mode = "audio" if args.audio else "text"
    summary = {
        "steps_f1": figures["steps"]["f1"],
        "stop_words_precision": figures["stop_words"]["precision"],
        "stop_words_recall": figures["stop_words"]["recall"],
        "objections_f1": figures["objections"]["f1"],
        "handled_accuracy": round(handled_right / handled_total, 3) if handled_total else None,
        "baseline_steps_f1": figures["baseline_steps"]["f1"],
        # a `missing` verdict accuses the manager: how often the step really was not done
        "missing_right": round(verdicts["missing", False] / (verdicts["missing", False] + verdicts["missing", True]), 3)
        if verdicts["missing", False] + verdicts["missing", True]
        else None,
    }
    statuses = {f"{status}_{'done' if was_done else 'not_done'}": n for (status, was_done), n in sorted(verdicts.items())}
    if args.errors:
        print(
            json.dumps({"set": args.set, "mode": mode, "calls": calls, "summary": summary, "steps": figures["steps"], "statuses": statuses}, ensure_ascii=False)
        )
        by_call: dict[str, list[str]] = {}
        for e in errors:
            if e["kind"] == "handled":
                text = f"handled {e['objection']}: expected {e['expected']}"
            else:
                text = " ".join([f"{e['kind']}:"] + [f"-{x}" for x in e["missed"]] + [f"+{x}" for x in e["extra"]])
            by_call.setdefault(e["call_id"], []).append(text)
        for call_id, texts in by_call.items():
            print(f"{call_id}: " + "; ".join(texts))
        return
    print(
        json.dumps(
            {
                "set": args.set if args.set != "blind" else f"blind/{args.split}",
                "mode": mode,
                "calls": calls,
                "audio_seconds": round(audio_seconds, 1),
                "wall_seconds": round(wall, 2),
                "ms_per_call": round(1000 * wall / max(calls, 1), 2),
                "audio_seconds_per_wall_second": round(audio_seconds / wall, 2) if wall else None,
                "summary": summary,
                "targets": TARGETS[mode],
                "met": all(summary[k] is not None and summary[k] >= v for k, v in TARGETS[mode].items()),
                "steps": figures["steps"],
                "baseline_steps": figures["baseline_steps"],
                "statuses": statuses,
                "stop_words": figures["stop_words"],
                "objection_detection": figures["objections"],
                "handled": {"right": handled_right, "of": handled_total},
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "machine": {"cpus": len(os.sched_getaffinity(0)), "python": platform.python_version(), "model": settings.model if args.audio else None},
                "errors": errors,
            },
            ensure_ascii=False,
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
