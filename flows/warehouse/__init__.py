"""The warehouse: the single-writer lock and the all-or-nothing publish of a month into DuckDB
and the Parquet exports."""
