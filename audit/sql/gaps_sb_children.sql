-- Children using short breaks with the chosen SEN primary need ($sen NULL = any), located at their home sector.
SELECT child_id, la_code, age, lat, lon, home_district_code AS district_code, primary_need, tier
FROM shortbreak_children
WHERE ($la IS NULL OR la_code = $la)
  AND ($age_min IS NULL OR age >= $age_min)
  AND ($age_max IS NULL OR age <= $age_max)
  AND ($sen IS NULL OR upper(primary_need) = $sen)
ORDER BY la_code, child_id;
