// RFC 4180 CSV reading and writing.
//
// CsvReader reads records from a stream: fields separated by commas, records by CRLF or
// LF, fields optionally double-quoted with "" as an escaped quote, quoted fields may hold
// commas and line breaks. Bytes are passed through unchanged (UTF-8 in, UTF-8 out); a
// leading UTF-8 byte-order mark on the first line is dropped.
//
// A blank line (nothing before its LF or CRLF) outside quotes is not a record: it is
// skipped, though it still counts for line numbers. A record of one empty field is written
// `""` (CsvLine does this). A CR not followed by LF is an ordinary data byte.
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

  // Bytes read from the stream at a time; records may be longer than this.
  static constexpr size_t kChunkSize = 128 * 1024;

 private:
  // How a field ended.
  enum class FieldEnd { kComma, kRecord, kInput };

  bool SkipBlankLines();
  size_t Fill(size_t want);
  FieldEnd ReadUnquoted(std::string* field, std::string* error);
  FieldEnd ReadQuoted(std::string* field, std::string* error);
  FieldEnd AfterClosingQuote(std::string* field, std::string* error);

  std::istream* in_;
  size_t line_ = 1;
  size_t record_line_ = 0;
  bool first_ = true;
  // Bytes buf_[pos_, end_) are read from in_ but not yet parsed.
  std::string buf_;
  size_t pos_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
};

// Appends one field to *out, quoted only when it needs to be.
void AppendCsvField(std::string_view field, std::string* out);
// Joins fields into one CSV line without the line ending.
std::string CsvLine(const std::vector<std::string>& fields);

}  // namespace cp
