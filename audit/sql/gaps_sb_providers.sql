-- Short-break providers supporting the chosen SEN need (or ALL) whose age range overlaps the chosen ages.
-- A provider that states no needs matches only "all needs"; an unstated age limit does not exclude.
SELECT provider_id AS id, name, type, la_code, district_code, lat, lon, capacity, min_age, max_age,
       coalesce(needs_supported, '') AS needs_supported
FROM shortbreak_providers
WHERE ($sen IS NULL OR list_contains(string_split(upper(replace(coalesce(needs_supported, ''), ' ', '')), ';'), $sen)
                    OR list_contains(string_split(upper(replace(coalesce(needs_supported, ''), ' ', '')), ';'), 'ALL'))
  AND ($age_max IS NULL OR min_age IS NULL OR min_age <= $age_max)
  AND ($age_min IS NULL OR max_age IS NULL OR max_age >= $age_min)
ORDER BY provider_id;
