"""Which failed calls Prefect tries again: the error says whether retrying can help."""

import pytest
from prefect.states import Completed, Failed

from callqa.errors import AudioError, MetadataError, NotAConversationError, StoreBusyError
from flows.nightly import _retry_if_retryable


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        (AudioError("a.mp3: not a readable audio file"), False),
        (NotAConversationError("a.mp3: not scored, answering machine", "answering_machine"), False),
        (MetadataError("a.json: not valid JSON"), False),
        (StoreBusyError("db busy"), True),
        (MemoryError(), True),
        (OSError(5, "Input/output error"), True),
    ],
)
def test_only_errors_that_retrying_can_fix_are_retried(error, retry):
    assert _retry_if_retryable(None, None, Failed(data=error)) is retry


def test_a_finished_task_is_not_retried():
    assert _retry_if_retryable(None, None, Completed(data=1)) is False
