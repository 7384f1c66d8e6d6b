-- Each child looked after at each month end from $first to $last: LA, placement (the later-starting of
-- overlapping episodes, as forecast_stock counts it) and month of birth, for the stock-and-flow model's
-- entries, exits and moves between categories and age bands.
WITH ends AS (
    SELECT CAST(last_day(m) AS DATE) AS month_end
    FROM range(CAST($first AS TIMESTAMP), CAST($last AS TIMESTAMP) + INTERVAL 1 DAY, INTERVAL 1 MONTH) t(m)
)
SELECT e.month_end, p.la_code, p.child_id, arg_max(p.place, p.decom) AS place, max(p.birth_month) AS birth_month
FROM ends e
JOIN episodes p ON p.decom <= e.month_end AND (p.dec IS NULL OR p.dec > e.month_end)
WHERE $la IS NULL OR p.la_code = $la
GROUP BY ALL
ORDER BY month_end, la_code, child_id;
