-- runs: one row per run attempt of one month (grain: run_id, month). Successful runs are
-- written in the same transaction as their month's rows; failed or abandoned attempts are
-- journaled beside the warehouse (<db>.runs.jsonl) and folded in by the next successful publish.
CREATE TABLE IF NOT EXISTS runs (
    run_id            VARCHAR   NOT NULL,
    month             VARCHAR   NOT NULL,  -- YYYY-MM
    started_at        TIMESTAMP NOT NULL,  -- UTC
    finished_at       TIMESTAMP,           -- UTC; NULL for an abandoned (killed) attempt
    status            VARCHAR   NOT NULL,  -- success | failed | abandoned
    rows_in           BIGINT,              -- input rows of the month, all inputs
    rows_rejected     BIGINT,              -- distinct input rows quarantined to `rejects`
    rows_published    BIGINT,              -- rows written to fct_duty_lines
    tables_published  VARCHAR,             -- JSON {table: rows}
    schedule_version  VARCHAR,
    schedule_source   VARCHAR,
    input_checksums   VARCHAR,             -- JSON {input kind: {path, sha256, rows_in}}
    stage_timings     VARCHAR,             -- JSON {stage: seconds}
    error_message     VARCHAR,
    scenarios         VARCHAR,             -- JSON list of scenario names
    warnings          VARCHAR              -- JSON list of warning texts (UNCONFIRMED measures, ...)
);
