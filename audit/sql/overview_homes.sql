-- Homes and places in the region (or one LA), and places used by Eastern LAs' children.
SELECT
    count(*)                       AS homes,
    coalesce(sum(places), 0)       AS places,
    count(DISTINCT provider)       AS providers,
    coalesce(sum(o.eastern), 0)    AS places_used_by_eastern
FROM homes h
LEFT JOIN (
    SELECT urn, sum(places_used) AS eastern FROM home_occupancy WHERE la_code <> 'OUTSIDE' GROUP BY urn
) o USING (urn)
WHERE h.la_code IN (SELECT la_code FROM las WHERE in_region)
  AND ($la IS NULL OR h.la_code = $la);
