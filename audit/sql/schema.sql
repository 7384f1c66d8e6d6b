-- Schema of the audit database (version 3; migrate_N.sql bring older files up to date). Applied by audit.db.Database.migrate().
CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER NOT NULL,
    applied_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- Geography --------------------------------------------------------------
CREATE TABLE IF NOT EXISTS las (
    la_code   VARCHAR PRIMARY KEY,
    la_name   VARCHAR NOT NULL,
    in_region BOOLEAN NOT NULL
);
CREATE TABLE IF NOT EXISTS districts (
    district_code VARCHAR PRIMARY KEY,
    district_name VARCHAR NOT NULL,
    la_code       VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS towns (
    town_id       INTEGER PRIMARY KEY,
    name          VARCHAR NOT NULL,
    lat           DOUBLE NOT NULL,
    lon           DOUBLE NOT NULL,
    district_code VARCHAR,
    la_code       VARCHAR
);
CREATE TABLE IF NOT EXISTS postcode_sectors (
    sector        VARCHAR PRIMARY KEY,
    district_code VARCHAR NOT NULL,
    la_code       VARCHAR NOT NULL,
    lat           DOUBLE NOT NULL,
    lon           DOUBLE NOT NULL,
    n_postcodes   INTEGER NOT NULL
);

-- Needs taxonomy ----------------------------------------------------------
CREATE TABLE IF NOT EXISTS need_codes (
    code                      VARCHAR PRIMARY KEY,
    category                  VARCHAR NOT NULL,
    category_label            VARCHAR NOT NULL,
    label                     VARCHAR NOT NULL,
    placements_standard_field VARCHAR,
    ord                       INTEGER NOT NULL
);

-- Audit rounds and children ----------------------------------------------
CREATE TABLE IF NOT EXISTS rounds (
    round_id    INTEGER PRIMARY KEY,
    label       VARCHAR NOT NULL UNIQUE,
    audit_date  DATE,
    source_file VARCHAR,
    n_rows      INTEGER NOT NULL,
    checksum    VARCHAR,
    imported_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    is_sample   BOOLEAN NOT NULL DEFAULT false,
    source_kind VARCHAR DEFAULT 'needs'   -- v2: 'needs' (the template) or 'ssda903'
);
CREATE TABLE IF NOT EXISTS children (
    round_id                INTEGER NOT NULL,
    child_id                VARCHAR NOT NULL,
    la_code                 VARCHAR NOT NULL,
    age                     INTEGER NOT NULL,
    sex                     VARCHAR,
    home_sector             VARCHAR,   -- postcode sector only: full postcodes are never stored
    home_district_code      VARCHAR,
    home_lat                DOUBLE,
    home_lon                DOUBLE,
    placement_type          VARCHAR,   -- SSDA903 PLACE code
    placement_urn           VARCHAR,
    placement_sector        VARCHAR,
    placement_la_code       VARCHAR,   -- district's upper-tier LA, or NULL outside the region
    placement_in_region     BOOLEAN,
    placement_lat           DOUBLE,
    placement_lon           DOUBLE,
    distance_km             DOUBLE,
    weekly_cost             DOUBLE,
    dol_order               BOOLEAN,
    foster_suitability      VARCHAR,
    residential_suitability VARCHAR,
    supported_suitability   VARCHAR,
    cared_alongside         VARCHAR,
    -- v2: what an SSDA903 import derives (NULL for template rounds unless given)
    placement_provider      VARCHAR,   -- SSDA903 PLACE_PROVIDER (PR0-PR5)
    moves_12m               INTEGER,   -- placement moves in the 12 months to the audit date
    missing_12m             INTEGER,   -- missing or away-without-authorisation episodes in those 12 months
    uasc                    BOOLEAN,   -- unaccompanied asylum-seeking child on the audit date
    PRIMARY KEY (round_id, la_code, child_id)
);
-- One row per child and need code; present is NULL when the audit left it blank.
CREATE TABLE IF NOT EXISTS child_needs (
    round_id INTEGER NOT NULL,
    la_code  VARCHAR NOT NULL,
    child_id VARCHAR NOT NULL,
    code     VARCHAR NOT NULL,
    present  BOOLEAN,
    PRIMARY KEY (round_id, la_code, child_id, code)
);
CREATE TABLE IF NOT EXISTS child_cohorts (
    round_id INTEGER NOT NULL,
    la_code  VARCHAR NOT NULL,
    child_id VARCHAR NOT NULL,
    cohort   INTEGER NOT NULL,
    PRIMARY KEY (round_id, la_code, child_id)
);
CREATE TABLE IF NOT EXISTS cohort_fits (
    round_id   INTEGER PRIMARY KEY,
    method     VARCHAR NOT NULL,
    k          INTEGER NOT NULL,
    fitted_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS cohort_names (
    round_id INTEGER NOT NULL,
    cohort   INTEGER NOT NULL,
    name     VARCHAR NOT NULL,
    edited   BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (round_id, cohort)
);

-- Provision ----------------------------------------------------------------
CREATE TABLE IF NOT EXISTS homes (
    urn           VARCHAR PRIMARY KEY,
    name          VARCHAR,
    provider      VARCHAR,
    sector        VARCHAR,
    la_code       VARCHAR,
    district_code VARCHAR,
    postcode_sector VARCHAR,
    lat           DOUBLE NOT NULL,
    lon           DOUBLE NOT NULL,
    places        INTEGER NOT NULL,
    ofsted_grade  VARCHAR,
    weekly_fee    DOUBLE,
    source        VARCHAR NOT NULL DEFAULT 'homes',
    location_precision VARCHAR,   -- v2: 'point', 'sector' or 'la' (Ofsted withholds children's home addresses)
    registration  VARCHAR         -- v2: Ofsted registration categories of need, as listed
);
CREATE TABLE IF NOT EXISTS home_needs (
    urn  VARCHAR NOT NULL,
    code VARCHAR NOT NULL,
    PRIMARY KEY (urn, code)
);
-- Which LA's children occupy how many of a home's places.
CREATE TABLE IF NOT EXISTS home_occupancy (
    urn         VARCHAR NOT NULL,
    la_code     VARCHAR NOT NULL,  -- ONS code, or 'OUTSIDE' for LAs outside the region
    places_used INTEGER NOT NULL,
    PRIMARY KEY (urn, la_code)
);
CREATE TABLE IF NOT EXISTS shortbreak_providers (
    provider_id     VARCHAR PRIMARY KEY,
    name            VARCHAR,
    lat             DOUBLE NOT NULL,
    lon             DOUBLE NOT NULL,
    district_code   VARCHAR,
    la_code         VARCHAR,
    capacity        INTEGER NOT NULL,
    min_age         INTEGER,
    max_age         INTEGER,
    needs_supported VARCHAR,
    type            VARCHAR
);
CREATE TABLE IF NOT EXISTS shortbreak_children (
    child_id      VARCHAR NOT NULL,
    la_code       VARCHAR NOT NULL,
    age           INTEGER NOT NULL,
    home_sector   VARCHAR,
    home_district_code VARCHAR,
    lat           DOUBLE,
    lon           DOUBLE,
    primary_need  VARCHAR,
    tier          VARCHAR,
    PRIMARY KEY (la_code, child_id)
);

-- SSDA903 episode history (v2), kept for forecasting. Postcodes only as sectors.
CREATE TABLE IF NOT EXISTS episodes (
    la_code             VARCHAR NOT NULL,
    child_id            VARCHAR NOT NULL,
    decom               DATE NOT NULL,
    dec                 DATE,
    rne                 VARCHAR,
    ls                  VARCHAR,
    cin                 VARCHAR,
    place               VARCHAR,
    place_provider      VARCHAR,
    rec                 VARCHAR,
    reason_place_change VARCHAR,
    home_sector         VARCHAR,
    placement_sector    VARCHAR,
    urn                 VARCHAR,
    distance_km         DOUBLE,
    sex                 VARCHAR,
    birth_month         DATE,     -- first day of the month of birth: enough for ages, less identifying
    year                INTEGER,  -- collection year of the return it came from (year ending 31 March)
    PRIMARY KEY (la_code, child_id, decom)
);

-- Every successful import (v2): what was loaded, from which file, when.
CREATE TABLE IF NOT EXISTS imports (
    import_id   INTEGER PRIMARY KEY,
    kind        VARCHAR NOT NULL,   -- needs, homes, ofsted, occupancy, shortbreaks, ssda903
    round_id    INTEGER,
    source_file VARCHAR,
    checksum    VARCHAR,
    n_rows      INTEGER NOT NULL,
    n_warnings  INTEGER NOT NULL DEFAULT 0,
    detail      VARCHAR,
    imported_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- Saved plans (v3): named scenarios per audit round, raw figures (suppressed when shown).
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

-- Metadata (e.g. whether the data is the synthetic sample) -------------------
CREATE TABLE IF NOT EXISTS meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR
);

-- Views --------------------------------------------------------------------
-- A child's categories: present when any code of the category is present.
CREATE OR REPLACE VIEW child_categories AS
SELECT cn.round_id, cn.la_code, cn.child_id, nc.category,
       bool_or(coalesce(cn.present, false)) AS present
FROM child_needs cn JOIN need_codes nc USING (code)
GROUP BY ALL;

CREATE OR REPLACE VIEW child_need_counts AS
SELECT round_id, la_code, child_id, count(*) FILTER (WHERE present) AS n_needs
FROM child_categories GROUP BY ALL;

CREATE OR REPLACE VIEW children_enriched AS
SELECT c.*, coalesce(n.n_needs, 0) AS n_needs,
       CASE WHEN c.age < 10 THEN '0-9' WHEN c.age < 13 THEN '10-12'
            WHEN c.age < 16 THEN '13-15' WHEN c.age < 18 THEN '16-17'
            ELSE '18+' END AS age_band,
       (c.placement_la_code IS DISTINCT FROM c.la_code) AS outside_own_la,
       (c.distance_km > 32.187) AS over_20_miles
FROM children c
LEFT JOIN child_need_counts n USING (round_id, la_code, child_id);
