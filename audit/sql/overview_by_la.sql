-- One row per LA: children in the audit, their needs and placements, and homes located there.
WITH kids AS (
    SELECT la_code,
           count(*) AS children,
           avg(n_needs) AS mean_needs,
           count(*) FILTER (WHERE n_needs >= 4) AS children_4plus,
           count(*) FILTER (WHERE placement_lat IS NOT NULL) AS children_located,
           count(*) FILTER (WHERE outside_own_la AND placement_lat IS NOT NULL) AS outside_own_la,
           count(*) FILTER (WHERE distance_km IS NOT NULL) AS children_with_distance,
           count(*) FILTER (WHERE over_20_miles) AS over_20_miles,
           count(weekly_cost) AS children_with_cost,
           avg(weekly_cost) AS mean_weekly_cost
    FROM children_enriched
    WHERE round_id = $round_id AND ($age_band IS NULL OR age_band = $age_band)
    GROUP BY la_code
), prov AS (
    SELECT la_code, count(*) AS homes, sum(places) AS places FROM homes GROUP BY la_code
)
SELECT l.la_code, l.la_name,
       coalesce(k.children, 0) AS children, k.mean_needs,
       coalesce(k.children_4plus, 0) AS children_4plus,
       coalesce(k.children_located, 0) AS children_located,
       coalesce(k.outside_own_la, 0) AS outside_own_la,
       coalesce(k.children_with_distance, 0) AS children_with_distance,
       coalesce(k.over_20_miles, 0) AS over_20_miles,
       coalesce(k.children_with_cost, 0) AS children_with_cost,
       k.mean_weekly_cost,
       coalesce(p.homes, 0) AS homes, coalesce(p.places, 0) AS places
FROM las l
LEFT JOIN kids k USING (la_code)
LEFT JOIN prov p USING (la_code)
WHERE l.in_region
ORDER BY l.la_name;
