-- Schema 2 -> 3 (planner): saved plan scenarios per audit round.
CREATE TABLE IF NOT EXISTS scenarios (
    round_id      INTEGER NOT NULL,
    name          VARCHAR NOT NULL,
    settings      VARCHAR NOT NULL,   -- JSON: the plan's inputs (homes, places, for, miles, LA, rules, cost a place)
    sites         VARCHAR NOT NULL,   -- JSON: one object per new home (town, LA, lat, lon, places, children)
    children      INTEGER NOT NULL,   -- children the plan is for
    to_bring_closer INTEGER NOT NULL,
    near_before   INTEGER NOT NULL,   -- within reach after matching with today's homes
    near_after    INTEGER NOT NULL,   -- ... and with the new homes added
    running_weekly  DOUBLE,
    replaced_weekly DOUBLE,
    moved_in      INTEGER,
    miles_saved   DOUBLE,
    saved_at      TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (round_id, name)
);
