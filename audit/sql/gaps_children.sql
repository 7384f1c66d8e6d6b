-- Children in an audit round who need the chosen residential provision, located at their home postcode sector.
-- $need_code / $need_category / $cohort narrow the children (NULL = no filter); ages are inclusive.
SELECT c.child_id, c.la_code, c.age, c.home_lat AS lat, c.home_lon AS lon,
       c.home_district_code AS district_code, c.distance_km, c.placement_la_code,
       c.placement_in_region AS in_region_placement
FROM children c  -- not children_enriched: its need counts cost more than the whole gap analysis
WHERE c.round_id = $round_id
  AND ($la IS NULL OR c.la_code = $la)
  AND ($age_min IS NULL OR c.age >= $age_min)
  AND ($age_max IS NULL OR c.age <= $age_max)
  AND ($need_code IS NULL AND $need_category IS NULL OR EXISTS (
        SELECT 1 FROM child_needs n JOIN need_codes nc USING (code)
        WHERE n.round_id = c.round_id AND n.la_code = c.la_code AND n.child_id = c.child_id AND n.present
          AND (nc.code = $need_code OR nc.category = $need_category)))
  AND ($cohort IS NULL OR EXISTS (
        SELECT 1 FROM child_cohorts k
        WHERE k.round_id = c.round_id AND k.la_code = c.la_code AND k.child_id = c.child_id AND k.cohort = $cohort))
ORDER BY c.la_code, c.child_id;
