// Feed files (`contactpoint feed apply`): the import CSV format plus two optional columns,
// `action` (upsert, the default, or withdraw) and `date_of_death` (YYYY-MM-DD).
#pragma once

#include <istream>
#include <memory>
#include <string>
#include <vector>

#include "ingest/feed_applier.h"
#include "tools/import.h"

namespace cp {

// kImportColumns, then action and date_of_death.
const std::vector<std::string>& FeedColumns();

class FeedRowParser : public FeedRowCompleter {
 public:
  // Checks the header: known columns, no repeats, source_key present.
  static Result<FeedRowParser> Create(const std::vector<std::string>& header, const std::string& source);

  // Parses one row; InvalidArgument naming the column and the fault, never the value.
  Status Parse(const std::vector<std::string>& fields, FeedRow* row) const;
  // Parses one row as far as its source key, `raw` and `withdraw` (each as Parse gives
  // them) and keeps the fields in the row, with this parser as its completer.
  // InvalidArgument for the wrong number of fields or an empty source_key.
  Status ParseKey(std::vector<std::string>* fields, FeedRow* row) const;
  // Parse of the fields ParseKey kept.
  Status Complete(FeedRow* row) const override;

 private:
  FeedRowParser() = default;
  std::shared_ptr<ImportRowParser> base_;
  std::vector<int> canonical_;       // row index of each FeedColumns() entry, or -1
  size_t width_ = 0;
};

// Reads a feed CSV and applies it as batch `batch` of `source`. A bad header refuses the
// file before anything is applied; bad rows are reported (line and reason) and counted.
Status ApplyFeedCsv(ChildStore* store, const FeedOptions& options, const std::string& source,
                    uint64_t batch, std::istream& in,
                    const std::function<void(const std::string&)>& report, FeedBatchResult* result);

}  // namespace cp
