-- Children in a round with where they are placed, for distance and flow summaries (with cohort when fitted).
SELECT c.child_id, c.la_code, c.age, c.age_band, c.distance_km, c.placement_la_code,
       c.placement_in_region AS in_region_placement, k.cohort,
       coalesce(n.name, CASE WHEN k.cohort IS NOT NULL THEN 'Cohort ' || k.cohort END) AS cohort_name
FROM children_enriched c
LEFT JOIN child_cohorts k USING (round_id, la_code, child_id)
LEFT JOIN cohort_names n ON n.round_id = k.round_id AND n.cohort = k.cohort
WHERE c.round_id = $round_id
  AND ($age_band IS NULL OR c.age_band = $age_band)
ORDER BY c.la_code, c.child_id;
