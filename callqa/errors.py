"""Domain errors. Each says what went wrong and how to fix it.

`retryable` tells the orchestrator whether running the same work again could
succeed (a busy database, a full disk) or never will (a broken file).
"""

from __future__ import annotations


class CallQAError(Exception):
    """Base of every error callqa raises on purpose."""

    retryable = False

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message

    def __reduce__(self):
        # Errors cross process boundaries (Dask workers send a task's exception back pickled).
        # Exception's own pickling calls `type(self)(*self.args)`, which breaks every subclass whose
        # __init__ takes other arguments than the message (NotAConversationError, ScriptError).
        # So rebuild without calling __init__: the same args, then every attribute set on the
        # instance (message, hint, kind, problems, __notes__, ...) restored from __dict__.
        return _rebuild_error, (type(self), self.args), self.__dict__


class ConfigError(CallQAError):
    """Settings file or environment holds an invalid value."""


class ModelError(CallQAError):
    """The ASR model is missing, incomplete or cannot be loaded."""


class AudioError(CallQAError):
    """A recording cannot be decoded or holds no usable audio."""


class NotAConversationError(AudioError):
    """The recording holds no conversation to score: silence, an answering machine, an IVR menu."""

    def __init__(self, message: str, kind: str):
        super().__init__(message, hint="nothing to score: such calls are listed by `callqa failures`, not counted against anyone")
        self.kind = kind


class TranscriptError(CallQAError):
    """A transcript JSON file does not have the expected shape."""


class MetadataError(CallQAError):
    """A recording's metadata (sidecar) is missing something or malformed."""


class StoreError(CallQAError):
    """The database file cannot be used as it is (e.g. its schema is of another callqa version)."""


class StoreBusyError(StoreError):
    """The database file is locked by another writer; trying later can work."""

    retryable = True


class ScriptError(CallQAError):
    """A script file has problems; `problems` lists every one with its place."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"script has {len(problems)} problem(s):\n{lines}",
            hint="fix each listed field; `callqa script check FILE` re-checks the file",
        )


def _rebuild_error(cls: type[CallQAError], args: tuple) -> CallQAError:
    """Unpickling half of `CallQAError.__reduce__`: an instance of `cls` whose __init__ is not run."""
    error = cls.__new__(cls, *args)
    error.args = args
    return error


def is_retryable(error: BaseException) -> bool:
    """Our own errors say so; anything unexpected gets another try."""
    return error.retryable if isinstance(error, CallQAError) else isinstance(error, Exception)
