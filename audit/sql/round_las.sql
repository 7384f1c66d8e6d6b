-- The LAs whose children a round holds: who may delete it (a data officer only a round of their own LAs).
SELECT DISTINCT la_code FROM children WHERE round_id = (SELECT round_id FROM rounds WHERE label = $label)
