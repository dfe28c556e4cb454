// The children a feed batch wrote since a window's rows were looked up, as blocking sees
// them, and the test the applier makes of each row against them: could one of them be the
// row's candidate (CouldBeCandidate)? Walking every one for every row cost the applying
// thread ~29 µs a row at 1M children (docs/performance.md, "Where each thread's time
// goes"). Here each is filed under what CouldBeCandidate needs it to share with a record: a
// name code, the postcode, an NHS or pupil number. A shielded child needs none of them (its
// birth posting reaches any record with a plausible date), so every shielded one is tested.
//
// Thread safety: none; the applying thread's.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "ingest/matcher.h"

namespace cp {

class WrittenSince {
 public:
  // A child written (`created`: a new child, else an existing one rewritten).
  void Add(BlockingProfile child, bool created);
  // Forgets the first `n` still held, oldest first.
  void DropFront(size_t n);
  size_t size() const { return children_.size() - dropped_; }

  struct Reach {
    bool created = false;    // a created child could be a candidate
    bool rewritten = false;  // a rewritten child could be
  };
  // Which of the children held could be `record`'s candidates, by kind.
  Reach Test(const BlockingProfile& record) const;

 private:
  struct Child {
    BlockingProfile profile;
    bool created;
  };
  void File(const std::string& key, uint64_t seq);
  void Rebuild();

  std::vector<Child> children_;  // by seq; the first dropped_ are forgotten
  size_t dropped_ = 0;
  // Seqs by "c" + name code, "p" + postcode, "n" + NHS number, "u" + pupil number.
  std::unordered_map<std::string, std::vector<uint64_t>> by_key_;
  std::vector<uint64_t> shielded_;
};

}  // namespace cp
