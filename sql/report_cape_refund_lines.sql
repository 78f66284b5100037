-- Report: the IEEPA refund ledger lines of importer $importer (every month when $months is
-- empty, else only those months), for `tariffcost refunds` (the CAPE declaration).
SELECT *
FROM fct_ieepa_refunds
WHERE importer_id = $importer
  AND (len($months) = 0 OR list_contains($months, month))
ORDER BY entry_number, line_number;
