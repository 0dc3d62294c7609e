"""Roles in a mono call: which of the two separated voices is the manager.

The voices come from `callqa.asr.speakers` as anonymous 0 and 1. The manager is
the one who says the script: the greeting with the company name, the
questions, the next step. Both ways round are scored against the script and
the way that finds more of the manager's steps (and the client's objections)
wins; a tie, or a split the speaker stage itself doubts, leaves every word
`unknown` rather than guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from callqa.analysis import analyze_transcript
from callqa.asr.speakers import SpeakerTrack, split_speakers
from callqa.asr.utterances import build_transcript
from callqa.errors import ModelError
from callqa.scripts import Script
from callqa.types import AsrSegment, Speaker, SpeakerSplit, Transcript

__all__ = ["MonoAttribution", "RoleDecision", "assign_roles", "attribute_mono", "split_by_voice"]

# The winning assignment must find this many more script items than the other.
MIN_MARGIN = 1


@dataclass(frozen=True)
class RoleDecision:
    manager_voice: int | None  # None: undecided, segments stay "unknown"
    evidence: dict[str, int]  # script items found with each voice as the manager
    reason: str


def split_by_voice(segments: list[AsrSegment], track: SpeakerTrack) -> dict[int, list[AsrSegment]]:
    """Cut decoded segments where the voice changes, word by word; words in no voice's turn join their neighbours.

    `track` must be reliable (it then has turns).
    """
    by_voice: dict[int, list[AsrSegment]] = {0: [], 1: []}
    for seg in segments:
        voices = [track.voice_at((w.start + w.end) / 2) for w in seg.words] or [track.voice_at((seg.start + seg.end) / 2)]
        known = [v for v in voices if v is not None]
        if not known:  # no voice heard here (speech the energy gate missed): the nearest turn's voice
            middle = (seg.start + seg.end) / 2
            known = [min(track.turns, key=lambda turn: max(turn[0] - middle, middle - turn[1], 0.0))[2]]
        filled, last = [], known[0]
        for v in voices:
            last = v if v is not None else last
            filled.append(last)
        if not seg.words:
            by_voice[filled[0]].append(seg)
            continue
        start = 0
        for i in range(1, len(filled) + 1):
            if i == len(filled) or filled[i] != filled[start]:
                words = seg.words[start:i]
                text = " ".join(w.text for w in words)
                by_voice[filled[start]].append(replace(seg, start=words[0].start, end=words[-1].end, text=text, words=words))
                start = i
    return by_voice


def _items_found(transcript: Transcript, script: Script) -> int:
    managers_steps = {step.id for step in script.steps if step.speaker == "manager"}
    analysis = analyze_transcript(transcript, script, "role-check")
    return sum(s.found for s in analysis.steps if s.id in managers_steps) + len(analysis.objections)


def assign_roles(by_voice: dict[int, list[AsrSegment]], duration: float, script: Script | None) -> RoleDecision:
    """Decide which voice is the manager by scoring both assignments against the script."""
    if script is None:
        return RoleDecision(None, {}, "no script to tell the manager by")
    evidence = {}
    for manager in (0, 1):
        transcript = build_transcript({"manager": by_voice[manager], "client": by_voice[1 - manager]}, duration)
        evidence[f"voice{manager}"] = _items_found(transcript, script)
    margin = evidence["voice0"] - evidence["voice1"]
    if abs(margin) < MIN_MARGIN:
        return RoleDecision(None, evidence, "both voices fit the manager's part equally")
    return RoleDecision(0 if margin > 0 else 1, evidence, "")


@dataclass
class MonoAttribution:
    segments: dict[Speaker, list[AsrSegment]]  # by speaker role, "unknown" when undecided
    split: SpeakerSplit  # recorded with the transcript
    warnings: list[str] = field(default_factory=list)


def attribute_mono(samples: np.ndarray, segments: list[AsrSegment], duration: float, script: Script | None) -> MonoAttribution:
    """Separate a mono call's two voices and give each its role; `unknown` with a warning saying why not."""
    spans = [(w.start, w.end) for seg in segments for w in seg.words] or [(seg.start, seg.end) for seg in segments]
    try:
        track = split_speakers(samples, spans)
    except ModelError as exc:
        return MonoAttribution({"unknown": segments}, SpeakerSplit(None, False), [f"speakers not separated: {exc.message}"])
    separated = SpeakerSplit(track.method, track.reliable, round(track.separation, 3))
    if not track.reliable:
        return MonoAttribution({"unknown": segments}, separated, ["mono call: two voices could not be told apart, speakers are not attributed"])
    by_voice = split_by_voice(segments, track)
    decision = assign_roles(by_voice, duration, script)
    split = replace(separated, manager_voice=decision.manager_voice, evidence=decision.evidence)
    if decision.manager_voice is None:
        return MonoAttribution({"unknown": segments}, split, [f"mono call: two voices found, but {decision.reason}: speakers are not attributed"])
    manager = decision.manager_voice
    return MonoAttribution({"manager": by_voice[manager], "client": by_voice[1 - manager]}, split)
