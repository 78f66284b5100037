-- Report: duty by program per month (months up to $month), from fct_duty_by_hs_month.
-- One row per month × program; program: mfn | section_232 | ieepa | other (Section 122 / 301).
SELECT month, program, duty_usd
FROM (
    SELECT month,
           SUM(mfn_duty_usd)         AS mfn,
           SUM(section_232_duty_usd) AS section_232,
           SUM(ieepa_duty_usd)       AS ieepa,
           SUM(other_duty_usd)       AS other
    FROM fct_duty_by_hs_month
    WHERE month <= $month
    GROUP BY month
) UNPIVOT (duty_usd FOR program IN (mfn, section_232, ieepa, other))
ORDER BY month, program;
