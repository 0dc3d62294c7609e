"""Domain errors survive pickling (Dask sends a task's exception between processes) and say whether to retry."""

from __future__ import annotations

import copy
import inspect
import pickle
import subprocess
import sys
import typing

import cloudpickle
import pytest

from callqa import errors
from callqa.errors import CallQAError, NotAConversationError, ScriptError, StoreBusyError, is_retryable

# Every error class errors.py defines, found by introspection: a new one is covered without touching this file.
ERROR_CLASSES = sorted(
    (obj for obj in vars(errors).values() if inspect.isclass(obj) and issubclass(obj, CallQAError) and obj.__module__ == errors.__name__),
    key=lambda cls: cls.__name__,
)


def _sample_value(name: str, annotation: typing.Any):
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", repr(annotation))
    if text.startswith(("list", "tuple", "Sequence")):
        return [f"{name} one", f"{name} two: ünïcode"]
    if text.startswith("int"):
        return 3
    return f"{name} of the sample error: ünïcode"


def make_error(cls: type[CallQAError]) -> CallQAError:
    """An instance of `cls` built from its own __init__ signature, with a hint wherever it takes one."""
    kwargs = {}
    for name, param in inspect.signature(cls.__init__).parameters.items():
        if name == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if name == "hint" or param.default is param.empty:
            kwargs[name] = _sample_value(name, param.annotation)
    return cls(**kwargs)


def assert_same_error(copied: BaseException, original: BaseException) -> None:
    assert copied is not original
    assert type(copied) is type(original)
    assert copied.args == original.args
    assert str(copied) == str(original)
    assert repr(copied) == repr(original)
    assert vars(copied) == vars(original)  # message, hint, kind, problems, notes, anything set on it
    assert copied.message == original.message
    assert copied.hint == original.hint
    assert copied.retryable == original.retryable
    assert is_retryable(copied) == is_retryable(original)


def test_introspection_finds_every_error_class():
    names = {cls.__name__ for cls in ERROR_CLASSES}
    assert {"CallQAError", "ConfigError", "NotAConversationError", "ScriptError", "StoreBusyError"} <= names
    assert len(names) >= 10


@pytest.mark.parametrize("dumps, loads", [(pickle.dumps, pickle.loads), (cloudpickle.dumps, pickle.loads)], ids=["pickle", "cloudpickle"])
@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
def test_every_error_round_trips(cls, dumps, loads):
    original = make_error(cls)
    assert original.hint  # every sample carries a hint, passed in or set by the class
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        assert_same_error(loads(dumps(original, protocol=protocol)), original)


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
def test_every_error_copies(cls):
    original = make_error(cls)
    assert_same_error(copy.copy(original), original)
    assert_same_error(copy.deepcopy(original), original)


def test_extra_attributes_survive():
    silence = pickle.loads(pickle.dumps(NotAConversationError("only silence in the recording", kind="silence")))
    assert isinstance(silence, errors.AudioError)
    assert silence.kind == "silence"
    assert silence.message == "only silence in the recording"
    assert "callqa failures" in silence.hint

    script = pickle.loads(pickle.dumps(ScriptError(["steps[0].id: missing", "language: 'xx' is not supported"])))
    assert script.problems == ["steps[0].id: missing", "language: 'xx' is not supported"]
    assert "script has 2 problem(s)" in str(script) and "  - language: 'xx' is not supported" in str(script)
    assert "callqa script check" in str(script)

    busy = pickle.loads(cloudpickle.dumps(StoreBusyError("database is locked", hint="try again later")))
    assert busy.retryable is True and is_retryable(busy)


def test_no_hint_stays_no_hint():
    plain = pickle.loads(pickle.dumps(CallQAError("no database at /x")))
    assert plain.hint is None and str(plain) == "no database at /x"


def test_notes_and_attributes_set_later_survive():
    error = ScriptError(["name: empty"])
    error.add_note("while loading scripts/a.yaml")
    error.file = "scripts/a.yaml"
    copied = pickle.loads(pickle.dumps(error))
    assert copied.__notes__ == ["while loading scripts/a.yaml"]
    assert copied.file == "scripts/a.yaml"
    assert copied.problems == ["name: empty"]


def test_errors_raised_and_caught_again_after_a_round_trip():
    try:
        raise pickle.loads(pickle.dumps(NotAConversationError("an answering machine", kind="answering-machine")))
    except errors.AudioError as caught:
        assert caught.kind == "answering-machine"
        assert caught.__traceback__ is not None


def test_errors_unpickle_in_another_process():
    """What a Dask worker sends, a fresh interpreter (no test module imported) reads back."""
    originals = [make_error(cls) for cls in ERROR_CLASSES]
    code = (
        "import pickle, sys\n"
        "for e in pickle.loads(sys.stdin.buffer.read()):\n"
        "    print(type(e).__name__, repr(str(e)), repr(getattr(e, 'kind', None)), getattr(e, 'problems', None), e.retryable)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], input=pickle.dumps(originals), capture_output=True, check=True).stdout.decode().splitlines()
    assert out == [f"{type(e).__name__} {str(e)!r} {getattr(e, 'kind', None)!r} {getattr(e, 'problems', None)} {e.retryable}" for e in originals]


class _LaterError(CallQAError):
    """Stands for an error class added later, with yet another __init__."""

    def __init__(self, path: str, *, line: int):
        super().__init__(f"{path}:{line}: bad line", hint="fix that line")
        self.path, self.line = path, line


def test_a_subclass_with_its_own_init_needs_nothing_more():
    copied = pickle.loads(pickle.dumps(_LaterError("calls/a.json", line=7)))
    assert (copied.path, copied.line, str(copied)) == ("calls/a.json", 7, "calls/a.json:7: bad line\n  hint: fix that line")


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
def test_is_retryable_for_our_errors(cls):
    assert is_retryable(make_error(cls)) is (cls is StoreBusyError or issubclass(cls, StoreBusyError))


def test_only_a_busy_store_is_worth_retrying_among_ours():
    assert [cls.__name__ for cls in ERROR_CLASSES if cls.retryable] == ["StoreBusyError"]


@pytest.mark.parametrize(
    "error, expected",
    [
        (ValueError("unexpected"), True),
        (OSError(28, "No space left on device"), True),
        (TimeoutError(), True),
        (RuntimeError("worker died"), True),
        (KeyboardInterrupt(), False),
        (SystemExit(1), False),
        (GeneratorExit(), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_is_retryable_for_foreign_exceptions(error, expected):
    assert is_retryable(error) is expected
    assert is_retryable(pickle.loads(pickle.dumps(error))) is expected
