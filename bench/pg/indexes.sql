-- The indexes a capable team would build for cp_search (search.sql), after the load.
\set ON_ERROR_STOP on
\timing on
SET maintenance_work_mem = '1GB';
-- Double Metaphone of the whole name + date of birth: exact and phonetic names with a
-- date or its slips (a list of dates) or a date range, one B-tree range scan per code.
CREATE INDEX child_family_dm_dob ON child (family_dm, date_of_birth);
CREATE INDEX child_given_dm_dob ON child (given_dm, date_of_birth);
-- Trigrams: typos that change the code; ANDed with the date-of-birth window.
CREATE INDEX child_family_trgm ON child USING gin (family_name gin_trgm_ops);
CREATE INDEX child_given_trgm ON child USING gin (given_name gin_trgm_ops);
-- Codes of every part of the family and former family names (double-barrelled, maiden).
CREATE INDEX child_family_codes ON child USING gin (family_codes);
CREATE INDEX child_dob ON child (date_of_birth);
CREATE INDEX child_nhs ON child (nhs_number);
CREATE INDEX child_upn ON child (pupil_number);
CREATE INDEX child_location_postcode ON child_location (postcode);
VACUUM ANALYZE child;
VACUUM ANALYZE child_location;
VACUUM ANALYZE nickname;
