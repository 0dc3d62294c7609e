"""Cost of the nightly flow (Prefect, store) against the bare pipeline on the same batch. Prints one JSON object.

    .venv/bin/python benchmarks/batch_speed.py [--calls 200] [--workers 1] [--only bare|flow] [--rebuild]

The batch: N calls made from the 12 sample recordings of examples/calls (10 MP3, one Ogg, one WAV;
3 of them mono), taken in turn. Each copy is its source re-muxed with PyAV (no re-encoding) with a
distinct `comment` tag, so its bytes, and so its content hash, differ while the decoded audio is
sample for sample the same; its sidecar is the source's with a distinct call_id. Built once into
benchmarks/.cache/batch-<N>/ (git-ignored); batch.json there lists the copies.

Both runs use the same files and the same settings (callqa's, from defaults, callqa.toml and
CALLQA_* as usual; `workers` from --workers), in this one process, bare first:
  bare  the pipeline without flow or store: callqa.batch.plan_batch(folder, settings), then
        process_call(job, settings) for every job on a ThreadPoolExecutor of `workers` threads
        (as the flow's task runner), results discarded;
  flow  flows.nightly.nightly(recordings_dir=..., db_path=<fresh file>) under
        prefect.testing.utilities.prefect_test_harness() (a real temporary Prefect server, whose
        start is reported as server_start_s and not counted).
The model is loaded and warmed (5 s transcribed, the speaker encoder loaded, one analysis per
script) before either is timed, so neither pays the load. overhead = flow wall / bare wall - 1
(target <= 10%). Peak RSS is this process's ru_maxrss after each stage (it only grows: for the
flow's own peak use --only flow). cpu_s is this process's CPU time (all threads) during a run;
server_cpu_s that of the temporary Prefect server's processes during the flow: on a machine whose
cores the recogniser already fills, what the server burns comes out of the calls' time. The
flow's run is checked in its database: calls stored = the batch's distinct contents, and no failures.
"""

from __future__ import annotations

import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # the embedded server must not phone home

import argparse
import json
import platform
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `flows` is not an installed package

SOURCES = ROOT / "examples" / "calls"
CACHE = ROOT / "benchmarks" / ".cache"
RECIPE = 1  # bump when the copies are made differently: a cached batch of another recipe is rebuilt
TARGET_OVERHEAD = 0.10


# -- the batch -------------------------------------------------------------


def _sources() -> list[Path]:
    return sorted(p for p in SOURCES.iterdir() if p.suffix != ".json" and p.with_suffix(".json").is_file())


def _remux(src: Path, dst: Path, tag: str) -> None:
    """The same packets in a new container with a `comment` tag: other bytes, the same audio."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w", format=inp.format.name.split(",")[0]) as out:
        stream_in = inp.streams.audio[0]
        stream_out = out.add_stream_from_template(stream_in)
        out.metadata["comment"] = tag
        for packet in inp.demux(stream_in):
            if packet.dts is None:  # the demuxer's flush packet
                continue
            packet.stream = stream_out
            out.mux(packet)


def build_batch(n: int, rebuild: bool = False) -> tuple[Path, dict, bool, float]:
    """The batch folder and its listing, building it first when missing; whether built now, and how long it took."""
    folder = CACHE / f"batch-{n}"
    listing = folder / "batch.json"
    if not rebuild and listing.is_file():
        data = json.loads(listing.read_text(encoding="utf-8"))
        if data.get("recipe") == RECIPE and all((folder / c["file"]).is_file() and (folder / c["sidecar"]).is_file() for c in data["calls"]):
            return folder, data, False, 0.0
    started = time.perf_counter()
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    sources, calls = _sources(), []
    for i in range(n):
        src = sources[i % len(sources)]
        call_id = f"{src.stem}-{i:05d}"
        _remux(src, folder / f"{call_id}{src.suffix}", f"callqa batch_speed copy {i}")
        sidecar = json.loads(src.with_suffix(".json").read_text(encoding="utf-8")) | {"call_id": call_id}
        (folder / f"{call_id}.json").write_text(json.dumps(sidecar, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        calls.append({"file": f"{call_id}{src.suffix}", "sidecar": f"{call_id}.json", "source": src.name})
    data = {"recipe": RECIPE, "calls": calls}
    listing.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return folder, data, True, time.perf_counter() - started


# -- the runs --------------------------------------------------------------


def _rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _cpu_s(processes) -> float:
    """User + system CPU seconds used so far by these processes (all their threads)."""
    total = 0.0
    for p in processes:
        try:
            times = p.cpu_times()
            total += times.user + times.system
        except Exception:
            pass
    return total


def warm_up(settings, folder: Path) -> dict:
    """Load the model, the VAD, the speaker encoder and each script's analysis once."""
    from callqa.analysis import analyze_transcript
    from callqa.asr import get_transcriber
    from callqa.asr.audio import decode_audio
    from callqa.asr.speakers import _encoder  # private, but the one way to load the encoder without separating a call
    from callqa.batch import plan_batch
    from callqa.types import transcript_from_dict

    started = time.perf_counter()
    transcriber = get_transcriber(settings)
    model_s = time.perf_counter() - started
    started = time.perf_counter()
    plan = plan_batch(folder, settings)
    first = plan.jobs[0]
    transcriber.transcribe(decode_audio(first.record.file_path).channels[0][: 5 * 16000], settings.language or first.script.language)
    _encoder()
    for script in {job.script.id: job.script for job in plan.jobs}.values():
        copy = next(Path(j.record.file_path) for j in plan.jobs if j.script.id == script.id)  # <source>-<i>.<ext>
        reference = ROOT / "examples" / "reference" / f"{copy.stem.rsplit('-', 1)[0]}.json"
        analyze_transcript(transcript_from_dict(json.loads(reference.read_text(encoding="utf-8"))), script)
    return {
        "model_s": round(model_s, 2),
        "warmup_s": round(time.perf_counter() - started, 2),
        "device": transcriber.options.device,
        "compute_type": transcriber.options.compute_type,
    }


def run_bare(settings, folder: Path) -> dict:
    from callqa.batch import plan_batch, process_call

    me = psutil.Process()
    rss = me.memory_info().rss / 2**20
    loads, cpu = [os.getloadavg()[0]], _cpu_s([me])
    started = time.perf_counter()
    plan = plan_batch(folder, settings)
    plan_s = time.perf_counter() - started
    audio, failed = 0.0, []
    with ThreadPoolExecutor(max_workers=settings.workers) as pool:
        futures = {pool.submit(process_call, job, settings): job for job in plan.jobs}
        for future in as_completed(futures):
            try:
                audio += future.result().duration  # the rows themselves are discarded
            except Exception as exc:
                failed.append(f"{futures[future].record.metadata.call_id}: {type(exc).__name__}: {exc}")
    wall = time.perf_counter() - started
    loads.append(os.getloadavg()[0])
    return {
        **_figures(len(plan.jobs) - len(failed), audio, wall, loads),
        "cpu_s": round(_cpu_s([me]) - cpu, 1),
        "rss_mb": {"before": round(rss), "after": round(me.memory_info().rss / 2**20)},
        "plan_s": round(plan_s, 3),
        "found": plan.found,
        "jobs": len(plan.jobs),
        "skipped": len(plan.skipped),
        "failed": len(failed) + len(plan.failures),
        "failures": failed + [f.message for f in plan.failures],
        "peak_rss_mb_so_far": _rss_mb(),
    }


def run_flow(folder: Path, tmp: Path) -> dict:
    from prefect.testing.utilities import prefect_test_harness

    from callqa.store import Store
    from flows.nightly import nightly

    db = tmp / "flow.duckdb"
    started = time.perf_counter()
    with prefect_test_harness(server_startup_timeout=120):
        server_start = time.perf_counter() - started
        me = psutil.Process()
        server = me.children(recursive=True)  # the temporary server (uvicorn in a subprocess)
        rss = me.memory_info().rss / 2**20
        loads, cpu, server_cpu = [os.getloadavg()[0]], _cpu_s([me]), _cpu_s(server)
        started = time.perf_counter()
        result = nightly(recordings_dir=str(folder), db_path=str(db))
        wall = time.perf_counter() - started
        loads.append(os.getloadavg()[0])
        cpu, server_cpu = _cpu_s([me]) - cpu, _cpu_s(server) - server_cpu
        rss = {"before": round(rss), "after": round(me.memory_info().rss / 2**20)}
        server_rss = sum(p.memory_info().rss for p in server if p.is_running()) / 2**20
    with Store(db, read_only=True) as store:
        status, timings, audio = store.con.execute("SELECT status, timings, audio_seconds FROM runs WHERE run_id = ?", [result.run_id]).fetchone()
        stored, scored, recordings, failures = store.con.execute(
            "SELECT (SELECT count(*) FROM calls), (SELECT count(*) FROM scores), (SELECT count(*) FROM recordings), (SELECT count(*) FROM failures)"
        ).fetchone()
        messages = [r[0] for r in store.con.execute("SELECT message FROM failures").fetchall()]
    return {
        **_figures(result.processed, audio or 0.0, wall, loads),
        "cpu_s": round(cpu, 1),
        "rss_mb": rss,
        "server_cpu_s": round(server_cpu, 1),
        "server_processes": len(server),
        "server_rss_mb": round(server_rss),
        "server_start_s": round(server_start, 2),
        "flow_timings": json.loads(timings) if timings else None,
        "run_status": status,
        "found": result.found,
        "processed": result.processed,
        "skipped": result.skipped,
        "failed": result.failed,
        "db": {"calls": stored, "scores": scored, "recordings": recordings, "failures": failures},
        "failures": messages,
        "peak_rss_mb_so_far": _rss_mb(),
    }


def _figures(calls: int, audio: float, wall: float, loads: list[float]) -> dict:
    return {
        "calls": calls,
        "wall_s": round(wall, 2),
        "audio_s": round(audio, 1),
        "calls_per_minute": round(60 * calls / wall, 2) if wall else None,
        "x_realtime": round(audio / wall, 2) if wall else None,
        "load_avg_1min": {"start": round(loads[0], 2), "end": round(loads[1], 2)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--workers", type=int, default=1, help="calls at once (the flow's `workers` setting, the bare run's threads)")
    parser.add_argument("--only", choices=("bare", "flow"), help="one of the two runs")
    parser.add_argument("--rebuild", action="store_true", help="build the batch again even if it is cached")
    args = parser.parse_args()
    os.environ["CALLQA_WORKERS"] = str(args.workers)  # the flow reads its settings itself: both runs get them the same way

    from callqa.config import load_settings
    from callqa.hashing import file_sha256

    folder, batch, built, build_s = build_batch(args.calls, args.rebuild)
    settings = load_settings(recordings_dir=folder)
    distinct = len({file_sha256(folder / c["file"]) for c in batch["calls"]})
    result: dict = {
        "batch": {
            "dir": str(folder.relative_to(ROOT)),
            "calls": len(batch["calls"]),
            "distinct_contents": distinct,
            "sources": len({c["source"] for c in batch["calls"]}),
            "built_now": built,
            "build_s": round(build_s, 1) if built else None,
        }
    }
    result["settings"] = {
        "model": settings.model,
        "workers": settings.workers,
        "beam_size": settings.beam_size,
        "batch_size": settings.batch_size,
        "cpu_threads": settings.cpu_threads,
        "write_every": settings.write_every,
        "task_retries": settings.task_retries,
    }
    result["settings"] |= warm_up(settings, folder)
    result["peak_rss_mb_after_warmup"] = _rss_mb()
    if args.only in (None, "bare"):
        result["bare"] = run_bare(settings, folder)
    if args.only in (None, "flow"):
        with tempfile.TemporaryDirectory(prefix="batch-speed-") as tmp:
            result["flow"] = run_flow(folder, Path(tmp))
        flow = result["flow"]
        result["checks"] = {
            "db_calls_eq_distinct": flow["db"]["calls"] == distinct,
            "no_failures": flow["db"]["failures"] == 0 and flow["failed"] == 0,
            "run_finished": flow["run_status"] == "finished",
        }
    if "bare" in result and "flow" in result:
        overhead = result["flow"]["wall_s"] / result["bare"]["wall_s"] - 1
        result["overhead"] = round(overhead, 4)
        result["target_overhead"] = TARGET_OVERHEAD
        result["met"] = overhead <= TARGET_OVERHEAD
        result["checks"]["same_audio"] = abs(result["flow"]["audio_s"] - result["bare"]["audio_s"]) < 0.5
    result["machine"] = {"cpus": len(os.sched_getaffinity(0)), "python": platform.python_version(), "platform": platform.platform()}
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
