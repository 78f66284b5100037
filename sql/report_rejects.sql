-- Report: rejected input rows of the run $run_id, by source, column and check.
SELECT source, "column", "check",
       COUNT(DISTINCT row_number) AS rows_rejected,
       MIN(row_number)            AS first_row,
       ANY_VALUE(value)           AS example_value
FROM rejects
WHERE run_id = $run_id
GROUP BY source, "column", "check"
ORDER BY rows_rejected DESC, source, "column", "check";
