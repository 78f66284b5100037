-- rejects: one row per (source, row_number, column, check) failure of a run.
-- Contract: shared contract "Output: DuckDB warehouse"; pandera contract: schemas/rejects.py.
CREATE TABLE IF NOT EXISTS rejects (
    source     VARCHAR NOT NULL,  -- input file path as given
    row_number BIGINT  NOT NULL,  -- 1-based data row of the source file (header excluded)
    "column"   VARCHAR NOT NULL,  -- input column (composite keys: "entry_number,line_number")
    "check"    VARCHAR NOT NULL,  -- rule that failed, e.g. hts8_in_schedule
    value      VARCHAR,           -- offending value as text (null when the cell was empty)
    run_id     VARCHAR NOT NULL   -- grain: (run_id, source, row_number, column, check)
);
