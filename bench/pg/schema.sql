-- The PostgreSQL 15 side of the England-scale comparison (bench/england_scale.sh).
--
-- A fair, best-effort design of what a capable team would write in SQL for the same
-- contract as contactpoint's search (query/criteria.h, query/scorer.h):
--   * names folded once at load (lower case, accents off, hyphens to spaces, punctuation
--     dropped), their Double Metaphone codes kept beside them (fuzzystrmatch);
--   * B-tree indexes on (Double Metaphone code of the whole name, date of birth) for the
--     family and the given name; trigram GIN indexes (pg_trgm) on both names; a GIN index
--     on the codes of every name part and former family name (double-barrelled names,
--     maiden names); B-tree indexes on the identifiers and on the postcode;
--   * shielding by row-level security: the location fields (address, postcode, parent,
--     school, GP) live in child_location, whose policy hides a shielded child's row from
--     the ordinary role `practitioner`, as contactpoint's storage hides a shielded child's
--     hidden fields from an ordinary clearance (storage/clearance.h). Names, date of birth,
--     gender and identifiers stay searchable, as they do in contactpoint.
--
-- Run as the database owner (the script's superuser) before the load.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;
CREATE EXTENSION IF NOT EXISTS unaccent;

-- Folding: the SQL counterpart of index/normalize.h's CanonicalName (without its Mc/Mac
-- and O' joining). IMMUTABLE so that it may appear in expressions the planner folds; the
-- unaccent dictionary is fixed for the life of this throw-away cluster.
CREATE FUNCTION cp_fold(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT btrim(regexp_replace(regexp_replace(lower(public.unaccent('public.unaccent', coalesce(t, ''))),
                                             '[^a-z \-]', '', 'g'), '[\s\-]+', ' ', 'g'))
$$;

-- Double Metaphone codes (primary and alternate) of every part of a folded name.
CREATE FUNCTION cp_codes(folded text) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT c) FILTER (WHERE c <> ''), '{}')
  FROM unnest(string_to_array(nullif(folded, ''), ' ')) AS p,
       LATERAL (VALUES (dmetaphone(p)), (dmetaphone_alt(p))) AS v(c)
$$;

CREATE TABLE child (
  id            bigint PRIMARY KEY,
  source_key    text NOT NULL UNIQUE,
  given_name    text NOT NULL,         -- folded
  middle_names  text NOT NULL,         -- folded
  family_name   text NOT NULL,         -- folded
  former_names  text NOT NULL,         -- folded, former family names joined by spaces
  date_of_birth date,
  gender        char(1) NOT NULL,      -- 'M', 'F' or 'U'
  nhs_number    text,
  pupil_number  text,
  shielded      boolean NOT NULL DEFAULT false,
  family_dm     text NOT NULL,         -- dmetaphone(family_name)
  given_dm      text NOT NULL,         -- dmetaphone(given_name)
  family_codes  text[] NOT NULL,       -- codes of every family and former family name part
  given_codes   text[] NOT NULL,       -- codes of every given name part
  middle_codes  text[] NOT NULL
);

CREATE TABLE child_location (
  child_id     bigint PRIMARY KEY REFERENCES child (id),
  shielded     boolean NOT NULL,       -- a copy of child.shielded: the policy reads it here
  address      text,
  postcode     text,                   -- canonical, e.g. 'PE5 3PP'
  parent_name  text,
  parent_phone text,
  school       text,
  gp_practice  text
);

-- Nickname and variant pairs, both ways round (data/nicknames, data/uk_names).
CREATE TABLE nickname (
  name    text NOT NULL,
  variant text NOT NULL,
  PRIMARY KEY (name, variant)
);

-- The ordinary practitioner: reads children, reads a location only when not shielded.
-- `shielding_manager` stands for the elevated clearance and sees every row.
CREATE ROLE practitioner LOGIN;
CREATE ROLE shielding_manager LOGIN;
GRANT SELECT ON child, child_location, nickname TO practitioner, shielding_manager;
ALTER TABLE child_location ENABLE ROW LEVEL SECURITY;
CREATE POLICY location_ordinary ON child_location FOR SELECT TO practitioner
  USING (NOT shielded);
CREATE POLICY location_elevated ON child_location FOR SELECT TO shielding_manager
  USING (true);
