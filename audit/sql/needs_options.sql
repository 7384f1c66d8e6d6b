-- Which sexes and placement types occur in a round, so the filters offer only real choices.
SELECT 'sex' AS field, sex AS value, count(*) AS children FROM children WHERE round_id = $round_id AND sex IS NOT NULL GROUP BY ALL
UNION ALL
SELECT 'placement', placement_type, count(*) FROM children WHERE round_id = $round_id AND placement_type IS NOT NULL GROUP BY ALL
ORDER BY field, children DESC, value;
