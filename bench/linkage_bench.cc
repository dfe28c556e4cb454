// Linkage quality on the FEBRL data sets (data/febrl/, data/SOURCES.md): every record is fed
// as one source, in file order, through the real feed path (FeedApplier), and the children it
// made are compared with the ground truth (`rec-N-org` and `rec-N-dup-K` are one person).
//
//   build/release/bench/linkage_bench [--data DIR] [--sweep]
//
// Prints, per data set: pairwise precision, recall and F1 over record pairs put in one child,
// the review queue's size, and how many waiting records have a true match as their best
// candidate. --sweep repeats it for a grid of thresholds, to show why the defaults are what
// they are. FEBRL records are adults with Australian addresses: dates of birth are mapped as
// they are, names as they are, and each 4-digit postcode onto a UK-shaped one that keeps its
// first two digits as the district.
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "index/index_policy.h"
#include "ingest/feed_applier.h"
#include "util/postcode.h"

namespace cp {
namespace {

struct FebrlRecord {
  std::string id;      // rec-N-org / rec-N-dup-K
  std::string entity;  // N
  FeedRow row;
};

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(' ');
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(' ') - b + 1);
}

std::string UkShapedPostcode(const std::string& au) {
  if (au.size() != 4) return "";
  for (char c : au) {
    if (c < '0' || c > '9') return "";
  }
  std::string pc = {'Z', static_cast<char>('A' + (au[0] - '0')), au[1], ' ', au[2],
                    static_cast<char>('A' + (au[3] - '0')), 'A'};
  auto canonical = NormalisePostcode(pc);
  return canonical.ok() ? *canonical : "";
}

std::vector<FebrlRecord> Load(const std::string& path) {
  std::ifstream in(path);
  std::vector<FebrlRecord> out;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string field; std::getline(ss, field, ',');) f.push_back(Trim(field));
    if (f.size() < 11) continue;
    FebrlRecord r;
    r.id = f[0];
    size_t a = r.id.find('-'), b = r.id.find('-', a + 1);
    r.entity = r.id.substr(a + 1, b - a - 1);
    SourceRecord& s = r.row.record;
    s.ref = {"febrl", r.id};
    s.record.given_name = f[1];
    s.record.family_name = f[2];
    const std::string& dob = f[9];
    if (dob.size() == 8) {
      auto d = ParseDate(dob.substr(0, 4) + "-" + dob.substr(4, 2) + "-" + dob.substr(6, 2));
      if (d.ok()) s.record.date_of_birth = *d;
    }
    s.hidden.address = f[3] + " " + f[4] + " " + f[5] + " " + f[6] + " " + f[8];
    s.hidden.postcode = UkShapedPostcode(f[7]);
    r.row.raw = line;
    out.push_back(std::move(r));
  }
  return out;
}

struct Quality {
  double precision = 0, recall = 0, f1 = 0;
  uint64_t predicted_pairs = 0, true_pairs = 0, correct_pairs = 0;
  size_t review = 0, review_with_true_best = 0, children = 0;
  double seconds = 0;
};

uint64_t Pairs(uint64_t n) { return n * (n - 1) / 2; }

Quality Measure(const std::vector<FebrlRecord>& records, const MatchWeights& weights, const std::string& dir) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ChildStore::Options o;
  o.db_dir = dir + "/db";
  o.key_file = dir + "/db.key";
  o.create = true;
  o.policy = &NameIndexPolicy::Instance();
  auto store = ChildStore::Open(o);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    std::exit(1);
  }
  FeedOptions options;
  options.weights = weights;
  FeedApplier applier(store->get(), options);
  size_t next = 0;
  FeedRowSource rows = [&](FeedRow* row, std::string*) {
    if (next == records.size()) return false;
    *row = records[next++].row;
    return true;
  };
  FeedBatchResult result;
  auto start = std::chrono::steady_clock::now();
  Status s = applier.ApplyBatch("febrl", 1, rows, [](const std::string& m) { std::fprintf(stderr, "%s\n", m.c_str()); },
                                &result);
  Quality q;
  q.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    std::exit(1);
  }
  std::map<std::string, std::string> entity_of;
  std::map<std::string, uint64_t> per_entity;
  std::map<ChildId, std::vector<std::string>> per_child;
  std::map<ChildId, std::set<std::string>> entities_of_child;
  for (const auto& r : records) {
    entity_of[r.id] = r.entity;
    ++per_entity[r.entity];
    auto link = (*store)->FindSource("febrl", r.id);
    if (link.ok()) {
      ChildId c = *(*store)->Resolve(link->child);
      per_child[c].push_back(r.entity);
      entities_of_child[c].insert(r.entity);
    }
  }
  for (const auto& [e, n] : per_entity) q.true_pairs += Pairs(n);
  for (const auto& [c, entities] : per_child) {
    q.predicted_pairs += Pairs(entities.size());
    std::map<std::string, uint64_t> n;
    for (const auto& e : entities) ++n[e];
    for (const auto& [e, k] : n) q.correct_pairs += Pairs(k);
  }
  q.children = per_child.size();
  std::vector<ReviewItem> items;
  if ((*store)->ListReview(&items).ok()) {
    q.review = items.size();
    auto clearance = Clearance::Elevated(Clearance::Level::kMatching, "bench", "linkage quality");
    for (const auto& item : items) {
      auto full = (*store)->GetReview(item.id, clearance);
      if (!full.ok()) continue;
      auto payload = DecodeReviewPayload(full->payload);
      if (!payload.ok() || payload->outcome.candidates.empty()) continue;
      ChildId best = *(*store)->Resolve(payload->outcome.candidates[0].child);
      if (entities_of_child[best].count(entity_of[item.ref.key]) > 0) ++q.review_with_true_best;
    }
  }
  q.precision = q.predicted_pairs ? static_cast<double>(q.correct_pairs) / q.predicted_pairs : 1;
  q.recall = q.true_pairs ? static_cast<double>(q.correct_pairs) / q.true_pairs : 1;
  q.f1 = q.precision + q.recall > 0 ? 2 * q.precision * q.recall / (q.precision + q.recall) : 0;
  store->reset();
  std::filesystem::remove_all(dir);
  return q;
}

void Print(const char* name, size_t records, const MatchWeights& w, const Quality& q) {
  std::printf("%-9s %5zu records  upper %5.1f lower %4.1f  precision %.4f  recall %.4f  F1 %.4f  "
              "(pairs %" PRIu64 " true, %" PRIu64 " linked, %" PRIu64 " right)  review %zu (%zu with the "
              "true match best)  %.0f records/s\n",
              name, records, w.upper, w.lower, q.precision, q.recall, q.f1, q.true_pairs, q.predicted_pairs,
              q.correct_pairs, q.review, q.review_with_true_best, records / q.seconds);
}

}  // namespace
}  // namespace cp

int main(int argc, char** argv) {
  std::string data = CP_SOURCE_DATA_DIR "/febrl";
  bool sweep = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--data") == 0 && i + 1 < argc) data = argv[++i];
    if (std::strcmp(argv[i], "--sweep") == 0) sweep = true;
  }
  const std::string dir = (std::filesystem::temp_directory_path() / "cp-linkage-bench").string();
  std::vector<std::pair<double, double>> grid = {{cp::MatchWeights{}.upper, cp::MatchWeights{}.lower}};
  if (sweep) grid = {{12, 5}, {12, 7}, {15, 5}, {15, 7}, {18, 7}, {18, 10}, {21, 10}};
  for (const char* name : {"dataset1", "dataset2", "dataset3"}) {
    auto records = cp::Load(data + "/" + name + ".csv");
    if (records.empty()) {
      std::fprintf(stderr, "no records in %s/%s.csv\n", data.c_str(), name);
      return 1;
    }
    for (auto [upper, lower] : grid) {
      cp::MatchWeights w;
      w.upper = upper;
      w.lower = lower;
      cp::Print(name, records.size(), w, cp::Measure(records, w, dir));
    }
  }
  return 0;
}
