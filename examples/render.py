#!/usr/bin/env python3
"""Render the sample dialogues (examples/dialogues/*.yaml) into telephone-like call recordings.

Usage: .venv/bin/python examples/render.py [--root DIR] [call_id ...]

Needs Festival with festvox-ru, festvox-kallpc16k, festvox-us-slt-hts, and sox on PATH.
Writes <root>/calls/<id>.<ext> with a <id>.json sidecar, and <root>/reference/<id>.json
(the reference transcript with real rendered times plus the ground-truth labels).
<root> is examples/ by default; benchmarks/eval and each benchmarks/blind/<business> hold evaluation sets in the same layout.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import wave
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
SCRIPTS = HERE.parent / "scripts_library"
RATE = 8000  # narrowband telephony

# (language, speaker) -> Festival voice, extra sox effects. Russian has a single voice,
# so the client is pitched down and sped up a little to sound like another person.
VOICES = {
    ("ru", "manager"): ("voice_msu_ru_nsh_clunits", []),
    ("ru", "client"): ("voice_msu_ru_nsh_clunits", ["pitch", "-350", "tempo", "-s", "1.06"]),
    ("en", "manager"): ("voice_kal_diphone", []),
    ("en", "client"): ("voice_cmu_us_slt_arctic_hts", []),
}

# Festival's Russian lexicon has no stress for some words and then reduces every vowel
# ("страйдам"), so mark the stress ("+" before the vowel) or split the word. Festival lower-cases
# anyway; the reference transcripts keep the written form.
SAY = {
    "стройдом": "строй дом",
    "замерщик": "зам+ерщик",
    "перезвонить": "перезвон+ить",
    "вторичке": "втор+ичке",
    "однушке": "одн+ушке",
    "чтобы": "чт+обы",
    "уточнит": "уточн+ит",
    "дизайн": "диз+айн",
    "ждем": "ждём",
}

LEVEL_DBFS = {"manager": -20.0, "client": -23.0}  # the far end of a phone line is usually quieter
NOISE_DBFS = -66.0  # audible hiss, yet below the -55 dBFS "silent channel" threshold of callqa.asr.audio
LEAD_S, TAIL_S = 0.4, 0.5  # line noise before the first and after the last word
PAUSE_RANGE = (0.3, 0.9)  # default gap between turns when the dialogue gives none

# format -> (container, codec, bit rate by channel count, codec options)
ENCODINGS = {
    # joint stereo off: mid/side coding would leak one speaker into the other channel
    "mp3": ("mp3", "libmp3lame", {2: 24000, 1: 24000}, {"joint_stereo": "0"}),
    "ogg": ("ogg", "libopus", {2: 24000, 1: 16000}, {"application": "voip"}),
    "wav": ("wav", "pcm_s16le", {}, {}),
}


def script_languages(root: Path) -> dict[str, str]:
    """Language of every script id: the shipped scripts, and a blind business's own `script.yaml` in <root>."""
    langs = {}
    for path in [*SCRIPTS.glob("*.yaml"), *root.glob("script.yaml")]:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        langs[doc["id"]] = doc["language"]
    return langs


# Latin letters as a Russian speaker would sound them out in a word ("gmail" -> "гмаил").
LATIN_SOUNDS = dict(zip("abcdefghijklmnopqrstuvwxyz", "абцдефгхийклмнопкрстуввкыз"))


def synthesize(text: str, language: str, speaker: str) -> np.ndarray:
    """One turn as float32 mono at RATE, band-limited like a phone line, silence trimmed."""
    voice, effects = VOICES[(language, speaker)]
    for written, spoken in SAY.items():
        text = re.sub(written, spoken, text, flags=re.IGNORECASE)
    # Festival's Russian front end writes no audio for a text with dashes, ellipses or typographic quotes; they are pauses here.
    text = re.sub(r"\s*[—–…]\s*", ", ", re.sub(r"[«»“”„\"]", "", text))
    if language == "ru":
        # ...nor for clock times, e-mail addresses or Latin letters: said the way a Russian speaker reads them.
        text = re.sub(r"(\d{1,2}):(\d{2})", r"\1 \2", text).replace("@", " собака ")
        text = re.sub(r"(?<=[a-z])\.(?=[a-z])", " точка ", text, flags=re.IGNORECASE)
        text = "".join(LATIN_SOUNDS.get(c.lower(), c) for c in text)
    with tempfile.TemporaryDirectory() as tmp:
        txt, raw, out = Path(tmp, "t.txt"), Path(tmp, "raw.wav"), Path(tmp, "out.wav")
        txt.write_text(text + "\n", encoding="utf-8")
        subprocess.run(["text2wave", "-eval", f"({voice})", str(txt), "-o", str(raw)], check=True, capture_output=True)
        # -R seeds sox's dither, so re-rendering gives identical files
        sox = ["sox", "-R", str(raw), "-b", "16", "-c", "1", str(out), *effects, "sinc", "300-3400", "rate", str(RATE)]
        subprocess.run(sox, check=True, capture_output=True)
        with wave.open(str(out)) as w:
            x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768
    # Festival pads each utterance with silence; trim it so reference times mark the speech itself
    loud = np.flatnonzero(np.abs(x) > 0.02 * np.abs(x).max())
    margin = int(0.05 * RATE)
    return x[max(loud[0] - margin, 0) : loud[-1] + margin]


def at_level(x: np.ndarray, dbfs: float) -> np.ndarray:
    return x * (10 ** (dbfs / 20) / np.sqrt(np.mean(x**2)))


def phone_noise(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """White noise band-limited to 300-3400 Hz at NOISE_DBFS."""
    spectrum = np.fft.rfft(rng.standard_normal(shape), axis=1)
    freqs = np.fft.rfftfreq(shape[1], 1 / RATE)
    spectrum[:, (freqs < 300) | (freqs > 3400)] = 0
    noise = np.fft.irfft(spectrum, n=shape[1], axis=1)
    return noise * (10 ** (NOISE_DBFS / 20) / noise.std())


def mix(dialogue: dict, clips: list[np.ndarray]) -> tuple[np.ndarray, list[dict]]:
    """Place turns on a timeline; returns audio (channels, samples) and reference segments."""
    rng = np.random.default_rng(zlib.crc32(dialogue["call_id"].encode()))  # per call, so one edit changes one file
    stereo = dialogue["channels"] == "manager-left"
    segments, t = [], LEAD_S
    for turn, clip in zip(dialogue["turns"], clips):
        start = t + turn.get("pause", rng.uniform(*PAUSE_RANGE)) if segments else t
        t = start + len(clip) / RATE
        segments.append({"speaker": turn["speaker"], "start": start, "end": t, "text": turn["text"]})
    audio = phone_noise(rng, (2 if stereo else 1, int((t + TAIL_S) * RATE)))
    for seg, clip in zip(segments, clips):
        row = 1 if stereo and seg["speaker"] == "client" else 0
        i = round(seg["start"] * RATE)
        audio[row, i : i + len(clip)] += at_level(clip, LEVEL_DBFS[seg["speaker"]])
        seg["start"], seg["end"] = round(seg["start"], 2), round(seg["end"], 2)
    return audio, segments


def encode(path: Path, audio: np.ndarray, fmt: str) -> None:
    container, codec, bit_rates, options = ENCODINGS[fmt]
    layout = "stereo" if len(audio) == 2 else "mono"
    pcm = (np.clip(audio, -1, 32767 / 32768) * 32768).astype(np.int16)
    # bitexact: no random Ogg serials or version tags, so re-rendering gives identical bytes
    with av.open(str(path), "w", format=container, options={"fflags": "+bitexact"}) as out:
        stream = out.add_stream(codec, rate=RATE, layout=layout)
        if len(audio) in bit_rates:
            stream.bit_rate = bit_rates[len(audio)]
        stream.options = options
        frame = av.AudioFrame.from_ndarray(pcm, format="s16p", layout=layout)
        frame.rate = RATE
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)


def render(dialogue: dict, clips: list[np.ndarray], language: str, root: Path) -> tuple[float, Path]:
    call_id, calls, refs = dialogue["call_id"], root / "calls", root / "reference"
    audio, segments = mix(dialogue, clips)
    for stale in calls.glob(f"{call_id}.*"):  # the format may have changed since the last render
        stale.unlink()
    path = calls / f"{call_id}.{dialogue['format']}"
    encode(path, audio, dialogue["format"])
    meta = {
        "call_id": call_id,
        "manager_id": dialogue["manager"]["id"],
        "manager_name": dialogue["manager"]["name"],
        "started_at": dialogue["started_at"],
        "direction": dialogue["direction"],
        "script": dialogue["script"],
        "channels": dialogue["channels"],
    }
    duration = round(audio.shape[1] / RATE, 2)
    reference = {"call_id": call_id, "language": language, "duration": duration, "segments": segments, "expected": dialogue["expected"]}
    for target, doc in ((calls / f"{call_id}.json", meta), (refs / f"{call_id}.json", reference)):
        target.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return duration, path


def main(args: list[str]) -> None:
    root = HERE
    if args[:1] == ["--root"]:
        root, args = Path(args[1]).resolve(), args[2:]
    selected = args
    (root / "calls").mkdir(exist_ok=True)
    (root / "reference").mkdir(exist_ok=True)
    languages = script_languages(root)
    dialogues = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((root / "dialogues").glob("*.yaml"))]
    dialogues = [d for d in dialogues if not selected or d["call_id"] in selected]
    jobs = [(t["text"], languages[d["script"]], t["speaker"]) for d in dialogues for t in d["turns"]]
    with ThreadPoolExecutor() as pool:  # Festival is single-threaded; run one process per core
        clips = iter(list(pool.map(lambda job: synthesize(*job), jobs)))
    print(f"{'call_id':<8} {'duration':>9} {'bytes':>8}  file")
    total = 0
    for d in dialogues:
        duration, path = render(d, [next(clips) for _ in d["turns"]], languages[d["script"]], root)
        size = path.stat().st_size
        total += size
        print(f"{d['call_id']:<8} {duration:>8.2f}s {size:>8}  {path.relative_to(root)}")
    print(f"{'total':<8} {'':>9} {total:>8}")


if __name__ == "__main__":
    main(sys.argv[1:])
