// The best view: one record per child built from every source record linked to it.
//
// For each field the rules name the sources that are authoritative for it, in order; a
// field takes its value from the first of those sources that supplies one, and otherwise
// from the most recent source record that does (highest SourceRecord::seq). An empty value
// never overwrites a supplied one. Each field's supplier is recorded in the record's
// provenance.
//
// Defaults: the births register for the birth name (given, middle and family names), date
// of birth and gender; health for the NHS number and the GP practice; the school census for
// the pupil number and the school; the most recent record for everything else (address and
// postcode together, parent contact, date of death). A record that lists former family
// names (an adoptive surname with the birth surname kept) supplies the current family name
// whatever the rules. Former family names are every source's, plus any family name a
// source gives that is another name (not a slip of the current one).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "storage/feed_change.h"
#include "util/status.h"

namespace cp {

// The fields rules can name; the same names as the import columns.
extern const std::vector<std::string> kBestViewFields;

class BestViewRules {
 public:
  static BestViewRules Defaults();
  // Lines "field = source, source, ..." ('#' starts a comment); each line replaces that
  // field's default. InvalidArgument naming the line for an unknown field or bad syntax.
  static Result<BestViewRules> Parse(std::string_view text);

  // The authoritative sources for a field, best first (empty: most recent wins).
  const std::vector<std::string>& For(const std::string& field) const;

 private:
  std::map<std::string, std::vector<std::string>> preferred_;
};

// Builds the best view of `*record` and `*hidden` from `sources` (at least one). The
// record keeps its id, shield and lifecycle state; names, date, gender, identifiers, sources,
// provenance and every hidden field are rebuilt.
void BuildBestView(const BestViewRules& rules, const std::vector<SourceRecord>& sources,
                   ChildRecord* record, HiddenFields* hidden);

// A field where a source's record disagrees with the best view, which another source
// supplied: what the source should check in its own record.
struct Discrepancy {
  std::string field;
  std::string source_value;
  std::string index_value;
  std::string index_source;  // which source supplied the best view's value
};

// The discrepancies between one source record and its child's best view. A shielded
// child's hidden fields are never compared: the report would carry its location.
std::vector<Discrepancy> FindDiscrepancies(const SourceRecord& theirs, const ChildRecord& best,
                                           const HiddenFields& best_hidden);

}  // namespace cp
