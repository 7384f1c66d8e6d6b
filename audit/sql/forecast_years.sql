-- Collection years (years ending 31 March) of the SSDA903 returns each LA's episode history came from; an episode
-- without a YEAR is placed in the year in which it ended (or, if still open, started).
SELECT la_code,
       coalesce(year, CAST(year(coalesce(dec, decom) + INTERVAL 9 MONTH) AS INTEGER)) AS year,
       count(*) AS episodes
FROM episodes
GROUP BY ALL
ORDER BY la_code, year;
