-- A return replaces only its own LA and year: drop the stored episodes of each (LA, collection year) the import
-- (registered as _eps) brings, so importing 2017, then 2018, ... keeps every year.
DELETE FROM episodes
WHERE (la_code, year) IN (SELECT DISTINCT la_code, year FROM _eps);
