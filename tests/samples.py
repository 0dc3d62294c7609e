"""Paths of the bundled samples, and a helper to copy them into a test folder."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SCRIPTS = ROOT / "scripts_library"


def copy_call(call_id: str, folder: Path, name: str | None = None) -> Path:
    """Copy a bundled sample call and its sidecar into `folder`."""
    audio = next(p for p in (EXAMPLES / "calls").glob(f"{call_id}.*") if p.suffix != ".json")
    target = folder / ((name or call_id) + audio.suffix)
    shutil.copyfile(audio, target)
    shutil.copyfile(audio.with_suffix(".json"), target.with_suffix(".json"))
    return target


ASTERISK = ROOT / "tests" / "data" / "asterisk"


def prompt_recording(target: Path, parts: list[str | float], noise_dbfs: float = -60.0) -> Path:
    """A mono 8 kHz WAV of real Asterisk prompts (names) and pauses (seconds) over faint line noise."""
    import wave

    import numpy as np

    rng = np.random.default_rng(0)
    pieces = []
    for part in parts:
        if isinstance(part, str):
            with wave.open(str(ASTERISK / f"{part}.wav")) as wav:
                pieces.append(np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16).astype(np.float32))
        else:
            pieces.append(np.zeros(int(part * 8000), dtype=np.float32))
    signal = np.concatenate(pieces)
    signal += rng.normal(0, 32768 * 10 ** (noise_dbfs / 20), len(signal))
    with wave.open(str(target), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(np.clip(signal, -32768, 32767).astype(np.int16).tobytes())
    return target


def three_hour_recording(target: Path) -> Path:
    """A real three-hour FLAC (8 kHz mono, silent: 2 MB, written in about a second), a call left open all night."""
    import av
    import numpy as np

    minute = np.zeros((1, 8000 * 60), dtype=np.int16)
    with av.open(str(target), "w") as out:
        stream = out.add_stream("flac", rate=8000, layout="mono")
        for _ in range(180):
            frame = av.AudioFrame.from_ndarray(minute, format="s16", layout="mono")
            frame.sample_rate = 8000
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return target


def new_version(script_path, folder, edit=lambda text: text):
    """A copy of a script file with its version bumped (and `edit` applied), next to its catalogues."""
    text = script_path.read_text(encoding="utf-8")
    version = int(text.split("version: ")[1].split()[0])
    target = folder / script_path.name
    target.write_text(edit(text.replace(f"version: {version}", f"version: {version + 1}")), encoding="utf-8")
    if not (folder / "catalogues").exists():
        (folder / "catalogues").symlink_to(SCRIPTS / "catalogues")
    return target
