-- Headline figures for the overview: children in the audit and their placements.
SELECT
    count(*)                                             AS children,
    avg(n_needs)                                         AS mean_needs,
    count(*) FILTER (WHERE n_needs >= 4)                 AS children_4plus,
    count(*) FILTER (WHERE placement_lat IS NOT NULL)    AS children_located,
    count(*) FILTER (WHERE outside_own_la AND placement_lat IS NOT NULL) AS outside_own_la,
    count(*) FILTER (WHERE distance_km IS NOT NULL)      AS children_with_distance,
    count(*) FILTER (WHERE over_20_miles)                AS over_20_miles,
    count(weekly_cost)                                   AS children_with_cost,
    avg(weekly_cost)                                     AS mean_weekly_cost
FROM children_enriched
WHERE round_id = $round_id
  AND ($la IS NULL OR la_code = $la)
  AND ($age_band IS NULL OR age_band = $age_band);
