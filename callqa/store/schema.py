"""The database schema: every version's statements, each upgrading a file from
the version before in one transaction. Released versions are never edited; a
change is a new version, and a line in CHANGELOG.md."""

from __future__ import annotations

__all__ = ["MIGRATIONS", "SCHEMA_V1", "SCHEMA_VERSION"]

SCHEMA_VERSION = 4

SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY, started_at TIMESTAMP, finished_at TIMESTAMP, source VARCHAR,
    found INTEGER, processed INTEGER, skipped INTEGER, failed INTEGER, callqa_version VARCHAR);
CREATE TABLE IF NOT EXISTS calls (
    content_hash VARCHAR PRIMARY KEY, call_id VARCHAR, file_path VARCHAR, manager_id VARCHAR,
    manager_name VARCHAR, started_at TIMESTAMP, direction VARCHAR, duration DOUBLE,
    channel_layout VARCHAR, language VARCHAR, asr JSON, warnings VARCHAR[], created_at TIMESTAMP, run_id VARCHAR);
CREATE TABLE IF NOT EXISTS segments (
    content_hash VARCHAR, idx INTEGER, speaker VARCHAR, start_s DOUBLE, end_s DOUBLE, text VARCHAR,
    avg_logprob DOUBLE, no_speech_prob DOUBLE, words JSON, PRIMARY KEY (content_hash, idx));
CREATE TABLE IF NOT EXISTS scores (
    content_hash VARCHAR, script_id VARCHAR, script_version INTEGER, model VARCHAR, pipeline_version VARCHAR,
    script_compliance DOUBLE, objection_handling DOUBLE, overall DOUBLE, flags VARCHAR[],
    stop_word_count INTEGER, objection_count INTEGER, objections_handled INTEGER,
    manager_talk_seconds DOUBLE, client_talk_seconds DOUBLE, reliability JSON, options JSON, created_at TIMESTAMP, run_id VARCHAR,
    PRIMARY KEY (content_hash, script_id, script_version));
CREATE TABLE IF NOT EXISTS step_results (
    content_hash VARCHAR, script_id VARCHAR, script_version INTEGER, step_id VARCHAR, status VARCHAR, found BOOLEAN,
    score DOUBLE, start_s DOUBLE, end_s DOUBLE, evidence VARCHAR, phrase VARCHAR, context VARCHAR,
    required BOOLEAN, on_time BOOLEAN, in_order BOOLEAN);
CREATE TABLE IF NOT EXISTS stop_word_hits (
    content_hash VARCHAR, script_id VARCHAR, script_version INTEGER, stop_word_id VARCHAR, speaker VARCHAR,
    start_s DOUBLE, text VARCHAR, context VARCHAR, severity VARCHAR, score DOUBLE);
CREATE TABLE IF NOT EXISTS objections (
    content_hash VARCHAR, script_id VARCHAR, script_version INTEGER, seq INTEGER, objection_id VARCHAR,
    start_s DOUBLE, text VARCHAR, context VARCHAR, score DOUBLE, handled BOOLEAN,
    handling_found VARCHAR[], handling_missing VARCHAR[], handling JSON);
CREATE TABLE IF NOT EXISTS failures (
    failure_id VARCHAR PRIMARY KEY, run_id VARCHAR, file_path VARCHAR, content_hash VARCHAR, stage VARCHAR,
    error_class VARCHAR, message VARCHAR, retryable BOOLEAN, occurred_at TIMESTAMP);
"""

MIGRATIONS = {
    1: SCHEMA_V1,
    2: """
ALTER TABLE segments ADD COLUMN IF NOT EXISTS looped BOOLEAN DEFAULT false;
ALTER TABLE segments ADD COLUMN IF NOT EXISTS overlap BOOLEAN DEFAULT false;
""",
    3: """
ALTER TABLE calls ADD COLUMN manager_ext VARCHAR;
ALTER TABLE calls ADD COLUMN team VARCHAR;
ALTER TABLE calls ADD COLUMN client_phone_hash VARCHAR;
ALTER TABLE calls ADD COLUMN metadata_sources VARCHAR[];
CREATE TABLE recordings (
    file_path VARCHAR, content_hash VARCHAR, size_bytes BIGINT, first_seen TIMESTAMP, run_id VARCHAR,
    PRIMARY KEY (file_path, content_hash));
INSERT INTO recordings SELECT file_path, content_hash, NULL, created_at, run_id FROM calls WHERE file_path IS NOT NULL;
CREATE TABLE flags (content_hash VARCHAR, script_id VARCHAR, script_version INTEGER, flag VARCHAR);
INSERT INTO flags SELECT content_hash, script_id, script_version, unnest(flags) FROM scores;
CREATE TABLE objection_handling (
    content_hash VARCHAR, script_id VARCHAR, script_version INTEGER, seq INTEGER, objection_id VARCHAR,
    part_id VARCHAR, found BOOLEAN, score DOUBLE, start_s DOUBLE, text VARCHAR, phrase VARCHAR);
INSERT INTO objection_handling
    SELECT content_hash, script_id, script_version, seq, objection_id, p.id, p.found, p.score, p.start, p.text, p.phrase
    FROM (SELECT *, unnest(from_json(handling, '[{"id":"VARCHAR","found":"BOOLEAN","score":"DOUBLE","start":"DOUBLE","text":"VARCHAR","phrase":"VARCHAR"}]')) AS p
          FROM objections);
ALTER TABLE runs ADD COLUMN status VARCHAR;
UPDATE runs SET status = CASE WHEN finished_at IS NULL THEN 'interrupted' ELSE 'finished' END;
ALTER TABLE runs ADD COLUMN host VARCHAR;
ALTER TABLE runs ADD COLUMN pid INTEGER;
ALTER TABLE runs ADD COLUMN versions JSON;
ALTER TABLE runs ADD COLUMN audio_seconds DOUBLE;
ALTER TABLE runs ADD COLUMN timings JSON;
ALTER TABLE failures ADD COLUMN attempts INTEGER DEFAULT 1;
ALTER TABLE failures ADD COLUMN last_seen TIMESTAMP;
UPDATE failures SET last_seen = occurred_at;
ALTER TABLE failures ADD COLUMN resolved_at TIMESTAMP;
ALTER TABLE failures ADD COLUMN resolution VARCHAR;
-- Reserved for the review page: a QA lead's verdict on one finding of one scored call.
CREATE TABLE reviews (
    review_id VARCHAR PRIMARY KEY, content_hash VARCHAR, script_id VARCHAR, script_version INTEGER,
    item_kind VARCHAR, item_id VARCHAR, verdict VARCHAR, reviewer VARCHAR, comment VARCHAR, created_at TIMESTAMP);
""",
    # issue 11: the manager's own answer that made an objection handled where no script part did; why a step is uncertain
    4: """
ALTER TABLE objections ADD COLUMN answer VARCHAR;
ALTER TABLE step_results ADD COLUMN uncertain_because VARCHAR;
""",
}
