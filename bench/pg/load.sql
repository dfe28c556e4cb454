-- Loads a `contactpoint gen` CSV into the schema of schema.sql (psql variables: csv,
-- nicknames, variants: absolute paths the server can read). Run as the superuser.
--
-- COPY into an unlogged staging table, then one INSERT ... SELECT per table that folds
-- the names and computes their codes. The tables are truncated in the same transaction,
-- so with wal_level = minimal the inserts skip the WAL (a bulk load, as contactpoint's
-- import skips the memtable); indexes come after (indexes.sql).
\set ON_ERROR_STOP on
\timing on
BEGIN;
CREATE UNLOGGED TABLE staging (
  source_key text, given_name text, middle_names text, family_name text,
  former_family_names text, date_of_birth text, gender text, address text, postcode text,
  nhs_number text, pupil_number text, parent_name text, parent_phone text, school text,
  gp_practice text);
COPY staging FROM :'csv' WITH (FORMAT csv, HEADER true);
CREATE UNLOGGED TABLE staged AS
  SELECT row_number() OVER () AS id, s.*,
         cp_fold(given_name) AS g, cp_fold(middle_names) AS m, cp_fold(family_name) AS f,
         cp_fold(replace(former_family_names, ';', ' ')) AS fo
  FROM staging s;
TRUNCATE child_location, child;
INSERT INTO child
  SELECT id, btrim(source_key), g, m, f, fo, nullif(btrim(date_of_birth), '')::date,
         coalesce(nullif(upper(btrim(gender)), ''), 'U'),
         nullif(replace(nhs_number, ' ', ''), ''), nullif(upper(replace(pupil_number, ' ', '')), ''),
         false, coalesce(dmetaphone(f), ''), coalesce(dmetaphone(g), ''),
         cp_codes(f) || cp_codes(fo), cp_codes(g), cp_codes(m)
  FROM staged;
INSERT INTO child_location
  SELECT id, false, nullif(btrim(address), ''), nullif(upper(btrim(postcode)), ''),
         nullif(btrim(parent_name), ''), nullif(btrim(parent_phone), ''),
         nullif(btrim(school), ''), nullif(btrim(gp_practice), '')
  FROM staged;
DROP TABLE staged;
DROP TABLE staging;

CREATE TEMP TABLE pairs (a text, b text, c text);
COPY pairs FROM :'nicknames' WITH (FORMAT csv, HEADER true);
INSERT INTO nickname SELECT cp_fold(a), cp_fold(c) FROM pairs WHERE cp_fold(a) <> '' AND cp_fold(c) <> ''
  UNION SELECT cp_fold(c), cp_fold(a) FROM pairs WHERE cp_fold(a) <> '' AND cp_fold(c) <> ''
  ON CONFLICT DO NOTHING;
TRUNCATE pairs;
COPY pairs FROM :'variants' WITH (FORMAT csv, HEADER true);
INSERT INTO nickname SELECT cp_fold(a), cp_fold(b) FROM pairs WHERE cp_fold(a) <> '' AND cp_fold(b) <> ''
  UNION SELECT cp_fold(b), cp_fold(a) FROM pairs WHERE cp_fold(a) <> '' AND cp_fold(b) <> ''
  ON CONFLICT DO NOTHING;
COMMIT;
