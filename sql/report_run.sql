-- Report: the latest successful run of $month.
SELECT run_id, started_at, finished_at, rows_in, rows_rejected, rows_published,
       schedule_version, schedule_source, scenarios, warnings
FROM runs
WHERE month = $month AND status = 'success'
ORDER BY finished_at DESC, run_id DESC
LIMIT 1;
