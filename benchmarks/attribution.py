"""Who said each word, and when: speaker attribution and word timing on the rendered calls.

    .venv/bin/python benchmarks/attribution.py [--set examples|eval|all] [--layout stereo|mono|both] [--calls N]

Every rendered call has a reference transcript with the real rendered time of
each turn. The call goes through `callqa.pipeline.transcribe_call` as a stereo
recording (its own channel layout) and as a mono mixdown of the same audio
(layout `mono`: the speakers must be separated). For every recognised word,
the reference turn under the word's middle gives the true speaker:

- attribution: share of words given the right role (`unknown` counts as wrong);
- timing: for each reference turn whose first word was recognised, how far
  that word's start is from the turn's real start (the review page plays a
  flagged moment from a word's start).

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz

from callqa.asr.audio import SAMPLE_RATE, decode_audio
from callqa.config import load_settings
from callqa.pipeline import transcribe_call
from callqa.scripts import find_script

ROOT = Path(__file__).resolve().parent.parent
SETS = {"examples": ROOT / "examples", "eval": ROOT / "benchmarks" / "eval"}
TARGETS = {"stereo": 0.98, "mono": 0.90}
SLACK_S = 0.3  # a word's middle this close to a turn still belongs to it (rendering pads turns)


def _calls(names: list[str]) -> list[tuple[Path, dict, dict]]:
    found = []
    for name in names:
        root = SETS[name]
        for reference in sorted((root / "reference").glob("*.json")):
            audio = next(p for p in (root / "calls").glob(f"{reference.stem}.*") if p.suffix != ".json")
            found.append((audio, json.loads(audio.with_suffix(".json").read_text()), json.loads(reference.read_text())))
    return found


def _true_speaker(turns: list[dict], t: float) -> str | None:
    best, distance = None, SLACK_S
    for turn in turns:
        d = max(turn["start"] - t, t - turn["end"], 0.0)
        if d <= distance:
            best, distance = turn["speaker"], d
    return best


def _word(text: str) -> str:
    return "".join(c for c in text.lower().replace("ё", "е") if c.isalnum())


def _write_mono(audio_path: Path, target: Path) -> Path:
    mono = decode_audio(audio_path).mono()
    with wave.open(str(target), "wb") as wav:
        wav.setnchannels(1), wav.setsampwidth(2), wav.setframerate(SAMPLE_RATE)
        wav.writeframes((np.clip(mono, -1, 1) * 32767).astype(np.int16).tobytes())
    return target


def _score(transcript, turns: list[dict]) -> dict:
    right = unknown = total = 0
    for seg in transcript.segments:
        for word in seg.words:
            truth = _true_speaker(turns, (word.start + word.end) / 2)
            if truth is None:
                continue
            total += 1
            right += seg.speaker == truth
            unknown += seg.speaker == "unknown"
    starts = []
    for turn in turns:
        near = [
            w for seg in transcript.segments if seg.speaker == turn["speaker"] for w in seg.words if turn["start"] - 1.0 <= (w.start + w.end) / 2 <= turn["end"]
        ]
        first = min(near, key=lambda w: w.start) if near else None
        # Only where the turn's first word was recognised: a dropped word is an ASR error, not a timing one.
        if first and fuzz.ratio(_word(first.text), _word(turn["text"].split()[0])) >= 80:
            starts.append(abs(first.start - turn["start"]))
    return {"words": total, "right": right, "unknown": unknown, "start_errors": starts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=[*SETS, "all"], default="all")
    parser.add_argument("--layout", choices=["stereo", "mono", "both"], default="both")
    parser.add_argument("--calls", type=int, default=0, help="only the first N calls (0: all)")
    args = parser.parse_args()
    settings = load_settings()
    calls = _calls(list(SETS) if args.set == "all" else [args.set])
    calls = calls[: args.calls] if args.calls else calls
    layouts = ["stereo", "mono"] if args.layout == "both" else [args.layout]
    results = {layout: {"calls": [], "words": 0, "right": 0, "unknown": 0, "start_errors": []} for layout in layouts}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for audio, sidecar, reference in calls:
            script = find_script(sidecar["script"], settings.scripts_dir)
            for layout in layouts:
                if layout == "stereo" and sidecar.get("channels", "manager-left") == "mono":
                    continue  # recorded mono: only its mono figure means anything
                path = audio if layout == "stereo" else _write_mono(audio, Path(tmp) / f"{audio.stem}.wav")
                channels = sidecar.get("channels", "manager-left") if layout == "stereo" else "mono"
                transcript = transcribe_call(path, channels, script.language, settings, script)
                score = _score(transcript, reference["segments"])
                total = results[layout]
                for key in ("words", "right", "unknown"):
                    total[key] += score[key]
                total["start_errors"] += score["start_errors"]
                total["calls"].append(
                    {
                        "call": audio.stem,
                        "right_share": round(score["right"] / max(score["words"], 1), 3),
                        "unknown_share": round(score["unknown"] / max(score["words"], 1), 3),
                        "separation": transcript.asr.speakers.to_dict() if transcript.asr and transcript.asr.speakers else None,
                    }
                )
    report = {"set": args.set, "seconds": round(time.perf_counter() - started, 1)}
    for layout, total in results.items():
        errors = sorted(total.pop("start_errors"))
        report[layout] = total | {
            "right_share": round(total["right"] / max(total["words"], 1), 4),
            "target": TARGETS[layout],
            "turn_start_error_s": {
                "median": round(statistics.median(errors), 2),
                "p90": round(errors[int(0.9 * (len(errors) - 1))], 2),
                "within_0_5_s": round(sum(e <= 0.5 for e in errors) / len(errors), 3),
                "turns": len(errors),
            }
            if errors
            else None,
            "worst": sorted(total.pop("calls"), key=lambda c: c["right_share"])[:5],
        }
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
