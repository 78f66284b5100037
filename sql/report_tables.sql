-- Report: which tables the warehouse holds (sections whose table is absent are skipped).
SELECT table_name FROM information_schema.tables ORDER BY table_name;
