// CSV import of children (`contactpoint import`).
//
// The header row names the columns; source_key is the only mandatory column and value.
// Unknown or repeated column names refuse the whole file before any row is read. Each
// row is validated and applied atomically; a bad row is reported with its line number
// and the reason, and the import goes on.
#pragma once

#include <functional>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "storage/child_store.h"
#include "util/file_reader.h"

namespace cp {

// The import columns: the first kImportColumnsBeforeSensitive in the order `contactpoint
// gen` writes them, then the sensitive services (sexual_health, mental_health, substance_misuse: each a service's name), which
// storage shows only where the child's consent is recorded (`contactpoint consent`).
extern const std::vector<std::string> kImportColumns;
// The columns before the sensitive services. A row's fingerprint line lists only these when
// it names no sensitive service, so that lines stored before those columns existed match.
inline constexpr size_t kImportColumnsBeforeSensitive = 15;

// A field without its leading and trailing blanks (spaces, tabs, CR, LF), as the import
// and feed parsers read every field and header name.
std::string_view TrimField(std::string_view s);

struct ImportSummary {
  size_t rows = 0;
  size_t imported = 0;
  size_t rejected = 0;
};

// Turns rows of one file into children. Built from the header row, which it checks:
// known columns, no repeats, source_key present.
class ImportRowParser {
 public:
  // `passed_over`: other columns the caller reads itself (a feed's action and
  // date_of_death): accepted in the header and left out of the child and its payload.
  static Result<ImportRowParser> Create(const std::vector<std::string>& header, std::string source,
                                        const std::vector<std::string>& passed_over = {});

  // The child a row describes, or InvalidArgument naming the column and the fault.
  Result<NewChild> Parse(const std::vector<std::string>& fields) const;
  // Only what Parse gives as source.key and source_payload: all that tells a record sent
  // again unchanged. InvalidArgument, as Parse, for the wrong number of fields or an empty
  // source_key; every other column is left unchecked.
  Status ParseKey(const std::vector<std::string>& fields, std::string* key,
                  std::string* payload) const;

 private:
  ImportRowParser() = default;
  std::string source_;
  std::vector<int> column_;  // index in the row of each kImportColumns entry, or -1
  size_t width_ = 0;
};

// Reads the CSV and inserts every good row through a BulkLoader (storage/bulk_loader.h):
// rows are staged and ingested as sorted SST files, `chunk_children` at a time, each chunk
// atomically; they are visible once their chunk is ingested, and all of them when
// ImportCsv returns OK. `report` receives one message per rejected row ("line 7:
// date_of_birth: ..."). A non-OK status means the file itself was refused (bad header) or
// storage failed; the summary then counts the rows actually ingested.
Status ImportCsv(ChildStore* store, const std::string& source, std::istream& in,
                 ImportSummary* summary, const std::function<void(const std::string&)>& report,
                 size_t chunk_children = 250000);

// ImportCsv of the file at `path`, read through FileReadBuf (util/file_reader.h): io_uring
// read-ahead where the kernel allows it, else read(2), as `read_mode` says. IOError when
// the file cannot be opened or a read fails part way (the rows before it may have been
// imported: the summary says how many); NotSupported when kIoUring was required and
// refused. `*used_io_uring`, when given, says which way the file was read, and
// `*fallback_reason` why not with io_uring.
Status ImportCsvFile(ChildStore* store, const std::string& source, const std::string& path,
                     ImportSummary* summary, const std::function<void(const std::string&)>& report,
                     size_t chunk_children = 250000,
                     FileReadBuf::Mode read_mode = FileReadBuf::Mode::kAuto,
                     bool* used_io_uring = nullptr, std::string* fallback_reason = nullptr);

}  // namespace cp
