-- Places in each home used by children of LAs outside the audit round (the occupancy data's 'OUTSIDE' and any
-- LA with no children in the round): places the round's children cannot have, so access does not count them.
SELECT o.urn, sum(o.places_used)::INTEGER AS used_outside
FROM home_occupancy o
WHERE o.la_code NOT IN (SELECT DISTINCT la_code FROM children
                        WHERE ($round_id IS NULL OR round_id = $round_id))
GROUP BY o.urn;
