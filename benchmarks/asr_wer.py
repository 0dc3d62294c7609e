"""Word error rate (WER) of the speech recognition. Prints one JSON object.

    .venv/bin/python benchmarks/asr_wer.py [--set asterisk|dialogues|all] [--decoder callqa|plain]
        [--hotwords] [--limit 150] [--beam-size N] [--batch-size N] [--vad-threshold X] [--details]

Sets:
  asterisk   real human Russian telephone prompts (8 kHz) of the Debian packages asterisk-core-sounds-ru-wav
             and asterisk-core-sounds-ru (transcripts); installed with apt-get when missing. Prompts whose
             transcript holds digits, or nothing but a [sound description], are skipped. The first --limit
             usable prompts (default 150, 0 = all) in sorted path order.
  dialogues  the rendered sample calls with reference transcripts, examples/ and benchmarks/eval/: each
             channel of a stereo call against that speaker's turns, a mono call against all turns. Also
             the recall of the script's vocabulary terms (compared as lemma sequences, so "смету" counts
             for "смета").
Decoders:
  callqa     callqa.asr.Transcriber, what the pipeline runs: batched, VAD, no conditioning on previous text
  plain      faster-whisper's WhisperModel.transcribe with its defaults (sequential, conditioned on the
             previous text, no VAD): the baseline of the issue
--hotwords   the script's vocabulary as hotwords; dialogues only (the prompts belong to no script)

WER = word edits / reference words, summed over the set, after normalising both sides: lower case,
ё → е, punctuation removed, spaces collapsed. audio_seconds counts each transcribed channel.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rapidfuzz.distance import Levenshtein

from callqa.analysis.nlp import lemmatize
from callqa.asr.audio import SAMPLE_RATE, decode_audio
from callqa.asr.transcriber import _resolve_device, get_transcriber, resolve_model
from callqa.config import Settings, load_settings
from callqa.errors import AudioError
from callqa.scripts import find_script

ROOT = Path(__file__).resolve().parent.parent
DIALOGUE_SETS = (ROOT / "examples", ROOT / "benchmarks" / "eval")
ASTERISK_PACKAGES = ("asterisk-core-sounds-ru-wav", "asterisk-core-sounds-ru")
ASTERISK_SOUNDS = Path("/usr/share/asterisk/sounds/ru")
ASTERISK_TEXTS = Path("/usr/share/doc/asterisk-core-sounds-ru/core-sounds-ru.txt.gz")
AUDIO_SUFFIXES = (".mp3", ".ogg", ".wav")

Decoder = Callable[[np.ndarray, str, "str | None"], str]


def normalise(text: str) -> list[str]:
    return re.sub(r"[\W_]+", " ", text.lower().replace("ё", "е")).split()


def _lemmas(words: list[str], language: str) -> list[str]:
    return [next((t.lemma for t in lemmatize(w, language)), w) for w in words]


def _loop(words: list[str]) -> str | None:
    """A phrase of 1 to 4 words said three or more times running: the decoder looping."""
    for n in range(1, 5):
        for i in range(len(words) - 3 * n + 1):
            if words[i : i + n] == words[i + n : i + 2 * n] == words[i + 2 * n : i + 3 * n]:
                return " ".join(words[i : i + n])
    return None


def make_decoder(kind: str, settings: Settings) -> Decoder:
    if kind == "callqa":
        transcriber = get_transcriber(settings)
        return lambda samples, language, hotwords: " ".join(s.text for s in transcriber.transcribe(samples, language, hotwords=hotwords))
    from faster_whisper import WhisperModel

    device, compute_type = _resolve_device(settings)  # the same device and compute type as the pipeline
    model = WhisperModel(resolve_model(settings), device=device, compute_type=compute_type, cpu_threads=settings.cpu_threads, local_files_only=True)

    def decode(samples: np.ndarray, language: str, hotwords: str | None) -> str:
        segments, _info = model.transcribe(samples, language=language, beam_size=settings.beam_size, hotwords=hotwords)
        return " ".join(s.text.strip() for s in segments)

    return decode


def _score(item_id: str, reference: str, hypothesis: str, language: str, seconds: float, **extra) -> dict:
    ref, hyp = normalise(reference), normalise(hypothesis)
    loop = _loop(hyp)
    if loop and _loop(ref) == loop:
        loop = None
    return {"id": item_id, "language": language, "ref": ref, "hyp": hyp, "edits": Levenshtein.distance(ref, hyp), "seconds": seconds, "loop": loop, **extra}


# --- asterisk prompts -------------------------------------------------------------------------


def _ensure_asterisk() -> bool:
    """Install the prompt packages when missing; True when they were installed now."""
    if ASTERISK_SOUNDS.is_dir() and ASTERISK_TEXTS.is_file():
        return False
    command = f"apt-get update && apt-get install -y {' '.join(ASTERISK_PACKAGES)}"
    print(f"asr_wer: the asterisk prompts are missing; running `{command}`", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(command, shell=True, env=env, capture_output=True, text=True)
    if done.returncode or not (ASTERISK_SOUNDS.is_dir() and ASTERISK_TEXTS.is_file()):
        raise SystemExit(
            f"the asterisk set needs {' and '.join(ASTERISK_PACKAGES)}, and `{command}` failed "
            f"(exit {done.returncode}): {done.stderr.strip()[-500:]}\nInstall them as root, or run --set dialogues."
        )
    return True


def _asterisk_transcripts() -> dict[str, str]:
    """`path: text` lines; `[...]`, `<...>` and `(...)` describe a sound, not words said."""
    texts = {}
    with gzip.open(ASTERISK_TEXTS, "rt", encoding="utf-8") as lines:
        for line in lines:
            key, sep, text = line.partition(":")
            if sep and not key.startswith(";") and " " not in key.strip():
                texts[key.strip()] = re.sub(r"\[[^\]]*\]|<[^>]*>|\([^)]*\)", " ", text).strip()
    return texts


def run_asterisk(decode: Decoder, limit: int) -> tuple[list[dict], dict]:
    installed_now = _ensure_asterisk()
    skipped = Counter()
    items = []
    for key, text in sorted(_asterisk_transcripts().items()):
        if limit and len(items) >= limit:
            break
        path = ASTERISK_SOUNDS / f"{key}.wav"
        reason = "digits" if any(c.isdigit() for c in text) else "empty" if not normalise(text) else None
        reason = reason or (None if path.is_file() else "no_audio")
        if not reason:
            try:
                samples = decode_audio(path).mono()
            except AudioError:
                reason = "undecodable_or_too_short"
        if reason:
            skipped[reason] += 1
            continue
        started = time.perf_counter()
        hypothesis = decode(samples, "ru", None)
        items.append(_score(key, text, hypothesis, "ru", time.perf_counter() - started, audio=len(samples) / SAMPLE_RATE))
    return items, {
        "packages": list(ASTERISK_PACKAGES),
        "installed_now": installed_now,
        "sounds": str(ASTERISK_SOUNDS.resolve()),
        "skipped_before_limit": dict(skipped),
    }


# --- rendered dialogues -----------------------------------------------------------------------


def _speaker_text(segments: list[dict], speakers: set[str]) -> str:
    return " ".join(s["text"] for s in sorted(segments, key=lambda s: s["start"]) if s["speaker"] in speakers)


def _aligned(ref: list[str], hyp: list[str]) -> list[list[str]]:
    """For each reference word, the hypothesis words it became (words inserted before it included)."""
    out: list[list[str]] = [[] for _ in range(len(ref) + 1)]
    for op in Levenshtein.opcodes(ref, hyp):
        if op.tag == "insert":
            out[op.src_start] += hyp[op.dest_start : op.dest_end]
        elif op.tag != "delete":  # equal and replace blocks pair their words one to one
            for k in range(op.src_end - op.src_start):
                out[op.src_start + k].append(hyp[op.dest_start + k])
    return out


def _count(words: list[str], seq: list[str], spaced: bool = False) -> int:
    """Occurrences of a word sequence; `spaced`: also with other word breaks ("строй дом" for "стройдом")."""
    if not spaced:
        return sum(words[i : i + len(seq)] == seq for i in range(len(words) - len(seq) + 1))
    joined = "".join(seq)
    return sum("".join(words[i : i + k]) == joined for k in range(1, len(seq) + 2) for i in range(len(words) - k + 1))


def _term_hits(item: dict, terms: list[str]) -> list[dict]:
    """Each vocabulary term: its occurrences in the reference, how many the hypothesis has, and what
    the hypothesis says instead where it missed one."""
    language = item["language"]
    ref, hyp = _lemmas(item["ref"], language), _lemmas(item["hyp"], language)
    aligned = _aligned(item["ref"], item["hyp"])
    hits = []
    for term in terms:
        seq = _lemmas(normalise(term), language)
        at = [i for i in range(len(ref) - len(seq) + 1) if ref[i : i + len(seq)] == seq]
        if at:
            heard = [" ".join(w for words in aligned[i : i + len(seq)] for w in words) for i in at]
            hits.append(
                {
                    "term": term,
                    "in_reference": len(at),
                    "in_hypothesis": min(_count(hyp, seq), len(at)),
                    "in_hypothesis_ignoring_spaces": min(_count(hyp, seq, spaced=True), len(at)),
                    "heard_instead": [h or "∅" for h in heard if _lemmas(h.split(), language) != seq],
                }
            )
    return hits


def run_dialogues(decode: Decoder, settings: Settings, hotwords: bool) -> tuple[list[dict], dict]:
    items, calls, scripts = [], 0, {}
    for root in DIALOGUE_SETS:
        for sidecar in sorted((root / "calls").glob("*.json")):
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
            audio = [p for p in sidecar.parent.glob(f"{sidecar.stem}.*") if p.suffix in AUDIO_SUFFIXES]
            reference = root / "reference" / f"{sidecar.stem}.json"
            if not audio or not reference.is_file():
                continue
            if meta["script"] not in scripts:
                scripts[meta["script"]] = find_script(meta["script"], settings.scripts_dir)
            script = scripts[meta["script"]]
            segments = json.loads(reference.read_text(encoding="utf-8"))["segments"]
            decoded = decode_audio(audio[0])
            if meta["channels"] == "mono" or len(decoded.channels) == 1:
                pairs = [("mono", decoded.mono(), {"manager", "client", "unknown"})]
            else:
                left, right = ("manager", "client") if meta["channels"] == "manager-left" else ("client", "manager")
                pairs = [(left, decoded.channels[0], {left}), (right, decoded.channels[1], {right})]
            calls += 1
            for channel, samples, speakers in pairs:
                started = time.perf_counter()
                hypothesis = decode(samples, script.language, " ".join(script.vocabulary) if hotwords else None)
                item = _score(
                    f"{sidecar.stem}/{channel}",
                    _speaker_text(segments, speakers),
                    hypothesis,
                    script.language,
                    time.perf_counter() - started,
                    audio=len(samples) / SAMPLE_RATE,
                )
                item["terms"] = _term_hits(item, script.vocabulary)
                items.append(item)
    return items, {"calls": calls, "scripts": {k: s.vocabulary for k, s in scripts.items()}}


def _terms_summary(items: list[dict]) -> dict:
    counts: dict[str, Counter] = {}
    heard: dict[str, Counter] = {}
    for item in items:
        for hit in item["terms"]:
            counts.setdefault(hit["term"], Counter()).update({k: hit[k] for k in ("in_reference", "in_hypothesis", "in_hypothesis_ignoring_spaces")})
            heard.setdefault(hit["term"], Counter()).update(hit["heard_instead"])
    total = sum(counts.values(), Counter())
    recall = {k: round(total[k] / total["in_reference"], 3) if total["in_reference"] else None for k in ("in_hypothesis", "in_hypothesis_ignoring_spaces")}
    return {
        "occurrences": total["in_reference"],
        "recognised": total["in_hypothesis"],
        "recall": recall["in_hypothesis"],
        "recognised_ignoring_spaces": total["in_hypothesis_ignoring_spaces"],
        "recall_ignoring_spaces": recall["in_hypothesis_ignoring_spaces"],
        "by_term": {t: {**c, "heard_instead": dict(heard[t].most_common(6))} for t, c in counts.items()},
    }


# --- figures ----------------------------------------------------------------------------------


def _wer(items: list[dict]) -> dict:
    words = sum(len(i["ref"]) for i in items)
    edits = sum(i["edits"] for i in items)
    return {"wer": round(edits / words, 4) if words else None, "edits": edits, "reference_words": words}


def _substitutions(items: list[dict], top: int = 15) -> dict:
    kinds, pairs = Counter(), Counter()
    for item in items:
        for op in Levenshtein.editops(item["ref"], item["hyp"]):
            kinds[op.tag] += 1
            if op.tag == "replace":
                pairs[f"{item['ref'][op.src_pos]} → {item['hyp'][op.dest_pos]}"] += 1
    return {"edit_kinds": dict(kinds), "common_substitutions": dict(pairs.most_common(top))}


def _text(item: dict) -> dict:
    return {"id": item["id"], "reference": " ".join(item["ref"]), "hypothesis": " ".join(item["hyp"]), "edits": item["edits"], "words": len(item["ref"])}


def summarise(name: str, items: list[dict], info: dict, wall: float, details: bool) -> dict:
    audio = sum(i["audio"] for i in items)
    asr = sum(i["seconds"] for i in items)
    worst = sorted(items, key=lambda i: (-i["edits"] / max(len(i["ref"]), 1), -i["edits"]))
    out = {
        "set": name,
        "utterances": len(items),
        **info,
        **_wer(items),
        "audio_seconds": round(audio, 1),
        "asr_seconds": round(asr, 1),
        "wall_seconds": round(wall, 1),
        "audio_seconds_per_asr_second": round(audio / asr, 2) if asr else None,
    }
    if len({i["language"] for i in items}) > 1:
        out["by_language"] = {lang: _wer([i for i in items if i["language"] == lang]) for lang in sorted({i["language"] for i in items})}
    if name == "dialogues":
        out["vocabulary_terms"] = _terms_summary(items)
        out["per_channel"] = [{"id": i["id"], "words": len(i["ref"]), "wer": round(i["edits"] / max(len(i["ref"]), 1), 3)} for i in items]
    else:
        out["worst"] = [_text(i) for i in worst[:10]]
    out.update(_substitutions(items))
    out["looping"] = [{**_text(i), "repeated": i["loop"]} for i in items if i["loop"]]
    if details:
        out["items"] = [_text(i) for i in items]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=("asterisk", "dialogues", "all"), default="all")
    parser.add_argument("--decoder", choices=("callqa", "plain"), default="callqa")
    parser.add_argument("--hotwords", action="store_true", help="the script's vocabulary as hotwords (dialogues)")
    parser.add_argument("--limit", type=int, default=150, help="asterisk prompts, 0 = all")
    parser.add_argument("--beam-size", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--vad-threshold", type=float, help="callqa decoder: Silero VAD threshold (default: the setting)")
    parser.add_argument("--details", action="store_true", help="every utterance's reference and hypothesis")
    args = parser.parse_args()
    settings = load_settings(beam_size=args.beam_size, batch_size=args.batch_size, vad_threshold=args.vad_threshold)
    started = time.perf_counter()
    decode = make_decoder(args.decoder, settings)
    load_seconds = time.perf_counter() - started
    device, compute_type = _resolve_device(settings)
    sets = {}
    for name in ("asterisk", "dialogues") if args.set == "all" else (args.set,):
        started = time.perf_counter()
        items, info = run_asterisk(decode, args.limit) if name == "asterisk" else run_dialogues(decode, settings, args.hotwords)
        sets[name] = summarise(name, items, info, time.perf_counter() - started, args.details)
    print(
        json.dumps(
            {
                "decoder": args.decoder,
                "hotwords": "script vocabulary, dialogues only" if args.hotwords else None,
                "settings": {
                    "model": settings.model,
                    "device": device,
                    "compute_type": compute_type,
                    "cpu_threads": settings.cpu_threads,
                    "beam_size": settings.beam_size,
                    **(
                        {"batch_size": settings.batch_size, "vad_threshold": settings.vad_threshold, "condition_on_previous_text": False}
                        if args.decoder == "callqa"
                        else {"batch_size": None, "vad_filter": False, "condition_on_previous_text": True}
                    ),
                },
                "model_load_seconds": round(load_seconds, 1),
                "sets": sets,
                "machine": {"cpus": len(os.sched_getaffinity(0)), "python": platform.python_version()},
            },
            ensure_ascii=False,
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
