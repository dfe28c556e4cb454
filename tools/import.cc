#include "tools/import.h"

#include <algorithm>
#include <array>
#include <string_view>
#include <unordered_map>

#include "storage/bulk_loader.h"
#include "util/csv.h"
#include "util/identifiers.h"
#include "util/postcode.h"

namespace cp {

std::string_view TrimField(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

const std::vector<std::string> kImportColumns = {
    "source_key", "given_name", "middle_names", "family_name", "former_family_names",
    "date_of_birth", "gender", "address", "postcode", "nhs_number", "pupil_number",
    "parent_name", "parent_phone", "school", "gp_practice", "sexual_health", "mental_health",
    "substance_misuse"};

namespace {

enum Column {
  kSourceKey, kGiven, kMiddle, kFamily, kFormer, kDob, kGender, kAddress, kPostcode, kNhs,
  kUpn, kParentName, kParentPhone, kSchool, kGp, kSexualHealth, kMentalHealth, kSubstanceMisuse,
  kColumnCount
};
static_assert(kSexualHealth == kImportColumnsBeforeSensitive);

std::string Trim(std::string_view s) { return std::string(TrimField(s)); }

std::string JoinedColumns() {
  std::string out;
  for (const auto& c : kImportColumns) out += (out.empty() ? "" : ",") + c;
  return out;
}

std::vector<std::string> SplitFormerNames(const std::string& text) {
  std::vector<std::string> names;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(';', start);
    if (end == std::string::npos) end = text.size();
    std::string name = Trim(std::string_view(text).substr(start, end - start));
    if (!name.empty()) names.push_back(name);
    start = end + 1;
  }
  return names;
}

// Each column of a row trimmed, as views into the row (absent columns empty).
using ColumnViews = std::array<std::string_view, kColumnCount>;

ColumnViews TrimmedColumns(const std::vector<int>& column, const std::vector<std::string>& fields) {
  ColumnViews view;
  for (size_t col = 0; col < kColumnCount; ++col) {
    if (column[col] >= 0) view[col] = TrimField(fields[column[col]]);
  }
  return view;
}

// The payload line: the columns in one order, whatever the file's, so that a feed sending
// the same record again finds its fingerprint unchanged (tools/feed_csv.cc does the same).
// As CsvLine would join them (never a single empty field: there are at least 15).
void AppendPayload(const ColumnViews& view, std::string* out) {
  const bool sensitive = std::any_of(view.begin() + kSexualHealth, view.end(),
                                     [](std::string_view v) { return !v.empty(); });
  const size_t width = sensitive ? size_t{kColumnCount} : kImportColumnsBeforeSensitive;
  size_t bytes = width;
  for (size_t col = 0; col < width; ++col) bytes += view[col].size();
  out->reserve(out->size() + bytes + 16);  // room for a few quotes, and a feed's two columns
  for (size_t col = 0; col < width; ++col) {
    if (col > 0) out->push_back(',');
    AppendCsvField(view[col], out);
  }
}

}  // namespace

Result<ImportRowParser> ImportRowParser::Create(const std::vector<std::string>& header,
                                                std::string source,
                                                const std::vector<std::string>& passed_over) {
  ImportRowParser p;
  p.source_ = std::move(source);
  p.column_.assign(kColumnCount, -1);
  p.width_ = header.size();
  for (size_t i = 0; i < header.size(); ++i) {
    std::string name = Trim(header[i]);
    auto it = std::find(kImportColumns.begin(), kImportColumns.end(), name);
    if (it == kImportColumns.end() &&
        std::find(passed_over.begin(), passed_over.end(), name) != passed_over.end()) {
      continue;
    }
    if (it == kImportColumns.end()) {
      return Status::InvalidArgument("unknown column '" + name + "'; the columns are " + JoinedColumns());
    }
    int& slot = p.column_[it - kImportColumns.begin()];
    if (slot != -1) return Status::InvalidArgument("column '" + name + "' appears twice");
    slot = static_cast<int>(i);
  }
  if (p.column_[kSourceKey] == -1) return Status::InvalidArgument("the header has no source_key column");
  return p;
}

Result<NewChild> ImportRowParser::Parse(const std::vector<std::string>& fields) const {
  if (fields.size() != width_) {
    return Status::InvalidArgument("expected " + std::to_string(width_) + " fields, found " +
                                   std::to_string(fields.size()));
  }
  // Each column trimmed once, as a view into the row: parsing paces an import (it runs on
  // the thread that reads the file), and the fields are wanted twice, for the child and for
  // the payload line.
  const ColumnViews view = TrimmedColumns(column_, fields);
  auto get = [&](int column) { return std::string(view[column]); };
  NewChild c;
  c.source = {source_, get(kSourceKey)};
  if (c.source.key.empty()) return Status::InvalidArgument("source_key is empty");
  ChildRecord& r = c.record;
  r.given_name = get(kGiven);
  r.middle_names = get(kMiddle);
  r.family_name = get(kFamily);
  r.former_family_names = SplitFormerNames(get(kFormer));
  if (std::string dob = get(kDob); !dob.empty()) {
    // Row faults name the column and the fault, never the value: they reach operators'
    // terminals and logs, and a date of birth is personal data.
    auto d = ParseDate(dob);
    if (!d.ok()) return Status::InvalidArgument("date_of_birth: not a date in the form YYYY-MM-DD");
    r.date_of_birth = *d;
  }
  auto gender = ParseGender(get(kGender));
  if (!gender) return Status::InvalidArgument("gender: must be M, F or empty");
  r.gender = *gender;
  if (std::string nhs = get(kNhs); !nhs.empty()) {
    auto n = NormaliseNhsNumber(nhs);
    if (!n.ok()) return Status::InvalidArgument("nhs_number: " + n.status().message());
    r.nhs_number = *n;
  }
  if (std::string upn = get(kUpn); !upn.empty()) {
    auto u = NormaliseUpn(upn);
    if (!u.ok()) return Status::InvalidArgument("pupil_number: " + u.status().message());
    r.pupil_number = *u;
  }
  HiddenFields& h = c.hidden;
  h.address = get(kAddress);
  if (std::string pc = get(kPostcode); !pc.empty()) {
    auto p = NormalisePostcode(pc);
    if (!p.ok()) return Status::InvalidArgument("postcode: " + p.status().message());
    h.postcode = *p;
  }
  h.parent_name = get(kParentName);
  h.parent_phone = get(kParentPhone);
  if (std::string school = get(kSchool); !school.empty()) h.services.push_back({ServiceKind::kSchool, school, ""});
  if (std::string gp = get(kGp); !gp.empty()) h.services.push_back({ServiceKind::kGpPractice, gp, ""});
  for (auto [column, kind] : {std::pair{kSexualHealth, ServiceKind::kSexualHealth},
                              std::pair{kMentalHealth, ServiceKind::kMentalHealth},
                              std::pair{kSubstanceMisuse, ServiceKind::kSubstanceMisuse}}) {
    if (std::string name = get(column); !name.empty()) h.services.push_back({kind, name, ""});
  }
  r.provenance.reserve(kColumnCount - kGiven);
  for (size_t col = kGiven; col < kColumnCount; ++col) {
    if (!view[col].empty()) r.provenance.push_back({kImportColumns[col], source_});
  }
  AppendPayload(view, &c.source_payload);
  return c;
}

Status ImportRowParser::ParseKey(const std::vector<std::string>& fields, std::string* key,
                                 std::string* payload) const {
  if (fields.size() != width_) {
    return Status::InvalidArgument("expected " + std::to_string(width_) + " fields, found " +
                                   std::to_string(fields.size()));
  }
  const ColumnViews view = TrimmedColumns(column_, fields);
  if (view[kSourceKey].empty()) return Status::InvalidArgument("source_key is empty");
  key->assign(view[kSourceKey]);
  payload->clear();
  AppendPayload(view, payload);
  return Status::OK();
}

namespace {

// Rows parsed and not yet staged, with the line each began on.
struct PendingRows {
  std::vector<NewChild> children;
  std::vector<size_t> lines;
  void clear() {
    children.clear();
    lines.clear();
  }
};

// Stages a group of rows in the loader, moving them rather than copying; when the group
// is refused because a source key is already linked (nothing is moved then), falls back to
// one row at a time so that only those rows are rejected.
Status Flush(BulkLoader* loader, PendingRows* rows, ImportSummary* summary,
             const std::function<void(const std::string&)>& report) {
  if (rows->children.empty()) return Status::OK();
  auto ids = loader->AddMoving(rows->children);
  if (ids.ok()) {
    summary->imported += rows->children.size();
    rows->clear();
    return Status::OK();
  }
  if (ids.status().code() != Status::Code::kAlreadyExists) return ids.status();
  for (size_t i = 0; i < rows->children.size(); ++i) {
    NewChild& child = rows->children[i];
    const std::string key = child.source.key;
    auto one = loader->AddMoving(std::span<NewChild>(&child, 1));
    if (one.ok()) {
      ++summary->imported;
    } else if (one.status().code() == Status::Code::kAlreadyExists) {
      ++summary->rejected;
      report("line " + std::to_string(rows->lines[i]) + ": source_key '" + key +
             "' repeats an earlier row or an earlier import: " + one.status().message());
    } else {
      return one.status();
    }
  }
  rows->clear();
  return Status::OK();
}

}  // namespace

Status ImportCsv(ChildStore* store, const std::string& source, std::istream& in,
                 ImportSummary* summary, const std::function<void(const std::string&)>& report,
                 size_t chunk_children) {
  constexpr size_t kBatchRows = 2048;
  CsvReader reader(&in);
  std::vector<std::string> fields;
  std::string error;
  if (!reader.Next(&fields, &error)) return Status::InvalidArgument("the file is empty: no header row");
  if (!error.empty()) return Status::InvalidArgument("header: " + error);
  auto parser = ImportRowParser::Create(fields, source);
  if (!parser.ok()) return parser.status();
  BulkLoader::Options options;
  options.chunk_children = chunk_children;
  BulkLoader loader(store, options);
  // Rows count as imported when staged; should an ingest fail, the count is corrected to
  // what the loader ingested.
  auto finish = [&](Status s) {
    if (s.ok()) s = loader.Finish();
    if (!s.ok()) summary->imported = loader.stats().children;
    return s;
  };

  PendingRows pending;
  std::unordered_map<std::string, size_t> pending_keys;  // source key -> line, this batch
  while (true) {
    error.clear();
    if (!reader.Next(&fields, &error)) break;
    ++summary->rows;
    const size_t line = reader.record_line();
    if (!error.empty()) {
      ++summary->rejected;
      report(error);
      continue;
    }
    auto child = parser->Parse(fields);
    if (!child.ok()) {
      ++summary->rejected;
      report("line " + std::to_string(line) + ": " + child.status().message());
      continue;
    }
    auto [earlier, fresh] = pending_keys.try_emplace(child->source.key, line);
    if (!fresh) {
      ++summary->rejected;
      report("line " + std::to_string(line) + ": source_key '" + child->source.key +
             "' repeats line " + std::to_string(earlier->second));
      continue;
    }
    pending.children.push_back(std::move(*child));
    pending.lines.push_back(line);
    if (pending.children.size() == kBatchRows) {
      Status s = Flush(&loader, &pending, summary, report);
      if (!s.ok()) return finish(s);
      pending_keys.clear();
    }
  }
  return finish(Flush(&loader, &pending, summary, report));
}

Status ImportCsvFile(ChildStore* store, const std::string& source, const std::string& path,
                     ImportSummary* summary, const std::function<void(const std::string&)>& report,
                     size_t chunk_children, FileReadBuf::Mode read_mode, bool* used_io_uring,
                     std::string* fallback_reason) {
  FileReadBuf::Options options;
  options.mode = read_mode;
  auto buf = FileReadBuf::Open(path, options);
  if (!buf.ok()) return buf.status();
  if (used_io_uring) *used_io_uring = (*buf)->uses_io_uring();
  if (fallback_reason) *fallback_reason = (*buf)->fallback_reason();
  std::istream in(buf->get());
  Status s = ImportCsv(store, source, in, summary, report, chunk_children);
  // A read error ends the stream as end of file would: it must not pass for one, nor for
  // the fault it leads to (an "empty file", a last row cut short).
  if (!(*buf)->status().ok()) {
    return Status::IOError(path + ": " + (*buf)->status().message() + " (after " +
                           std::to_string(summary->rows) + " rows)");
  }
  return s;
}

}  // namespace cp
