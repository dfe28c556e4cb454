// Synthetic children and noisy queries for demos, tests and benchmarks.
//
// Names follow England and Wales frequencies: first names by birth year and sex from the
// ONS baby-name tables (2005-2020; later years reuse 2020), surnames from UK surname
// frequencies (data/SOURCES.md). Both tables are compiled into the binary.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "util/date.h"
#include "util/status.h"

namespace cp {

struct GenOptions {
  uint64_t children = 1000;
  uint64_t seed = 1;
  Date as_of;  // ages 0..17 on this date; empty means today
};

// Writes a CSV in the `contactpoint import` format (header row first):
// source_key,given_name,middle_names,family_name,former_family_names,date_of_birth,gender,
// address,postcode,nhs_number,pupil_number,parent_name,parent_phone,school,gp_practice
// The same options always give the same bytes. source_key is "gen-<n>", n = 1..children.
Status GenerateChildren(const GenOptions& options, std::ostream& out);

struct QueryGenOptions {
  uint64_t queries = 1000;
  uint64_t seed = 1;
  double fuzzy_share = 0.5;  // share of queries with noise; the rest copy the record exactly
};

// Reads children in the import format from `children_csv` and writes a query file in the
// `contactpoint search --queries` format plus two answer columns:
// query_id,given_name,family_name,date_of_birth,dob_from,dob_to,gender,postcode,
// nhs_number,pupil_number,expected_source_key,noise
// Each query satisfies the minimum search criteria and targets one child drawn at random;
// `noise` names what was done to it (exact, typo, nickname, swap, dob_swap, dob_digit,
// dob_range, postcode, nhs_number, ...).
Status GenerateQueries(const QueryGenOptions& options, std::istream& children_csv,
                       std::ostream& out);

}  // namespace cp
