"""Screening: is a recording a conversation worth scoring at all?

Outbound calls often reach an answering machine, a voicemail greeting or an
IVR menu, and recordings sometimes hold only silence or hold music. Scoring
those would count a missed greeting against a manager who never got a person
on the line, so they are recognised here and kept out of the scores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from callqa.text import plain_words
from callqa.types import Transcript

__all__ = ["CallKind", "screen_call"]

Kind = Literal["conversation", "no_speech", "answering_machine", "ivr"]

# What recorded voices say, as regular expressions over lower-case text with ё → е.
_VOICEMAIL = [
    r"оставьте (ваше |свое |голосовое )?сообщение",
    r"после (звукового )?сигнала",
    r"автоответчик",
    r"голосов\w+ (почт|ящик)",
    r"не может (сейчас )?(принять|ответить)",
    r"никто не может",
    r"абонент не отвечает",
    r"номер не отвечает",
    r"leave (a|your) message",
    r"after the (tone|beep)",
    r"voice ?mail",
    r"(is )?not available to take your call",
]
_IVR = [
    r"нажмите (\w+ )?(\d+|один|два|три|четыре|пять|шесть|семь|восемь|девять|ноль|звездочку|решетку)",
    r"оставайтесь на линии",
    r"(все )?(наши )?операторы заняты",
    r"ваш звонок (очень )?важен",
    r"ожидайте (пожалуйста )?ответа",
    r"абонент (недоступен|временно недоступен)",
    r"вне зоны действия",
    r"набранный (вами )?номер",
    r"номер (не существует|отключен|не обслуживается)",
    r"позвоните позднее",
    r"press (\w+ )?(\d+|one|two|three|four|five|six|seven|eight|nine|zero|star|pound|hash)",
    r"please (stay|hold) on the line",
    r"your call is important",
    r"all (of )?our (agents|operators|representatives) are (currently )?busy",
    r"the (number|person) you (have )?(dialed|called)",
    r"is (not|no longer) in service",
]
_VOICEMAIL_RE = re.compile("|".join(_VOICEMAIL))
_IVR_RE = re.compile("|".join(_IVR))
# A person who answers after a recorded message says more than this many words.
MAX_LIVE_WORDS = 12


@dataclass(frozen=True)
class CallKind:
    kind: Kind
    reason: str

    @property
    def is_conversation(self) -> bool:
        return self.kind == "conversation"


def screen_call(transcript: Transcript) -> CallKind:
    """Decide from the transcript whether a recording is a conversation, and if not, what it is."""
    if not transcript.segments:
        return CallKind("no_speech", f"no speech in {transcript.duration:.0f} s of audio (silence, hold music or tones)")
    recorded, live_words = [], 0
    for seg in transcript.segments:
        text = plain_words(seg.text)
        if _VOICEMAIL_RE.search(text) or _IVR_RE.search(text):
            recorded.append(text)
        else:
            live_words += len(text.split())
    if not recorded or live_words > MAX_LIVE_WORDS:
        return CallKind("conversation", "")
    said = " / ".join(recorded)
    if any(_VOICEMAIL_RE.search(text) for text in recorded):
        return CallKind("answering_machine", f"a recorded voicemail greeting and no live conversation: “{said[:120]}”")
    return CallKind("ivr", f"a recorded announcement or menu and no live conversation: “{said[:120]}”")
