// RFC 4180 CSV reading and writing.
//
// CsvReader reads records from a stream: fields separated by commas, records by CRLF or
// LF, fields optionally double-quoted with "" as an escaped quote, quoted fields may hold
// commas and line breaks. Bytes are passed through unchanged (UTF-8 in, UTF-8 out); a
// leading UTF-8 byte-order mark on the first line is dropped.
//
// Thread safety: a CsvReader is used by one thread at a time.
#pragma once

#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace cp {

class CsvReader {
 public:
  explicit CsvReader(std::istream* in) : in_(in) {}
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Reads the next record into *fields. Returns true with the record, false at end of
  // input (fields untouched). A malformed record (a quote inside an unquoted field, text
  // after a closing quote, end of input inside quotes) sets *error to a message with
  // its line number, returns true and leaves *fields holding what was read; reading goes
  // on at the next record.
  bool Next(std::vector<std::string>* fields, std::string* error);

  // 1-based line number where the record last returned by Next() began.
  size_t record_line() const { return record_line_; }

 private:
  std::istream* in_;
  size_t line_ = 1;
  size_t record_line_ = 0;
  bool first_ = true;
};

// Appends one field to *out, quoted only when it needs to be.
void AppendCsvField(std::string_view field, std::string* out);
// Joins fields into one CSV line without the line ending.
std::string CsvLine(const std::vector<std::string>& fields);

}  // namespace cp
