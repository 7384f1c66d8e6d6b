-- Children in residential care in an audit round by stored cohort, for one LA or (la NULL) the region:
-- the split applied to the residential forecast.
SELECT cohort, count(*) AS children
FROM child_cohorts
WHERE round_id = $round_id AND ($la IS NULL OR la_code = $la)
GROUP BY cohort
ORDER BY cohort
