"""Speed of transcription: the whole pipeline against bare faster-whisper on the same batch. Prints one JSON object.

    .venv/bin/python benchmarks/asr_speed.py [--mode both|bare|pipeline|asr] [--calls N]
        [--device auto] [--compute-type auto] [--beam-size 5] [--batch-size 8] [--cpu-threads 0]
        [--[no-]hotwords] [--workers 1] [--model-dir PATH] [--rebuild]

The batch: 24 stereo calls of 2-5 minutes (manager left; 20 ru, 4 en), built once into
benchmarks/.cache/speed-batch/ by joining 2-4 of the rendered stereo calls of examples/
and benchmarks/eval/ (one language per call, 1 s of line noise between parts, client-left
parts swapped), encoded like examples/render.py (MP3, 8 kHz, 24 kbit/s, joint stereo off),
each with a sidecar JSON; manifest.json lists them.

--mode bare      faster-whisper alone: WhisperModel + BatchedInferencePipeline on each channel
                 (faster_whisper.decode_audio(split_stereo=True), vad_filter=True) with callqa's
                 decoding options: script language, beam, batch, VAD threshold, word timestamps,
                 condition_on_previous_text=False, hotwords as callqa's setting.
                 Needs only faster-whisper, PyAV, numpy and PyYAML; pass --model-dir where callqa
                 is not importable (defaults are then callqa's: auto device, int8/float16, beam 5, batch 8).
--mode pipeline  callqa's nightly path without Prefect: a Store on a fresh DuckDB file, plan_batch
                 (hashing, sidecars, scripts), process_call (decode, both channels in shared
                 batches, clean-up, screening, analysis, rows) for `workers` calls at once, store.load.
--mode asr       callqa's transcription stage alone (callqa.asr; needs only their
                 light dependencies): what to run on a GPU with --workers 8 and a larger batch.
--workers N      calls at once (bare: N threads, WhisperModel num_workers=N; pipeline and asr: the
                 nightly flow's workers, whose calls callqa decodes in shared batches).

Each mode runs in a fresh child process: peak RSS is that child's ru_maxrss. Wall time
excludes loading, reported as load_seconds: the model, then a warm-up (30 s of the first
call, which loads the VAD model and runs the first kernels) and, for the pipeline, the
first analysis per script (lemmatisers, compiled phrases).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BATCH = ROOT / "benchmarks" / ".cache" / "speed-batch"
SOURCES = (ROOT / "examples" / "calls", ROOT / "benchmarks" / "eval" / "calls")
RECIPE = 1  # bump when the batch recipe changes: a cached batch of another recipe is rebuilt
N_CALLS, MIN_S, MAX_S, GAP_S = 24, 120.0, 300.0, 1.0
RATE = 8000  # as examples/render.py
NOISE_DBFS = -66.0  # examples/render.py's line noise, below callqa's silent-channel threshold
TARGETS = {"audio_hours_per_wall_hour": 12.0, "pipeline_over_bare_wall": 1.10, "peak_rss_mb": 2048}


# -- the batch -------------------------------------------------------------


def _decode_stereo(path: Path) -> np.ndarray:
    """(2, samples) float32 at RATE."""
    import av

    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=RATE)
        frames = [f for frame in container.decode(audio=0) for f in resampler.resample(frame)] + resampler.resample(None)
    return np.concatenate([f.to_ndarray() for f in frames], axis=1)


def _line_noise(rng: np.random.Generator, samples: int) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal((2, samples)), axis=1)
    freqs = np.fft.rfftfreq(samples, 1 / RATE)
    spectrum[:, (freqs < 300) | (freqs > 3400)] = 0
    noise = np.fft.irfft(spectrum, n=samples, axis=1)
    return (noise * (10 ** (NOISE_DBFS / 20) / noise.std())).astype(np.float32)


def _encode_mp3(path: Path, audio: np.ndarray) -> None:
    import av

    pcm = (np.clip(audio, -1, 32767 / 32768) * 32768).astype(np.int16)
    with av.open(str(path), "w", format="mp3", options={"fflags": "+bitexact"}) as out:
        stream = out.add_stream("libmp3lame", rate=RATE, layout="stereo")
        stream.bit_rate = 24000
        stream.options = {"joint_stereo": "0"}  # mid/side coding would leak one speaker into the other channel
        frame = av.AudioFrame.from_ndarray(pcm, format="s16p", layout="stereo")
        frame.rate = RATE
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)


def _cached_manifest() -> dict | None:
    manifest = BATCH / "manifest.json"
    if not manifest.is_file():
        return None
    data = json.loads(manifest.read_text(encoding="utf-8"))
    complete = all((BATCH / c["file"]).is_file() and (BATCH / c["file"]).with_suffix(".json").is_file() for c in data["calls"])
    return data if data.get("recipe") == RECIPE and complete else None


def build_batch(rebuild: bool = False) -> tuple[dict, bool]:
    """The batch's manifest, building the batch first when it is missing; also whether it was built now."""
    if not rebuild and (data := _cached_manifest()):
        return data, False
    sources = []  # (sidecar, language, audio path)
    for folder in SOURCES:
        for sidecar in sorted(folder.glob("*.json")):
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
            if meta.get("channels") not in ("manager-left", "client-left"):
                continue
            audio = next(p for p in sidecar.parent.glob(f"{sidecar.stem}.*") if p.suffix != ".json")
            reference = folder.parent / "reference" / sidecar.name
            sources.append((meta, json.loads(reference.read_text(encoding="utf-8"))["language"], audio))
    decoded = {}
    for meta, _, path in sources:
        audio = _decode_stereo(path)
        decoded[path] = audio[::-1].copy() if meta["channels"] == "client-left" else audio
    pool: dict[str, list] = {}
    for source in sources:
        pool.setdefault(source[1], []).append(source)
    BATCH.mkdir(parents=True, exist_ok=True)
    for stale in BATCH.iterdir():
        stale.unlink()
    rng, calls, seen = random.Random(RECIPE), [], set()
    for n in range(1, N_CALLS + 1):
        language = "en" if n % 6 == 0 else "ru"  # 4 English calls of 24, as the sets are mostly Russian
        parts: list = []
        while not parts or tuple(p for _, _, p in parts) in seen:  # no two calls with the same parts in the same order
            target, parts, seconds = rng.uniform(150, 280), [], 0.0
            for source in rng.sample(pool[language], len(pool[language])):
                length = decoded[source[2]].shape[1] / RATE + (GAP_S if parts else 0)
                if seconds + length <= MAX_S - 5:
                    parts.append(source)
                    seconds += length
                if seconds >= target or len(parts) == 4:
                    break
            assert MIN_S <= seconds <= MAX_S and len(parts) >= 2, (n, seconds, len(parts))
        seen.add(tuple(p for _, _, p in parts))
        noise = np.random.default_rng(n)
        pieces = [piece for i, (_, _, path) in enumerate(parts) for piece in ([_line_noise(noise, int(GAP_S * RATE))] if i else []) + [decoded[path]]]
        audio = np.concatenate(pieces, axis=1)
        call_id = f"speed-{n:02d}"
        _encode_mp3(BATCH / f"{call_id}.mp3", audio)
        first = parts[0][0]
        sidecar = {k: first[k] for k in ("manager_id", "manager_name", "started_at", "direction", "script") if k in first}
        sidecar = {"call_id": call_id, **sidecar, "channels": "manager-left"}
        (BATCH / f"{call_id}.json").write_text(json.dumps(sidecar, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        calls.append(
            {
                "file": f"{call_id}.mp3",
                "language": language,
                "script": first["script"],
                "seconds": round(audio.shape[1] / RATE, 2),
                "parts": [str(p.relative_to(ROOT)) for _, _, p in parts],
            }
        )
    data = {"recipe": RECIPE, "calls": calls}
    (BATCH / "manifest.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return data, True


# -- the two modes, each run in its own child process ------------------------


def _settings(args):
    from callqa.config import load_settings

    return load_settings(
        device=args.device,
        compute_type=args.compute_type,
        beam_size=args.beam_size,
        batch_size=args.batch_size,
        cpu_threads=args.cpu_threads,
        hotwords=args.hotwords,
        workers=args.workers,
        model=str(args.model_dir) if args.model_dir else None,
    )


def _options(args) -> dict:
    """Device and decoding options: callqa's settings where callqa is importable, else its defaults."""
    try:
        s = _settings(args)
        opts = {
            "device": s.device,
            "compute_type": s.compute_type,
            "beam_size": s.beam_size,
            "batch_size": s.batch_size,
            "cpu_threads": s.cpu_threads,
            "hotwords": s.hotwords,
            "vad_threshold": s.vad_threshold,
        }
    except ImportError:
        defaults = {"device": "auto", "compute_type": "auto", "beam_size": 5, "batch_size": 8, "cpu_threads": 0, "hotwords": False, "vad_threshold": 0.25}
        opts = {k: v if (v := getattr(args, k, None)) is not None else defaults[k] for k in defaults}
    if opts["device"] == "auto":
        import ctranslate2

        opts["device"] = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    if opts["compute_type"] == "auto":
        opts["compute_type"] = "float16" if opts["device"] == "cuda" else "int8"
    return opts


def _vocabulary(script_id: str) -> list[str]:
    """A script's vocabulary (callqa's hotwords), read without callqa."""
    import yaml  # ctranslate2 depends on PyYAML

    for path in sorted((ROOT / "scripts_library").glob("*.y*ml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and doc.get("id") == script_id:
            return list(doc.get("vocabulary") or [])
    return []


def run_bare(args, calls: list[dict]) -> dict:
    import threading

    from faster_whisper import BatchedInferencePipeline, WhisperModel, decode_audio

    opts = _options(args)
    if args.model_dir:
        model_path = str(args.model_dir)
    else:
        try:
            from callqa.asr import resolve_model
        except ImportError as exc:
            raise SystemExit(f"callqa is not importable here ({exc}): pass --model-dir") from None
        model_path = resolve_model(_settings(args))
    hotwords = {s: " ".join(_vocabulary(s)) or None if opts["hotwords"] else None for s in {c["script"] for c in calls}}
    decoding = {"beam_size": opts["beam_size"], "batch_size": opts["batch_size"], "word_timestamps": True, "condition_on_previous_text": False}
    started = time.perf_counter()
    model = WhisperModel(
        model_path, device=opts["device"], compute_type=opts["compute_type"], cpu_threads=opts["cpu_threads"], num_workers=args.workers, local_files_only=True
    )
    model_load = time.perf_counter() - started
    started = time.perf_counter()  # warm-up: VAD model, first kernels (JIT-compiled on GPUs newer than the wheel's SASS)
    first = decode_audio(str(BATCH / calls[0]["file"]), split_stereo=True)[0][: 30 * 16000]
    list(BatchedInferencePipeline(model).transcribe(first, language=calls[0]["language"], vad_filter=True, **decoding)[0])
    warmup = time.perf_counter() - started
    local = threading.local()

    def work(call: dict) -> tuple[float, int]:  # audio seconds, words recognised
        if not hasattr(local, "pipeline"):
            local.pipeline = BatchedInferencePipeline(model)
        words = 0
        channels = decode_audio(str(BATCH / call["file"]), split_stereo=True)
        for samples in channels:  # each channel on its own, as faster-whisper's README does it
            segments, _info = local.pipeline.transcribe(
                samples,
                language=call["language"],
                hotwords=hotwords[call["script"]],
                vad_filter=True,
                vad_parameters={"threshold": opts["vad_threshold"], "min_silence_duration_ms": 160},
                **decoding,
            )
            words += sum(len(s.words or ()) for s in segments if s.text.strip())
        return len(channels[0]) / 16000, words

    results, wall, loads = _timed_map(work, calls, args.workers)
    figures = _figures(len(calls), sum(s for s, _ in results), wall, model_load + warmup, loads)
    return {
        **figures,
        "load_breakdown": {"asr_model": round(model_load, 2), "warmup": round(warmup, 2)},
        "words": sum(n for _, n in results),
        "model": model_path,
        **opts,
        "workers": args.workers,
        "faster_whisper": _version("faster_whisper"),
        "ctranslate2": _version("ctranslate2"),
        "gpu": _gpu() if opts["device"] == "cuda" else None,
    }


def run_asr(args, calls: list[dict]) -> dict:
    from callqa.asr import get_transcriber
    from callqa.asr.audio import decode_audio

    settings = _settings(args)
    started = time.perf_counter()
    transcriber = get_transcriber(settings)
    model_load = time.perf_counter() - started
    started = time.perf_counter()  # warm-up: VAD model and the first kernels (JIT-compiled on GPUs newer than the wheel's code)
    transcriber.transcribe(decode_audio(BATCH / calls[0]["file"]).channels[0][: 30 * 16000], calls[0]["language"])
    warmup = time.perf_counter() - started
    hotwords = {c["script"]: " ".join(_vocabulary(c["script"])) or None if settings.hotwords else None for c in calls}

    def work(call: dict) -> tuple[float, int]:
        audio = decode_audio(BATCH / call["file"])
        channels = transcriber.transcribe_many(audio.channels, call["language"], hotwords[call["script"]])
        return audio.duration, sum(len(s.words) for segments in channels for s in segments)

    results, wall, loads = _timed_map(work, calls, settings.workers)
    o = transcriber.options
    return {
        **_figures(len(calls), sum(a for a, _ in results), wall, model_load + warmup, loads),
        "load_breakdown": {"asr_model": round(model_load, 2), "warmup": round(warmup, 2)},
        "words": sum(n for _, n in results),
        "model": settings.model,
        "device": o.device,
        "compute_type": o.compute_type,
        "beam_size": o.beam_size,
        "batch_size": o.batch_size,
        "vad_threshold": o.vad_threshold,
        "hotwords": settings.hotwords,
        "workers": settings.workers,
        "gpu": _gpu() if o.device == "cuda" else None,
    }


def run_pipeline(args, calls: list[dict]) -> dict:
    from concurrent.futures import ThreadPoolExecutor

    from callqa import __version__
    from callqa.analysis import analyze_transcript
    from callqa.asr import get_transcriber
    from callqa.asr.audio import decode_audio
    from callqa.batch import plan_batch, process_call
    from callqa.errors import CallQAError
    from callqa.scripts import find_script
    from callqa.store import Store
    from callqa.types import transcript_from_dict

    settings = _settings(args)
    started = time.perf_counter()
    transcriber = get_transcriber(settings)
    model_load = time.perf_counter() - started
    started = time.perf_counter()  # warm-up: VAD model, first kernels, and the first analysis per script (lemmatisers, compiled phrases)
    transcriber.transcribe(decode_audio(BATCH / calls[0]["file"]).channels[0][: 30 * 16000], calls[0]["language"])
    for script_id in sorted({c["script"] for c in calls}):
        part = ROOT / next(c["parts"][0] for c in calls if c["script"] == script_id)
        reference = json.loads((part.parent.parent / "reference" / f"{part.stem}.json").read_text(encoding="utf-8"))
        analyze_transcript(transcript_from_dict(reference), find_script(script_id, settings.scripts_dir))
    warmup = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "calls"
        folder.mkdir()
        for call in calls:  # only the selected calls, as the folder the nightly batch would scan
            for name in (call["file"], Path(call["file"]).with_suffix(".json").name):
                (folder / name).symlink_to(BATCH / name)
        loads = [os.getloadavg()[0]]
        started = time.perf_counter()
        audio, failed = 0.0, []
        # As flows/nightly.py without Prefect: `workers` calls analysed at once, the one store written by this thread.
        with Store(Path(tmp) / "speed.duckdb") as store, ThreadPoolExecutor(max_workers=settings.workers) as pool:
            run_id = store.start_run(str(folder), {"callqa": __version__})
            plan = plan_batch(folder, settings, store.done_keys())
            futures = [pool.submit(process_call, job, settings, run_id) for job in plan.jobs]
            for job, future in zip(plan.jobs, futures):
                try:
                    result = future.result()
                except CallQAError as exc:
                    store.record_failure(run_id, job.record.file_path, job.record.content_hash, "analyze", exc)
                    failed.append(f"{job.record.metadata.call_id}: {exc}")
                    continue
                store.load(result.rows)
                audio += result.duration
            store.update_run(run_id, status="finished", found=plan.found, processed=len(plan.jobs) - len(failed))
            wall = time.perf_counter() - started
            loads.append(os.getloadavg()[0])
            stored, words = store.con.execute("SELECT (SELECT count(*) FROM scores), (SELECT sum(json_array_length(words)) FROM segments)").fetchone()
    figures = _figures(stored, audio, wall, model_load + warmup, loads)
    o = transcriber.options
    return {
        **figures,
        "load_breakdown": {"asr_model": round(model_load, 2), "warmup": round(warmup, 2)},
        "words": words,
        "failed": failed + [f.message for f in plan.failures],
        "model": settings.model,
        "device": o.device,
        "compute_type": o.compute_type,
        "beam_size": o.beam_size,
        "batch_size": o.batch_size,
        "cpu_threads": settings.cpu_threads,
        "hotwords": settings.hotwords,
        "workers": settings.workers,
        "callqa": __version__,
        "gpu": _gpu() if o.device == "cuda" else None,
    }


def _timed_map(work, items: list, workers: int) -> tuple[list, float, list[float]]:
    """work over items from `workers` threads: results, wall seconds, 1-minute load before and after."""
    from concurrent.futures import ThreadPoolExecutor

    loads = [os.getloadavg()[0]]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(work, items))
    wall = time.perf_counter() - started
    return results, wall, [*loads, os.getloadavg()[0]]


def _figures(calls: int, audio: float, wall: float, load: float, loads: list[float]) -> dict:
    rate = audio / wall if wall else None
    return {
        "calls": calls,
        "audio_seconds": round(audio, 1),
        "wall_seconds": round(wall, 1),
        "load_seconds": round(load, 2),
        "audio_s_per_wall_s": round(rate, 2),
        "audio_hours_per_wall_hour": round(rate, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_avg_1min": {"start": round(loads[0], 2), "end": round(loads[1], 2)},
    }


def _version(module: str) -> str | None:
    try:
        return __import__(module).__version__
    except ImportError:
        return None


def _gpu() -> str | None:
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"], capture_output=True, text=True, timeout=30
        )
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("both", "bare", "pipeline", "asr"), default="both")
    parser.add_argument("--calls", type=int, help="the first N calls of the batch (default: all)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--compute-type")
    parser.add_argument("--beam-size", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--cpu-threads", type=int)
    parser.add_argument("--hotwords", action=argparse.BooleanOptionalAction, help="the script's vocabulary as hotwords (default: callqa's setting, off)")
    parser.add_argument("--model-dir", type=Path, help="a CTranslate2 Whisper folder instead of callqa's default model")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rebuild", action="store_true", help="build the batch again even if it is cached")
    parser.add_argument("--child", choices=("bare", "pipeline", "asr"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        calls = _cached_manifest()["calls"][: args.calls]
        print(json.dumps({"bare": run_bare, "pipeline": run_pipeline, "asr": run_asr}[args.child](args, calls)))
        return
    started = time.perf_counter()
    manifest, built = build_batch(args.rebuild)
    build_seconds = time.perf_counter() - started
    calls = manifest["calls"][: args.calls]
    argv = [a for a in sys.argv[1:] if a != "--rebuild"]
    result = {
        "batch": {
            "dir": str(BATCH.relative_to(ROOT)),
            "calls": len(calls),
            "audio_seconds": round(sum(c["seconds"] for c in calls), 1),
            "call_seconds_min_max": [min(c["seconds"] for c in calls), max(c["seconds"] for c in calls)],
            "languages": {lang: sum(c["language"] == lang for c in calls) for lang in sorted({c["language"] for c in calls})},
            "built_now": built,
            "build_seconds": round(build_seconds, 1) if built else None,
        }
    }
    for mode in ("bare", "pipeline") if args.mode == "both" else (args.mode,):
        child = subprocess.run([sys.executable, str(Path(__file__).resolve()), *argv, "--child", mode], capture_output=True, text=True)
        if child.returncode:
            sys.stderr.write(child.stderr)
            raise SystemExit(f"{mode} mode failed (exit {child.returncode})")
        result[mode] = json.loads(child.stdout.strip().splitlines()[-1])
    if "bare" in result and "pipeline" in result:
        ratio = result["pipeline"]["wall_seconds"] / result["bare"]["wall_seconds"]
        result["pipeline_over_bare_wall"] = round(ratio, 3)
        result["targets"] = TARGETS
        result["met"] = {
            "audio_hours_per_wall_hour": result["pipeline"]["audio_hours_per_wall_hour"] >= TARGETS["audio_hours_per_wall_hour"],
            "pipeline_over_bare_wall": ratio <= TARGETS["pipeline_over_bare_wall"],
            "peak_rss_mb": max(result[m]["peak_rss_mb"] for m in ("bare", "pipeline")) < TARGETS["peak_rss_mb"],
        }
    result["machine"] = {"cpus": len(os.sched_getaffinity(0)), "python": platform.python_version(), "platform": platform.platform()}
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
