// Nicknames and forename variants: William ~ Bill ~ Liam, Elizabeth ~ Betty ~ Libby.
//
// Built once from two tables compiled into the binary (data/SOURCES.md):
// data/nicknames/names.csv (name1,has_nickname,name2) and
// data/uk_names/firstname_uk_variant.csv (forename,forename2,freq). Each canonical name
// in either table is a group holding itself and its variants; a name may be in several
// groups ("al" is in "albert", "alfred", "alexander", ...). Names are folded lower case.
//
// Thread safety: immutable after construction; Default() is safe to call from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cp {

class NameVariants {
 public:
  // The tables compiled into the binary. Built on first use.
  static const NameVariants& Default();

  // Parses tables in the two formats above (header row first). Rows that are malformed
  // are skipped. Used by Default() and by tests with small tables.
  static NameVariants FromCsv(std::string_view nicknames_csv, std::string_view variants_csv);

  // Group keys of a folded forename: "bill" -> {"william"}; "william" -> {"william"};
  // a name in no group -> empty. Sorted, no duplicates.
  std::span<const std::string> Groups(std::string_view folded) const;

  // The same groups as numbers (ids in the order of their keys): sorted, no duplicates.
  // Two names are variants when their ids meet; a caller that compares one name with many
  // keeps its ids instead of looking both names up each time.
  std::span<const uint32_t> GroupIds(std::string_view folded) const;

  // True when the two folded names share a group (a name is not its own variant here:
  // AreVariants("anna", "anna") is true only if "anna" is in a group).
  bool AreVariants(std::string_view a, std::string_view b) const;

  size_t group_count() const { return group_count_; }

 private:
  // Transparent, so that a lookup by string_view builds no string: the scorer looks up
  // every candidate's given name, thousands of times a second.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Member {
    std::vector<std::string> keys;  // of its groups, sorted
    std::vector<uint32_t> ids;      // the same groups' ids, in the same order
  };
  std::unordered_map<std::string, Member, Hash, std::equal_to<>> groups_of_;
  size_t group_count_ = 0;
};

}  // namespace cp
