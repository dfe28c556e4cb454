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
  std::vector<std::string> base_header;
  for (size_t i = 0; i < header.size(); ++i) {
    std::string name = Trim(header[i]);
    auto it = std::find(FeedColumns().begin(), FeedColumns().end(), name);
    if (it != FeedColumns().end()) {
      int& slot = p.canonical_[it - FeedColumns().begin()];
      if (slot != -1) return Status::InvalidArgument("column '" + name + "' appears twice");
      slot = static_cast<int>(i);
    }
    if (name == "action" || name == "date_of_death") continue;
    base_header.push_back(header[i]);  // the import parser names unknown columns itself
    p.base_columns_.push_back(static_cast<int>(i));
  }
  auto base = ImportRowParser::Create(base_header, source);
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
  std::vector<std::string> base_fields;
  base_fields.reserve(base_columns_.size());
  for (int i : base_columns_) base_fields.push_back(fields[i]);
  auto child = base_->Parse(base_fields);
  if (!child.ok()) return child.status();
  auto extra = [&](ExtraColumn c) {
    int i = canonical_[kImportColumns.size() + c];
    return i < 0 ? std::string() : Trim(fields[i]);
  };
  const std::string action = extra(kAction);
  if (action != "" && action != "upsert" && action != "withdraw") {
    return Status::InvalidArgument("action: must be upsert, withdraw or empty");
  }
  row->withdraw = action == "withdraw";
  row->record.record = std::move(child->record);
  row->record.record.provenance.clear();
  row->record.hidden = std::move(child->hidden);
  row->record.ref = std::move(child->source);
  row->record.seq = 0;
  row->record.record.date_of_death = Date{};
  if (std::string dod = extra(kDateOfDeath); !dod.empty()) {
    auto d = ParseDate(dod);
    if (!d.ok()) return Status::InvalidArgument("date_of_death: not a date in the form YYYY-MM-DD");
    row->record.record.date_of_death = *d;
  }
  // The fingerprint input lists every import column in one order, whatever the file's —
  // the same line an import stores, so a record imported and then fed again unchanged is
  // unchanged — then action and date of death only when given.
  // The sensitive services, too, only when given (tools/import.h).
  std::vector<std::string> canonical;
  canonical.reserve(FeedColumns().size());
  for (int i : canonical_) canonical.push_back(i < 0 ? std::string() : Trim(fields[i]));
  auto given = [&](size_t from, size_t to) {
    return std::any_of(canonical.begin() + from, canonical.begin() + to,
                       [](const std::string& v) { return !v.empty(); });
  };
  const size_t n = kImportColumns.size();
  std::vector<std::string> line(canonical.begin(), canonical.begin() + kImportColumnsBeforeSensitive);
  if (given(kImportColumnsBeforeSensitive, n)) {
    line.insert(line.end(), canonical.begin() + kImportColumnsBeforeSensitive, canonical.begin() + n);
  }
  if (given(n, n + 2)) line.insert(line.end(), canonical.begin() + n, canonical.end());
  row->raw = CsvLine(line);
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
