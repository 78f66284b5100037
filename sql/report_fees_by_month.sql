-- Report: MPF and HMF per month (months up to $month), every origin. One row per month × fee.
SELECT month, fee, fee_usd
FROM (
    SELECT month, SUM(mpf_usd) AS MPF, SUM(hmf_usd) AS HMF
    FROM fct_duty_by_hs_month
    WHERE month <= $month
    GROUP BY month
) UNPIVOT (fee_usd FOR fee IN (MPF, HMF))
ORDER BY month, fee;
