#include "index/name_analysis.h"

#include <xxhash.h>

#include <array>
#include <memory>

#include "index/double_metaphone.h"
#include "index/name_variants.h"
#include "index/normalize.h"
#include "index/trigrams.h"

namespace cp {
namespace {

// Names a memo holds before a new one is started (the previous is kept until the next
// fills, so a thread holds at most twice this many). Most fields are among the commonest
// names: at 1M children the 32,000 commonest fields are 97.6% of all.
// A view returned now may point into a memo set aside at the next call, but is freed only
// when a fresh memo has filled after that: kMemoNames calls at least, hence
// kNameMemoValidCalls.
constexpr size_t kMemoNames = kNameMemoValidCalls + 1;
constexpr size_t kSlots = 2 * kMemoNames;  // a power of two; at most half full
static_assert((kSlots & (kSlots - 1)) == 0);

void PutU32(std::string* out, size_t v) {
  const uint32_t u = static_cast<uint32_t>(v);
  out->append(reinterpret_cast<const char*>(&u), 4);
}

void PutString(std::string* out, std::string_view s) {
  PutU32(out, s.size());
  out->append(s);
}

// A remembered name's block: its size, the key (the raw field) so that a probe can compare
// it, then what NameView reads: the part count and the parts.
std::string EncodeBlock(std::string_view raw, const NameAnalysis& a) {
  std::string out(4, '\0');  // the block's size, once known
  PutString(&out, raw);
  PutU32(&out, a.parts.size());
  for (const auto& p : a.parts) {
    PutString(&out, p.part);
    PutString(&out, p.primary);
    PutString(&out, p.alternate);
    const std::string* groups = p.nickname_groups.data();
    out.append(reinterpret_cast<const char*>(&groups), sizeof(groups));
    PutU32(&out, p.nickname_groups.size());
    std::string trigrams;
    for (const auto& t : p.trigrams) PutString(&trigrams, t);
    PutString(&out, trigrams);
  }
  const uint32_t size = static_cast<uint32_t>(out.size());
  std::memcpy(out.data(), &size, 4);
  return out;
}

// A block whole, and where its analysis starts (after its size and key).
std::string_view WholeBlock(const char* block) { return std::string_view(block, LoadBlockU32(block)); }
const char* AnalysisIn(const char* block) { return block + 8 + LoadBlockU32(block + 4); }

// One generation of remembered names: blocks in a flat, linearly probed table of
// (hash, block). Never more than half full; never shrinks; dropped whole.
class Memo {
 public:
  Memo() : slots_(kSlots) {}

  size_t size() const { return blocks_.size(); }

  // The block (from EncodeBlock) of `raw`, or null.
  const char* Find(uint64_t hash, std::string_view raw) const {
    for (size_t i = hash & (kSlots - 1);; i = (i + 1) & (kSlots - 1)) {
      const Slot& slot = slots_[i];
      if (slot.block == nullptr) return nullptr;
      if (slot.hash == hash && LoadBlockU32(slot.block + 4) == raw.size() &&
          std::memcmp(slot.block + 8, raw.data(), raw.size()) == 0) {
        return slot.block;
      }
    }
  }

  // Keeps a copy of `block` (from EncodeBlock) and returns it. Requires size() < kMemoNames
  // and the key not held yet.
  const char* Add(uint64_t hash, std::string_view block) {
    auto owned = std::make_unique<char[]>(block.size());
    std::memcpy(owned.get(), block.data(), block.size());
    const char* stored = owned.get();
    blocks_.push_back(std::move(owned));
    size_t i = hash & (kSlots - 1);
    while (slots_[i].block != nullptr) i = (i + 1) & (kSlots - 1);
    slots_[i] = Slot{hash, stored};
    return stored;
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    const char* block = nullptr;
  };
  std::vector<Slot> slots_;
  std::vector<std::unique_ptr<char[]>> blocks_;
};

// The last few names looked up, in front of the memo: a record's names are looked up once
// for its index terms and again, straight after, for its posting features.
class RecentNames {
 public:
  const char* Find(std::string_view raw) const {
    for (const Slot& slot : slots_) {
      if (slot.analysis != nullptr && slot.size == raw.size() &&
          std::memcmp(slot.bytes, raw.data(), raw.size()) == 0) {
        return slot.analysis;
      }
    }
    return nullptr;
  }
  void Add(std::string_view raw, const char* analysis) {
    if (raw.size() > sizeof(Slot::bytes)) return;  // long names go to the memo only
    Slot& slot = slots_[next_++ % slots_.size()];
    slot.size = static_cast<uint8_t>(raw.size());
    std::memcpy(slot.bytes, raw.data(), raw.size());
    slot.analysis = analysis;
  }
  void Clear() { slots_ = {}; }

 private:
  struct Slot {
    const char* analysis = nullptr;
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

NameAnalysis NameView::ToAnalysis() const {
  NameAnalysis a;
  ForEachPart([&](const NamePartView& v) {
    NamePartAnalysis p;
    p.part = v.part;
    p.primary = v.primary;
    p.alternate = v.alternate;
    p.nickname_groups = v.nickname_groups;
    v.ForEachTrigram([&](std::string_view t) { p.trigrams.emplace_back(t); });
    a.parts.push_back(std::move(p));
  });
  return a;
}

NameView AnalyzeName(std::string_view raw) {
  static const uint32_t kNoParts = 0;  // most records have no middle or former names
  if (raw.empty()) return NameView(reinterpret_cast<const char*>(&kNoParts));
  thread_local std::unique_ptr<Memo> memo = std::make_unique<Memo>(), previous;
  thread_local RecentNames recent;
  if (const char* hit = recent.Find(raw)) return NameView(hit);
  const uint64_t hash = XXH3_64bits(raw.data(), raw.size());
  const char* block = memo->Find(hash, raw);
  if (block == nullptr) {
    if (memo->size() >= kMemoNames) {
      recent.Clear();  // it may point into what `previous` held
      previous = std::move(memo);
      memo = std::make_unique<Memo>();
    }
    // A name of the previous memo is copied over: a common name is computed again only if
    // it went unused for a whole memo's worth of names. (Emptying the memo outright made
    // every common name a miss again: at 1M children ~7% of look-ups.)
    const char* old = previous != nullptr ? previous->Find(hash, raw) : nullptr;
    block = old != nullptr ? memo->Add(hash, WholeBlock(old))
                           : memo->Add(hash, EncodeBlock(raw, ComputeNameAnalysis(raw)));
  }
  const char* analysis = AnalysisIn(block);
  recent.Add(raw, analysis);
  return NameView(analysis);
}

}  // namespace cp
