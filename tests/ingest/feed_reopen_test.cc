// A feed apply leaves nothing for the next open to replay: the store flushes its memtables
// when it closes, so the write-ahead log is empty (bench/feed_1m.sh once charged each batch
// with replaying the previous one's log, 98% of a short apply's instructions).
#include <filesystem>

#include "feed_test_util.h"
#include "storage/file_encryption.h"

namespace cp::feed_test {
namespace {

// Bytes of write-ahead log past each file's clear prefix, summed over the database's logs.
uintmax_t LogBytes(const std::string& db_dir, size_t* logs) {
  uintmax_t bytes = 0;
  *logs = 0;
  for (const auto& e : std::filesystem::directory_iterator(db_dir)) {
    if (e.path().extension() != ".log") continue;
    ++*logs;
    const uintmax_t size = e.file_size();
    bytes += size > kFilePrefixBytes ? size - kFilePrefixBytes : 0;
  }
  return bytes;
}

TEST_F(FeedTest, AfterAFeedApplyClosesTheWriteAheadLogHoldsNothingToReplay) {
  const char* const given[] = {"Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur", "Ivy", "Leo"};
  const char* const family[] = {"Whitfield", "Okafor", "Nowak", "Patel", "Ferreira"};
  std::vector<RowSpec> rows;
  for (int i = 0; i < 50; ++i) {
    rows.push_back({"b" + std::to_string(i), given[i % 10], family[i / 10], "2016-0" + std::to_string(i % 9 + 1) + "-1" + std::to_string(i % 10),
                    i % 2 ? "F" : "M", std::to_string(i) + " High St", "LS1 4AB", std::to_string(9000000000LL + i)});
  }
  ASSERT_TRUE(Apply("births", 1, rows).ok());
  const uint64_t children = Children();
  EXPECT_GT(children, 1u);
  size_t logs = 0;
  // While open, the batch is in the log (the test would pass trivially if it were not).
  EXPECT_GT(LogBytes(dir_ + "/db", &logs), 0u);
  store_.reset();
  EXPECT_EQ(LogBytes(dir_ + "/db", &logs), 0u) << logs << " log file(s)";
  // Everything written is there after reopening, from the table files.
  Open(false);
  ASSERT_TRUE(store_);
  EXPECT_EQ(Children(), children);
  EXPECT_NE(LinkedChild("births", "b49"), 0u);
  FeedBatchResult again;
  ASSERT_TRUE(Apply("births", 1, rows, &again).ok());
  EXPECT_TRUE(again.already_applied);
}

}  // namespace
}  // namespace cp::feed_test
