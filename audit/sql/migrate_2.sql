-- Schema 1 -> 2 (data intake): SSDA903-derived child fields, round source kind, Ofsted home fields,
-- the episode history and the import log. The tables themselves are created by schema.sql.
ALTER TABLE children ADD COLUMN IF NOT EXISTS placement_provider VARCHAR;
ALTER TABLE children ADD COLUMN IF NOT EXISTS moves_12m INTEGER;
ALTER TABLE children ADD COLUMN IF NOT EXISTS missing_12m INTEGER;
ALTER TABLE children ADD COLUMN IF NOT EXISTS uasc BOOLEAN;
ALTER TABLE rounds ADD COLUMN IF NOT EXISTS source_kind VARCHAR DEFAULT 'needs';
UPDATE rounds SET source_kind = 'needs' WHERE source_kind IS NULL;
ALTER TABLE homes ADD COLUMN IF NOT EXISTS location_precision VARCHAR;
ALTER TABLE homes ADD COLUMN IF NOT EXISTS registration VARCHAR;
