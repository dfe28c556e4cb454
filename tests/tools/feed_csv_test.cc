// ApplyFeedCsv in process: rows read and parsed as far as their key on a reader thread,
// chunk after chunk, handed over in file order; the reader stopped on every way out.
#include "tools/feed_csv.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "storage/child_store.h"
#include "tests/server/test_store.h"

namespace cp {
namespace {

// Letters for a number, so that every child's names are distinct names, not digits.
std::string Letters(size_t n) {
  std::string s;
  do {
    s.push_back(static_cast<char>('a' + n % 26));
    n /= 26;
  } while (n > 0);
  return s;
}

class FeedCsvTest : public ::testing::Test {
 protected:
  static constexpr size_t kRows = 5000;  // more than two of the reader's chunks (2,048)

  void SetUp() override {
    char tmpl[] = "/tmp/cp-feed-csv-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    store_ = server::testing::OpenTestStore(dir_, /*create=*/true);
    ASSERT_NE(store_, nullptr);
    std::istringstream in(Csv({}, {}));
    ImportSummary summary;
    ASSERT_TRUE(ImportCsv(store_.get(), "births", in, &summary, [](const std::string&) {}).ok());
    ASSERT_EQ(summary.imported, kRows);
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // kRows children; rows in `moved` at a new address, rows in `bad` with a bad date too.
  static std::string Csv(const std::vector<size_t>& moved, const std::vector<size_t>& bad) {
    std::string csv = "source_key,given_name,family_name,date_of_birth,gender,address,postcode\n";
    for (size_t i = 0; i < kRows; ++i) {
      const bool move = std::find(moved.begin(), moved.end(), i) != moved.end();
      const bool broken = std::find(bad.begin(), bad.end(), i) != bad.end();
      csv += "k" + std::to_string(i) + ",Ann" + Letters(i) + ",Bell" + Letters(i * 7 + 3) + "," +
             (broken ? "2015-02-30"
                     : "2015-0" + std::to_string(1 + i % 9) + "-1" + std::to_string(i % 10)) +
             ",F," +
             (move ? "\"9 New St, Leeds\"" : "\"" + std::to_string(i) + " Old St, Leeds\"") +
             ",LS1 4AB\n";
    }
    return csv;
  }

  Status Feed(uint64_t batch, const std::string& csv, FeedBatchResult* result,
              std::vector<std::string>* reports) {
    std::istringstream in(csv);
    return ApplyFeedCsv(
        store_.get(), FeedOptions{}, "births", batch, in,
        [reports](const std::string& m) { reports->push_back(m); }, result);
  }

  std::string dir_;
  std::unique_ptr<ChildStore> store_;
};

TEST_F(FeedCsvTest, RowsAcrossChunksAreAppliedInOrderAndOnlyChangedOnesParsedInFull) {
  // Changed rows either side of each chunk boundary; faults only a full parse finds, in
  // changed rows (an unchanged row is the row accepted before).
  const std::vector<size_t> moved = {0, 2047, 2048, 2049, 4095, 4096, 4999};
  const std::vector<size_t> bad = {2047, 4096};
  FeedBatchResult result;
  std::vector<std::string> reports;
  ASSERT_TRUE(Feed(1, Csv(moved, bad), &result, &reports).ok());
  EXPECT_EQ(result.counts.unchanged, kRows - moved.size());
  EXPECT_EQ(result.counts.updated, moved.size() - bad.size());
  EXPECT_EQ(result.counts.rejected, bad.size());
  // Line numbers: the header is line 1, row i is line i + 2; reported in file order.
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0], "line 2049: date_of_birth: not a date in the form YYYY-MM-DD");
  EXPECT_EQ(reports[1], "line 4098: date_of_birth: not a date in the form YYYY-MM-DD");
  for (size_t i : {size_t{0}, size_t{2048}, size_t{4999}}) {
    auto link = store_->FindSource("births", "k" + std::to_string(i));
    ASSERT_TRUE(link.ok());
    auto child =
        store_->Get(link->child, Clearance::Elevated(Clearance::Level::kMatching, "t", "t"));
    ASSERT_TRUE(child.ok());
    EXPECT_EQ(child->hidden->address, "9 New St, Leeds") << i;
  }
  auto kept = store_->FindSource("births", "k2047");
  ASSERT_TRUE(kept.ok());
  auto child = store_->Get(kept->child, Clearance::Elevated(Clearance::Level::kMatching, "t", "t"));
  ASSERT_TRUE(child.ok());
  EXPECT_EQ(child->hidden->address, "2047 Old St, Leeds");

  // Sent again: the moved rows are unchanged now, the bad ones still rejected.
  reports.clear();
  ASSERT_TRUE(Feed(2, Csv(moved, bad), &result, &reports).ok());
  EXPECT_EQ(result.counts.unchanged, kRows - bad.size());
  EXPECT_EQ(result.counts.rejected, bad.size());
  EXPECT_EQ(reports.size(), 2u);
}

// A batch refused before or during its rows returns with the reader thread stopped (the
// test would hang, or the process abort on a joinable thread, otherwise), and applies
// nothing.
TEST_F(FeedCsvTest, ARefusedBatchStopsTheReader) {
  const std::string csv = Csv({1, 2, 3}, {});
  FeedBatchResult result;
  std::vector<std::string> reports;
  Status s = Feed(2, csv, &result, &reports);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("out of sequence"), std::string::npos);

  auto state = store_->GetFeedState("births");
  ASSERT_TRUE(state.ok());
  FeedState paused = *state;
  paused.source = "births";
  paused.paused = true;
  ASSERT_TRUE(store_->PutFeedState(paused).ok());
  s = Feed(1, csv, &result, &reports);
  EXPECT_EQ(s.code(), Status::Code::kFailedPrecondition);
  paused.paused = false;
  ASSERT_TRUE(store_->PutFeedState(paused).ok());
  ASSERT_TRUE(Feed(1, csv, &result, &reports).ok());
  EXPECT_EQ(result.counts.updated, 3u);
  EXPECT_TRUE(reports.empty());
}

}  // namespace
}  // namespace cp
