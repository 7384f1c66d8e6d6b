-- LAs that sent data for a service: short-break users loaded, or children in the residential audit round.
SELECT DISTINCT la_code FROM shortbreak_children WHERE $service = 'short-breaks'
UNION
SELECT DISTINCT la_code FROM children WHERE $service = 'residential' AND round_id = $round_id
ORDER BY la_code;
