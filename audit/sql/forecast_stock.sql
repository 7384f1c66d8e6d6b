-- Children looked after at each month end from $first to $last, by LA and placement category. A child with two
-- overlapping episodes (a data error) counts once, in the placement that started later.
WITH ends AS (
    SELECT CAST(last_day(m) AS DATE) AS month_end
    FROM range(CAST($first AS TIMESTAMP), CAST($last AS TIMESTAMP) + INTERVAL 1 DAY, INTERVAL 1 MONTH) t(m)
), open_eps AS (
    SELECT e.month_end, p.la_code, p.child_id, arg_max(p.place, p.decom) AS place
    FROM ends e
    JOIN episodes p ON p.decom <= e.month_end AND (p.dec IS NULL OR p.dec > e.month_end)
    WHERE $la IS NULL OR p.la_code = $la
    GROUP BY ALL
)
SELECT month_end, la_code,
       CASE WHEN list_contains($residential, place) THEN 'residential'
            WHEN list_contains($supported, place) THEN 'supported'
            WHEN list_contains($fostering, place) THEN 'fostering'
            ELSE 'other' END AS category,
       count(*) AS children
FROM open_eps
GROUP BY ALL
ORDER BY month_end, la_code, category;
