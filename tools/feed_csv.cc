#include "tools/feed_csv.h"

#include <algorithm>

#include "util/csv.h"
#include "util/parallel.h"

namespace cp {
namespace {

enum ExtraColumn { kAction = 0, kDateOfDeath = 1 };

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1));
}

}  // namespace

// A function, not a global: kImportColumns lives in another translation unit, whose
// initialisation order relative to this one is unspecified.
const std::vector<std::string>& FeedColumns() {
  static const std::vector<std::string> columns = [] {
    std::vector<std::string> c = kImportColumns;
    c.push_back("action");
    c.push_back("date_of_death");
    return c;
  }();
  return columns;
}

Result<FeedRowParser> FeedRowParser::Create(const std::vector<std::string>& header,
                                            const std::string& source) {
  FeedRowParser p;
  p.width_ = header.size();
  p.canonical_.assign(FeedColumns().size(), -1);
  for (size_t i = 0; i < header.size(); ++i) {
    std::string name = Trim(header[i]);
    auto it = std::find(FeedColumns().begin(), FeedColumns().end(), name);
    if (it != FeedColumns().end()) {
      int& slot = p.canonical_[it - FeedColumns().begin()];
      if (slot != -1) return Status::InvalidArgument("column '" + name + "' appears twice");
      slot = static_cast<int>(i);
    }
  }
  // The import parser reads every column but these two, and names unknown columns itself.
  auto base = ImportRowParser::Create(header, source, {"action", "date_of_death"});
  if (!base.ok()) {
    return Status::InvalidArgument(base.status().message() + ", action, date_of_death");
  }
  p.base_ = std::make_shared<ImportRowParser>(std::move(*base));
  return p;
}

Status FeedRowParser::Parse(const std::vector<std::string>& fields, FeedRow* row) const {
  if (fields.size() != width_) {
    return Status::InvalidArgument("expected " + std::to_string(width_) + " fields, found " +
                                   std::to_string(fields.size()));
  }
  auto child = base_->Parse(fields);
  if (!child.ok()) return child.status();
  auto extra = [&](ExtraColumn c) {
    int i = canonical_[kImportColumns.size() + c];
    return i < 0 ? std::string() : Trim(fields[i]);
  };
  const std::string action = extra(kAction);
  if (action != "" && action != "upsert" && action != "withdraw") {
    return Status::InvalidArgument("action: must be upsert, withdraw or empty");
  }
  const std::string dod = extra(kDateOfDeath);
  row->withdraw = action == "withdraw";
  row->record.record = std::move(child->record);
  row->record.record.provenance.clear();
  row->record.hidden = std::move(child->hidden);
  row->record.ref = std::move(child->source);
  row->record.seq = 0;
  row->record.record.date_of_death = Date{};
  if (!dod.empty()) {
    auto d = ParseDate(dod);
    if (!d.ok()) return Status::InvalidArgument("date_of_death: not a date in the form YYYY-MM-DD");
    row->record.record.date_of_death = *d;
  }
  // The fingerprint input is the line an import stores (every import column in one order,
  // whatever the file's; the sensitive services only when given: tools/import.h), so that a
  // record imported and then fed again unchanged is unchanged; then action and date of
  // death, only when given.
  row->raw = std::move(child->source_payload);
  if (!action.empty() || !dod.empty()) {
    row->raw.push_back(',');
    AppendCsvField(action, &row->raw);
    row->raw.push_back(',');
    AppendCsvField(dod, &row->raw);
  }
  return Status::OK();
}

Status ApplyFeedCsv(ChildStore* store, const FeedOptions& options, const std::string& source,
                    uint64_t batch, std::istream& in,
                    const std::function<void(const std::string&)>& report, FeedBatchResult* result) {
  CsvReader reader(&in);
  std::vector<std::string> fields;
  std::string error;
  if (!reader.Next(&fields, &error)) return Status::InvalidArgument("the file is empty: no header row");
  if (!error.empty()) return Status::InvalidArgument("header: " + error);
  auto parser = FeedRowParser::Create(fields, source);
  if (!parser.ok()) return parser.status();
  FeedApplier applier(store, options);
  // Rows are read in chunks and parsed on every core (parsing is most of the cost of an
  // unchanged row), then handed over in file order.
  struct Parsed {
    std::vector<std::string> fields;
    size_t line = 0;
    std::string error;
    FeedRow row;
  };
  constexpr size_t kChunk = 2048;
  std::vector<Parsed> chunk(kChunk);
  size_t filled = 0, next = 0;
  bool at_end = false;
  const size_t threads = ThreadsFor(options.threads);
  auto refill = [&] {
    filled = next = 0;
    while (filled < kChunk && !at_end) {
      Parsed& p = chunk[filled];
      p.error.clear();
      if (!reader.Next(&p.fields, &p.error)) {
        at_end = true;
        break;
      }
      p.line = reader.record_line();
      ++filled;
    }
    ParallelFor(filled, threads, [&](size_t i) {
      Parsed& p = chunk[i];
      if (!p.error.empty()) return;
      p.row = FeedRow{};
      Status s = parser->Parse(p.fields, &p.row);
      if (!s.ok()) p.error = "line " + std::to_string(p.line) + ": " + s.message();
    });
  };
  FeedRowSource rows = [&](FeedRow* row, std::string* row_error) {
    if (next == filled) {
      if (at_end) return false;
      refill();
      if (filled == 0) return false;
    }
    Parsed& p = chunk[next++];
    *row = std::move(p.row);
    row->line = p.line;
    if (!p.error.empty()) *row_error = std::move(p.error);
    return true;
  };
  return applier.ApplyBatch(source, batch, rows, report, result);
}

}  // namespace cp
