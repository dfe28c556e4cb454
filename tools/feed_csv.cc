#include "tools/feed_csv.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "util/csv.h"

namespace cp {
namespace {

enum ExtraColumn { kAction = 0, kDateOfDeath = 1 };

// A feed's own column of a row, trimmed; empty when the file has no such column.
std::string_view ExtraField(const std::vector<int>& canonical,
                            const std::vector<std::string>& fields, ExtraColumn c) {
  const int i = canonical[kImportColumns.size() + c];
  return i < 0 ? std::string_view() : TrimField(fields[i]);
}

// The fingerprint input is the line an import stores (every import column in one order,
// whatever the file's; the sensitive services only when given: tools/import.h), so that a
// record imported and then fed again unchanged is unchanged; then action and date of death,
// only when given. This appends those two to the import's line.
void AppendFeedColumns(std::string_view action, std::string_view date_of_death, std::string* raw) {
  if (action.empty() && date_of_death.empty()) return;
  raw->push_back(',');
  AppendCsvField(action, raw);
  raw->push_back(',');
  AppendCsvField(date_of_death, raw);
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
    std::string name(TrimField(header[i]));
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
  const std::string_view action = ExtraField(canonical_, fields, kAction);
  if (action != "" && action != "upsert" && action != "withdraw") {
    return Status::InvalidArgument("action: must be upsert, withdraw or empty");
  }
  const std::string_view dod = ExtraField(canonical_, fields, kDateOfDeath);
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
  row->raw = std::move(child->source_payload);
  AppendFeedColumns(action, dod, &row->raw);
  return Status::OK();
}

Status FeedRowParser::ParseKey(std::vector<std::string>* fields, FeedRow* row) const {
  Status s = base_->ParseKey(*fields, &row->record.ref.key, &row->raw);
  if (!s.ok()) return s;
  const std::string_view action = ExtraField(canonical_, *fields, kAction);
  row->withdraw = action == "withdraw";
  AppendFeedColumns(action, ExtraField(canonical_, *fields, kDateOfDeath), &row->raw);
  row->fields = std::move(*fields);
  row->completer = this;
  return Status::OK();
}

Status FeedRowParser::Complete(FeedRow* row) const {
  const std::vector<std::string> fields = std::move(row->fields);
  row->fields.clear();
  row->completer = nullptr;
  return Parse(fields, row);
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
  // Rows are read and parsed a chunk at a time by a thread of their own, ahead of the
  // applier (reading and parsing are most of an unchanged row's cost), and handed over in
  // file order: kChunks chunks circulate, so the reader runs up to two chunks ahead.
  struct Parsed {
    std::vector<std::string> fields;
    size_t line = 0;
    std::string error;
    FeedRow row;
  };
  struct Chunk {
    std::vector<Parsed> rows;
    size_t filled = 0;
  };
  constexpr size_t kChunkRows = 2048, kChunks = 4;
  std::vector<std::unique_ptr<Chunk>> free_chunks;
  for (size_t i = 0; i < kChunks; ++i) {
    free_chunks.push_back(std::make_unique<Chunk>());
    free_chunks.back()->rows.resize(kChunkRows);
  }
  std::deque<std::unique_ptr<Chunk>> ready;
  std::mutex mu;
  std::condition_variable cv;
  bool read_all = false, stop = false;
  auto read_chunks = [&] {
    for (bool at_end = false; !at_end;) {
      std::unique_ptr<Chunk> chunk;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return stop || !free_chunks.empty(); });
        if (stop) return;
        chunk = std::move(free_chunks.back());
        free_chunks.pop_back();
      }
      chunk->filled = 0;
      while (chunk->filled < kChunkRows) {
        Parsed& p = chunk->rows[chunk->filled];
        p.error.clear();
        if (!reader.Next(&p.fields, &p.error)) {
          at_end = true;
          break;
        }
        p.line = reader.record_line();
        ++chunk->filled;
      }
      // Only as far as the source key: the applier parses the rest of a row unless it is
      // unchanged.
      for (size_t i = 0; i < chunk->filled; ++i) {
        Parsed& p = chunk->rows[i];
        p.row = FeedRow{};  // nothing of the row this slot held last
        if (!p.error.empty()) continue;
        Status s = parser->ParseKey(&p.fields, &p.row);
        if (!s.ok()) p.error = "line " + std::to_string(p.line) + ": " + s.message();
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        ready.push_back(std::move(chunk));
        read_all = at_end;
      }
      cv.notify_all();
    }
  };
  std::thread reader_thread(read_chunks);
  // Stops and joins the reader on every way out (the applier may stop part way).
  struct JoinReader {
    std::thread* thread;
    std::mutex* mu;
    std::condition_variable* cv;
    bool* stop;
    ~JoinReader() {
      {
        std::lock_guard<std::mutex> lock(*mu);
        *stop = true;
      }
      cv->notify_all();
      thread->join();
    }
  } join_reader{&reader_thread, &mu, &cv, &stop};

  std::unique_ptr<Chunk> current;
  size_t next = 0;
  FeedRowSource rows = [&](FeedRow* row, std::string* row_error) {
    while (current == nullptr || next == current->filled) {
      std::unique_lock<std::mutex> lock(mu);
      if (current != nullptr) {
        free_chunks.push_back(std::move(current));
        cv.notify_all();
      }
      cv.wait(lock, [&] { return !ready.empty() || read_all; });
      if (ready.empty()) return false;
      current = std::move(ready.front());
      ready.pop_front();
      next = 0;
    }
    Parsed& p = current->rows[next++];
    *row = std::move(p.row);
    row->line = p.line;
    if (!p.error.empty()) *row_error = std::move(p.error);
    return true;
  };
  return applier.ApplyBatch(source, batch, rows, report, result);
}

}  // namespace cp
