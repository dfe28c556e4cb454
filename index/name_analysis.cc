#include "index/name_analysis.h"

#include <array>
#include <cstring>
#include <functional>
#include <unordered_map>

#include "index/double_metaphone.h"
#include "index/name_variants.h"
#include "index/normalize.h"
#include "index/trigrams.h"

namespace cp {
namespace {

// Names a thread remembers before it starts again (about 500 bytes each, and the previous
// memo is kept until the next fills: ~32 MB a thread at most). Most fields are among the
// commonest names: importing 100,000 children, 94% of lookups found their name.
// An entry returned now may move to `previous` at the next call, but is freed only when a
// fresh memo has filled after that: kMemoNames calls at least, hence kNameMemoValidCalls.
constexpr size_t kMemoNames = kNameMemoValidCalls + 1;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

using Memo = std::unordered_map<std::string, NameAnalysis, StringHash, std::equal_to<>>;

// The last few names looked up, in front of the memo: a record's names are looked up once
// for its index terms and again, straight after, for its posting features. The memo's
// look-up is a hash and two or three cache misses (at 1M children, 3.5% of an import's
// time); this one is a few compares in lines already in cache.
class RecentNames {
 public:
  const NameAnalysis* Find(std::string_view raw) const {
    for (const Slot& slot : slots_) {
      if (slot.analysis != nullptr && slot.size == raw.size() &&
          std::memcmp(slot.bytes, raw.data(), raw.size()) == 0) {
        return slot.analysis;
      }
    }
    return nullptr;
  }
  void Add(std::string_view raw, const NameAnalysis* analysis) {
    if (raw.size() > sizeof(Slot::bytes)) return;  // long names go to the memo only
    Slot& slot = slots_[next_++ % slots_.size()];
    slot.size = static_cast<uint8_t>(raw.size());
    std::memcpy(slot.bytes, raw.data(), raw.size());
    slot.analysis = analysis;
  }
  void Clear() { slots_ = {}; }

 private:
  struct Slot {
    const NameAnalysis* analysis = nullptr;
    uint8_t size = 0;
    char bytes[23] = {};
  };
  std::array<Slot, 8> slots_;
  size_t next_ = 0;
};

}  // namespace

NameAnalysis ComputeNameAnalysis(std::string_view raw) {
  NameAnalysis a;
  for (auto& part : NameParts(raw)) {
    NamePartAnalysis p;
    PhoneticCodes codes = DoubleMetaphone(part);
    p.primary = std::move(codes.primary);
    if (codes.alternate != p.primary) p.alternate = std::move(codes.alternate);
    p.trigrams = Trigrams(part);
    p.nickname_groups = NameVariants::Default().Groups(part);
    p.part = std::move(part);
    a.parts.push_back(std::move(p));
  }
  return a;
}

const NameAnalysis& AnalyzeName(std::string_view raw) {
  // A full memo is set aside, not emptied at once: what the last calls returned stays
  // valid until the memo fills again (the promise in the header).
  thread_local Memo memo, previous;
  thread_local RecentNames recent;
  static const NameAnalysis kNone;  // most records have no middle or former names
  if (raw.empty()) return kNone;
  if (const NameAnalysis* hit = recent.Find(raw)) return *hit;
  auto it = memo.find(raw);
  if (it == memo.end()) {
    if (memo.size() >= kMemoNames) {
      recent.Clear();  // it may point into what `previous` held
      previous = std::move(memo);
      memo = Memo();
    }
    // A name of the previous memo moves over whole (its node, so its address stays): a
    // common name is computed again only if it went unused for a whole memo's worth of
    // names. Emptying the memo outright made every common name a miss again, and at 1M
    // children (124,612 distinct name fields) that was ~7% of look-ups.
    if (auto old = previous.find(raw); old != previous.end()) {
      it = memo.insert(previous.extract(old)).position;
    } else {
      it = memo.emplace(std::string(raw), ComputeNameAnalysis(raw)).first;
    }
  }
  recent.Add(raw, &it->second);
  return it->second;
}

}  // namespace cp
