-- Search in SQL with contactpoint's contract (query/criteria.h, query/scorer.h):
-- the same criteria, the same score (weights, floors, swapped names at 0.95 x), the same
-- threshold (0.8) and the same cap: cp_search returns at most cap + 1 rows, best first,
-- and the client answers "too many matches" (no rows) when it gets cap + 1.
--
-- Minimum criteria are checked by the client before the call with contactpoint's own
-- ValidateCriteria (bench/pg_search_client.cc), as the server checks them before any
-- index is touched.
--
-- The functions are SECURITY INVOKER (the default): run by `practitioner`, every read of
-- child_location goes through its row-level security policy, so a shielded child's
-- location fields are NULL in an answer, and a postcode search never returns it.

-- Dates one typing slip from `d`: itself, day and month swapped, and every valid date
-- with one digit of YYYYMMDD changed (the scorer's 1 / 0.85 / 0.8 agreements).
CREATE FUNCTION cp_dob_variants(d date) RETURNS date[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  s text := to_char(d, 'YYYYMMDD');
  out date[] := ARRAY[d];
  t text; y int; m int; dd int;
BEGIN
  IF d IS NULL THEN RETURN '{}'; END IF;
  y := extract(year FROM d); m := extract(month FROM d); dd := extract(day FROM d);
  IF dd <> m AND dd <= 12 THEN out := out || make_date(y, dd, m); END IF;
  FOR i IN 1..8 LOOP
    FOR k IN 0..9 LOOP
      t := overlay(s PLACING k::text FROM i FOR 1);
      CONTINUE WHEN t = s;
      y := substr(t, 1, 4)::int; m := substr(t, 5, 2)::int; dd := substr(t, 7, 2)::int;
      CONTINUE WHEN y < 1 OR m < 1 OR m > 12 OR dd < 1;
      CONTINUE WHEN dd > extract(day FROM make_date(y, m, 1) + interval '1 month - 1 day');
      out := out || make_date(y, m, dd);
    END LOOP;
  END LOOP;
  RETURN out;
END
$$;

-- Agreement of a folded query name with one candidate name field (scorer.cc's
-- FieldAgreement): an initial 0.8; exact 1; one part of a multi-part name 0.95; the
-- codes agree 0.9; a nickname or variant 0.9 (`qnicks`: the query name's variants, empty
-- for family names); otherwise a Levenshtein similarity, the SQL stand-in for
-- Jaro-Winkler (fuzzystrmatch has none).
--
-- These are plain SQL functions without subqueries so that the planner inlines them into
-- cp_search's statement: not inlined, each call ran as a statement of its own, planned
-- once per search, and scoring eight candidates took 30 ms.
CREATE FUNCTION cp_field(q text, qcodes text[], qnicks text[], c text, ccodes text[])
RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN q = '' OR c = '' THEN 0
    WHEN length(q) = 1 THEN CASE WHEN left(c, 1) = q THEN 0.8 ELSE 0 END
    WHEN q = c THEN 1
    WHEN (strpos(c, ' ') > 0 AND strpos(q, ' ') = 0 AND q = ANY (string_to_array(c, ' ')))
      OR (strpos(q, ' ') > 0 AND strpos(c, ' ') = 0 AND c = ANY (string_to_array(q, ' '))) THEN 0.95
    WHEN qcodes && ccodes OR c = ANY (qnicks)
      THEN greatest(0.9, 1 - levenshtein(q, c)::float8 / greatest(length(q), length(c)))
    ELSE 1 - levenshtein(q, c)::float8 / greatest(length(q), length(c))
  END::float8
$$;

CREATE FUNCTION cp_floor(a float8) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN a < 0.75 THEN 0 ELSE a END
$$;

-- Given name agreement: the given name, or a middle name at 0.9 x.
CREATE FUNCTION cp_given(q text, qcodes text[], qnicks text[], c child) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN q = '' THEN 0 ELSE cp_floor(greatest(
    cp_field(q, qcodes, qnicks, c.given_name, c.given_codes),
    0.9 * cp_field(q, qcodes, qnicks, c.middle_names, c.middle_codes))) END
$$;

-- Family name agreement: the family name, or a former family name at 0.95 x.
CREATE FUNCTION cp_family(q text, qcodes text[], c child) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN q = '' THEN 0 ELSE cp_floor(greatest(
    cp_field(q, qcodes, '{}', c.family_name, c.family_codes),
    0.95 * cp_field(q, qcodes, '{}', c.former_names, c.family_codes))) END
$$;

-- One bounded search. Returns at most p_cap + 1 rows scoring at least 0.8, best first;
-- the location columns come through child_location's row-level security.
CREATE FUNCTION cp_search(p_given text, p_family text, p_dob date, p_from date, p_to date,
                          p_gender text, p_postcode text, p_nhs text, p_upn text, p_cap int)
RETURNS TABLE (source_key text, score float8, shielded boolean, address text, postcode text,
               parent_name text, parent_phone text, school text, gp_practice text)
LANGUAGE plpgsql STABLE
-- Each call is planned for its own values: a generic plan cannot use the indexes that
-- suit a date range rather than a date, or an empty name.
SET plan_cache_mode = force_custom_plan
AS $$
#variable_conflict use_column
DECLARE
  g text := cp_fold(p_given);
  f text := cp_fold(p_family);
  gc text[] := cp_codes(g);
  fc text[] := cp_codes(f);
  -- Nickname variants of every part of each name, and theirs (contactpoint's nickname
  -- groups are transitive: bill ~ william ~ liam); the swapped reading reads the family
  -- name as a given name.
  gn text[] := ARRAY(SELECT n.variant FROM nickname n WHERE n.name = ANY (string_to_array(g, ' '))
                      UNION SELECT n2.variant FROM nickname n1 JOIN nickname n2 ON n2.name = n1.variant
                            WHERE n1.name = ANY (string_to_array(g, ' ')));
  fn text[] := ARRAY(SELECT n.variant FROM nickname n WHERE n.name = ANY (string_to_array(f, ' '))
                      UNION SELECT n2.variant FROM nickname n1 JOIN nickname n2 ON n2.name = n1.variant
                            WHERE n1.name = ANY (string_to_array(f, ' ')));
  qc text[] := gc || fc;
  dms text[] := array_remove(ARRAY[nullif(dmetaphone(f), ''), nullif(dmetaphone(g), '')], NULL);
  dates date[] := cp_dob_variants(p_dob);
  weights float8 := 0.30 + CASE WHEN g <> '' THEN 0.25 ELSE 0 END + CASE WHEN f <> '' THEN 0.35 ELSE 0 END
                   + CASE WHEN p_gender <> '' THEN 0.10 ELSE 0 END + CASE WHEN p_postcode <> '' THEN 0.20 ELSE 0 END;
BEGIN
  IF p_nhs <> '' OR p_upn <> '' THEN
    RETURN QUERY
      SELECT c.source_key, 1.0::float8, c.shielded, l.address, l.postcode, l.parent_name,
             l.parent_phone, l.school, l.gp_practice
      FROM child c LEFT JOIN child_location l ON l.child_id = c.id
      WHERE (p_nhs = '' OR c.nhs_number = p_nhs) AND (p_upn = '' OR c.pupil_number = p_upn)
      LIMIT p_cap + 1;
    RETURN;
  END IF;
  RETURN QUERY
  WITH ids AS (
    SELECT c.id FROM child c
    WHERE (CASE WHEN p_from IS NOT NULL THEN c.date_of_birth BETWEEN p_from AND p_to
                ELSE c.date_of_birth = ANY (dates) END)
      AND (c.family_dm = ANY (dms) OR c.given_dm = ANY (dms) OR c.family_codes && qc
           OR (f <> '' AND c.family_name % f) OR (length(g) > 1 AND c.given_name % g))
    UNION
    -- A postcode criterion: every visible child at that postcode. RLS hides the shielded.
    SELECT l.child_id FROM child_location l
    WHERE p_postcode <> '' AND l.postcode = p_postcode
  ),
  cand AS (SELECT c FROM ids JOIN child c ON c.id = ids.id),
  scored AS (
    SELECT (cand.c).id AS id, (cand.c).source_key AS key, (cand.c).shielded AS shielded, s.dob_a,
           greatest(
             (0.30 * s.dob_a + 0.25 * cp_given(g, gc, gn, cand.c) + 0.35 * cp_family(f, fc, cand.c)
              + s.rest) / weights,
             CASE WHEN g <> '' AND f <> '' THEN
               0.95 * (0.30 * s.dob_a + 0.25 * cp_given(f, fc, fn, cand.c) + 0.35 * cp_family(g, gc, cand.c)
                       + s.rest) / weights
             ELSE 0 END) AS score
    FROM cand, LATERAL (SELECT
      CASE WHEN (cand.c).date_of_birth IS NULL THEN 0.5
           WHEN p_from IS NOT NULL THEN CASE WHEN (cand.c).date_of_birth BETWEEN p_from AND p_to THEN 1 ELSE 0 END
           WHEN (cand.c).date_of_birth = p_dob THEN 1
           WHEN (cand.c).date_of_birth = dates[2] AND extract(day FROM p_dob) <= 12
                AND extract(day FROM p_dob) <> extract(month FROM p_dob) THEN 0.85
           WHEN (cand.c).date_of_birth = ANY (dates) THEN 0.8
           ELSE 0 END::float8 AS dob_a,
      CASE WHEN p_gender = '' THEN 0
           ELSE 0.10 * CASE WHEN (cand.c).gender = 'U' THEN 0.5 WHEN (cand.c).gender = p_gender THEN 1 ELSE 0 END
      END
      + CASE WHEN p_postcode = '' THEN 0
             ELSE 0.20 * CASE WHEN EXISTS (SELECT 1 FROM child_location l2
                                           WHERE l2.child_id = (cand.c).id AND l2.postcode = p_postcode)
                              THEN 1 ELSE 0 END
        END AS rest) s
  ),
  capped AS (
    SELECT * FROM scored
    WHERE scored.score >= 0.8
      -- A hidden field as a criterion: a child whose location the caller may not see is not
      -- returned at all (contactpoint's query/searcher.h), not even a matching one.
      AND (p_postcode = '' OR EXISTS (SELECT 1 FROM child_location l3 WHERE l3.child_id = scored.id))
    ORDER BY scored.score DESC, scored.id LIMIT p_cap + 1
  )
  SELECT k.key, k.score, k.shielded, l.address, l.postcode, l.parent_name, l.parent_phone,
         l.school, l.gp_practice
  FROM capped k LEFT JOIN child_location l ON l.child_id = k.id
  ORDER BY k.score DESC, k.id;
END
$$;

GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO practitioner, shielding_manager;
