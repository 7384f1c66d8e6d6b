-- The saved plan scenarios of an audit round, newest first, with their raw figures (suppressed when shown).
SELECT round_id, name, settings, sites, children, to_bring_closer, near_before, near_after, running_weekly,
       replaced_weekly, moved_in, miles_saved, saved_at
FROM scenarios
WHERE round_id = $round_id
ORDER BY saved_at DESC, name;
