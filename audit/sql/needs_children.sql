-- Children in one view of an audit round (LA, age band, sex, placement type), with what the needs and cohort pages report on.
SELECT la_code, child_id, age, age_band, sex, placement_type,
       placement_lat IS NOT NULL                        AS located,
       outside_own_la AND placement_lat IS NOT NULL     AS outside_own_la,
       distance_km IS NOT NULL                          AS has_distance,
       coalesce(over_20_miles, false)                   AS over_20_miles,
       weekly_cost
FROM children_enriched
WHERE round_id = $round_id
  AND ($la IS NULL OR la_code = $la)
  AND ($age_band IS NULL OR age_band = $age_band)
  AND ($sex IS NULL OR sex = $sex)
  AND ($placement IS NULL OR placement_type = $placement)
ORDER BY la_code, child_id;
