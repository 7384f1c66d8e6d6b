-- Keep a named plan for an audit round; saving under an existing name replaces it.
INSERT OR REPLACE INTO scenarios (round_id, name, settings, sites, children, to_bring_closer, near_before, near_after,
                                  running_weekly, replaced_weekly, moved_in, miles_saved, saved_at)
VALUES ($round_id, $name, $settings, $sites, $children, $to_bring_closer, $near_before, $near_after,
        $running_weekly, $replaced_weekly, $moved_in, $miles_saved, current_timestamp);
