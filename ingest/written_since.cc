#include "ingest/written_since.h"

#include <algorithm>

namespace cp {
namespace {

// Calls f(key) for every key a profile is filed under.
template <typename F>
void ForEachKey(const BlockingProfile& p, F&& f) {
  for (const auto* codes : {&p.given, &p.family, &p.middle}) {
    for (const auto& c : *codes) f("c" + c);
  }
  if (!p.postcode.empty()) f("p" + p.postcode);
  if (!p.nhs.empty()) f("n" + p.nhs);
  if (!p.upn.empty()) f("u" + p.upn);
}

}  // namespace

void WrittenSince::File(const std::string& key, uint64_t seq) {
  std::vector<uint64_t>& seqs = by_key_[key];
  if (seqs.empty() || seqs.back() != seq) seqs.push_back(seq);  // a code in two fields: once
}

void WrittenSince::Add(BlockingProfile child, bool created) {
  const uint64_t seq = children_.size();
  ForEachKey(child, [&](const std::string& key) { File(key, seq); });
  if (child.shielded) shielded_.push_back(seq);
  children_.push_back({std::move(child), created});
}

void WrittenSince::DropFront(size_t n) {
  dropped_ += std::min(n, size());
  if (dropped_ > 0 && dropped_ >= size()) Rebuild();
}

void WrittenSince::Rebuild() {
  children_.erase(children_.begin(), children_.begin() + static_cast<std::ptrdiff_t>(dropped_));
  dropped_ = 0;
  by_key_.clear();
  shielded_.clear();
  for (uint64_t seq = 0; seq < children_.size(); ++seq) {
    ForEachKey(children_[seq].profile, [&](const std::string& key) { File(key, seq); });
    if (children_[seq].profile.shielded) shielded_.push_back(seq);
  }
}

WrittenSince::Reach WrittenSince::Test(const BlockingProfile& record) const {
  // Every child CouldBeCandidate can accept shares a key with the record or is shielded.
  std::vector<uint64_t> seqs(shielded_.begin(), shielded_.end());
  ForEachKey(record, [&](const std::string& key) {
    auto it = by_key_.find(key);
    if (it != by_key_.end()) seqs.insert(seqs.end(), it->second.begin(), it->second.end());
  });
  std::sort(seqs.begin(), seqs.end());
  seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
  Reach reach;
  for (uint64_t seq : seqs) {
    if (seq < dropped_) continue;
    const Child& c = children_[seq];
    if ((c.created ? reach.created : reach.rewritten) || !CouldBeCandidate(record, c.profile))
      continue;
    (c.created ? reach.created : reach.rewritten) = true;
    if (reach.created && reach.rewritten) break;
  }
  return reach;
}

}  // namespace cp
