-- Whether the database holds anything that is not the synthetic sample: a round not marked synthetic,
-- or child-level rows in a database that is not the sample (e.g. an SSDA903 history loaded after `audit init`).
SELECT EXISTS (SELECT 1 FROM rounds WHERE NOT is_sample)
    OR (coalesce((SELECT value FROM meta WHERE key = 'sample'), '') <> 'yes'
        AND (EXISTS (SELECT 1 FROM children) OR EXISTS (SELECT 1 FROM episodes)
             OR EXISTS (SELECT 1 FROM shortbreak_children))) AS real
