// How the two tables become groups.
//
// Nicknames (name1,has_nickname,name2): name1 is canonical; its group is name1 and every
// name2 listed against it.
//
// Forename variants (forename,forename2,freq): the table lists each variant set once for
// every member (william's row and bill's row name the same eleven names), so taking every
// forename as a canonical name would put each name in a dozen identical groups. Instead:
//  - a forename that is canonical in the nickname table merges its variants into that
//    group ("william" gains "wilhelm", "willem", ...);
//  - any other forename's set becomes a group only if no group already holds all of it,
//    keyed by the longest of the forenames that list exactly that set (then alphabetical),
//    so a full name rather than a diminutive names the group.
// Sharing a group (AreVariants) is unaffected by this: a set held inside another group
// adds no pair of variants that group does not already give.
//
// Abbreviations: some forenames are record-keeping abbreviations ("edw", "eliz", "chas",
// "robt", "jas", "jos", "wil"). They are kept as members, so a record written "Edw."
// still meets Edward, but they never name a group: each one's set is the same as its full
// name's set, which is already a group. "edw" joins Edward, Edwin, Edmund and Edgar in one
// set, and every one of those names lists the whole set in the source, so they are
// variants of each other here; nothing in the data says which links came from the
// abbreviation, so none are removed.
//
// The freq column is 1/(size of the set) in every row, carries nothing, and is ignored.
// Names are folded with NameParts, the same function that folds query and record names
// ("k.c." -> "kc", "mackenzie" -> "mckenzie"); a name that is not one part ("krystin kri")
// or a row without three fields is malformed and skipped.
#include "index/name_variants.h"

#include <algorithm>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "index/normalize.h"

// Linked in by cp_embed (cmake/Embed.cmake); each _end points just past the last byte.
extern "C" const char cp_data_nicknames_begin[], cp_data_nicknames_end[];
extern "C" const char cp_data_nicknames_british_begin[], cp_data_nicknames_british_end[];
extern "C" const char cp_data_forename_variants_begin[], cp_data_forename_variants_end[];

namespace cp {
namespace {

using Members = std::set<std::string>;
using GroupTable = std::map<std::string, Members>;  // key -> members (key included)

std::string_view EmbeddedBytes(const char* begin, const char* end) {
  return {begin, static_cast<size_t>(end - begin)};
}

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  for (size_t comma; (comma = line.find(',', start)) != std::string_view::npos;) {
    fields.push_back(line.substr(start, comma - start));
    start = comma + 1;
  }
  fields.push_back(line.substr(start));
  return fields;
}

// Calls fn(fields) for every row after the header. Lines end in LF or CRLF; the tables
// hold no quoted fields.
template <typename Fn>
void ForEachDataRow(std::string_view csv, Fn fn) {
  bool header = true;
  while (!csv.empty()) {
    const size_t eol = csv.find('\n');
    std::string_view line = csv.substr(0, eol);
    csv = eol == std::string_view::npos ? std::string_view() : csv.substr(eol + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (!header && !line.empty()) fn(SplitFields(line));
    header = false;
  }
}

// The name as one folded part, or empty when it is not exactly one part.
std::string FoldTableName(std::string_view raw) {
  std::vector<std::string> parts = NameParts(raw);
  return parts.size() == 1 ? std::move(parts[0]) : std::string();
}

GroupTable NicknameGroups(std::string_view csv) {
  GroupTable groups;
  ForEachDataRow(csv, [&groups](const std::vector<std::string_view>& fields) {
    if (fields.size() != 3 || fields[1] != "has_nickname") return;
    std::string name = FoldTableName(fields[0]);
    std::string nickname = FoldTableName(fields[2]);
    if (name.empty() || nickname.empty()) return;
    Members& group = groups[name];
    group.insert(nickname);
    group.insert(std::move(name));
  });
  return groups;
}

// forename -> the forename and every variant listed against it.
std::map<std::string, Members> VariantSets(std::string_view csv) {
  std::map<std::string, Members> sets;
  ForEachDataRow(csv, [&sets](const std::vector<std::string_view>& fields) {
    if (fields.size() != 3) return;
    std::string forename = FoldTableName(fields[0]);
    std::string variant = FoldTableName(fields[1]);
    if (forename.empty() || variant.empty()) return;
    Members& set = sets[forename];
    set.insert(std::move(variant));
    set.insert(std::move(forename));
  });
  return sets;
}

// `owners` is sorted; the longest wins, the alphabetically first among equals.
const std::string& PreferredKey(const std::vector<std::string>& owners) {
  return *std::max_element(
      owners.begin(), owners.end(),
      [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
}

// Adds variant sets that no group holds in full, largest first so that a set inside a
// larger one is found covered.
class SetAdder {
 public:
  explicit SetAdder(GroupTable* groups) : groups_(groups) {
    for (const auto& [key, members] : *groups_) Index(key, members);
  }

  void AddUncovered(const std::map<Members, std::vector<std::string>>& owners_of_set) {
    std::vector<const std::pair<const Members, std::vector<std::string>>*> order;
    for (const auto& entry : owners_of_set) order.push_back(&entry);
    std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
      return a->first.size() > b->first.size();
    });
    for (const auto* entry : order) {
      if (Covered(entry->first)) continue;
      const std::string& key = PreferredKey(entry->second);
      (*groups_)[key] = entry->first;
      Index(key, entry->first);
    }
  }

 private:
  void Index(const std::string& key, const Members& members) {
    for (const std::string& member : members) keys_of_[member].push_back(key);
  }

  bool Covered(const Members& set) const {
    const auto it = keys_of_.find(*set.begin());
    if (it == keys_of_.end()) return false;
    for (const std::string& key : it->second) {
      const Members& group = groups_->at(key);
      if (std::includes(group.begin(), group.end(), set.begin(), set.end())) return true;
    }
    return false;
  }

  GroupTable* groups_;
  std::unordered_map<std::string, std::vector<std::string>> keys_of_;
};

GroupTable BuildGroups(std::string_view nicknames_csv, std::string_view variants_csv) {
  GroupTable groups = NicknameGroups(nicknames_csv);
  std::map<Members, std::vector<std::string>> owners_of_set;
  for (auto& [forename, set] : VariantSets(variants_csv)) {
    const auto group = groups.find(forename);
    if (group != groups.end()) {
      group->second.insert(set.begin(), set.end());
    } else {
      owners_of_set[std::move(set)].push_back(forename);
    }
  }
  SetAdder(&groups).AddUncovered(owners_of_set);
  return groups;
}

}  // namespace

const NameVariants& NameVariants::Default() {
  // Never destroyed, so that threads still running at exit can use it.
  // The shipped nickname list leans American; a short British supplement (Immy, Izzy,
  // Livvy, Alfie, ...) in the same format follows it, its header row dropped.
  static const NameVariants* const kDefault = [] {
    std::string nicknames(EmbeddedBytes(cp_data_nicknames_begin, cp_data_nicknames_end));
    std::string_view british = EmbeddedBytes(cp_data_nicknames_british_begin,
                                             cp_data_nicknames_british_end);
    if (!nicknames.empty() && nicknames.back() != '\n') nicknames.push_back('\n');
    nicknames.append(british.substr(std::min(british.size(), british.find('\n') + 1)));
    return new NameVariants(FromCsv(
        nicknames,
        EmbeddedBytes(cp_data_forename_variants_begin, cp_data_forename_variants_end)));
  }();
  return *kDefault;
}

NameVariants NameVariants::FromCsv(std::string_view nicknames_csv, std::string_view variants_csv) {
  NameVariants variants;
  const GroupTable groups = BuildGroups(nicknames_csv, variants_csv);
  // Keys arrive in sorted order, so each member's key list is sorted and unique.
  uint32_t id = 0;
  for (const auto& [key, members] : groups) {
    for (const std::string& member : members) {
      Member& m = variants.groups_of_[member];
      m.keys.push_back(key);
      m.ids.push_back(id);
    }
    ++id;
  }
  variants.group_count_ = groups.size();
  return variants;
}

std::span<const std::string> NameVariants::Groups(std::string_view folded) const {
  const auto it = groups_of_.find(folded);
  if (it == groups_of_.end()) return {};
  return it->second.keys;
}

std::span<const uint32_t> NameVariants::GroupIds(std::string_view folded) const {
  const auto it = groups_of_.find(folded);
  if (it == groups_of_.end()) return {};
  return it->second.ids;
}

bool NameVariants::AreVariants(std::string_view a, std::string_view b) const {
  const std::span<const std::string> ga = Groups(a);
  const std::span<const std::string> gb = Groups(b);
  for (size_t i = 0, j = 0; i < ga.size() && j < gb.size();) {
    if (ga[i] == gb[j]) return true;
    if (ga[i] < gb[j]) {
      ++i;
    } else {
      ++j;
    }
  }
  return false;
}

}  // namespace cp
