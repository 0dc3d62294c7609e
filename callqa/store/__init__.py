"""The DuckDB store: schema and migrations, a call's rows built where it was
analysed and loaded set-based in short transactions, runs, failures, and the
queries each reader makes. Reading the database never imports the recogniser
or the analysis."""

from callqa.store.database import Store, open_store
from callqa.store.failures import Failure, FailureStage
from callqa.store.queries.reports import ManagerSummary
from callqa.store.queries.rescore import StoredCall
from callqa.store.rows import CallRecord, CallResult, Rows, SeenFile, call_result, call_rows, recording_rows, score_rows
from callqa.store.schema import SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION",
    "CallRecord",
    "CallResult",
    "Failure",
    "FailureStage",
    "ManagerSummary",
    "Rows",
    "SeenFile",
    "Store",
    "StoredCall",
    "call_result",
    "call_rows",
    "open_store",
    "recording_rows",
    "score_rows",
]
