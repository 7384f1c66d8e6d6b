-- Each child's placement and its recorded weekly cost, with the home's weekly fee and the median cost of the
-- same placement type (the two ways a missing cost is filled), so costs can be added up by any breakdown.
WITH typed AS (
    SELECT placement_type, median(weekly_cost) AS type_median
    FROM children WHERE round_id = $round_id AND weekly_cost IS NOT NULL GROUP BY placement_type
)
SELECT c.la_code, c.child_id, c.placement_type, c.placement_urn, c.distance_km, c.weekly_cost,
       h.weekly_fee AS home_fee, t.type_median,
       (SELECT median(weekly_cost) FROM children WHERE round_id = $round_id AND weekly_cost IS NOT NULL) AS all_median,
       k.cohort
FROM children c
LEFT JOIN homes h ON h.urn = c.placement_urn
LEFT JOIN typed t USING (placement_type)
LEFT JOIN child_cohorts k ON k.round_id = c.round_id AND k.la_code = c.la_code AND k.child_id = c.child_id
WHERE c.round_id = $round_id
ORDER BY c.la_code, c.child_id;
