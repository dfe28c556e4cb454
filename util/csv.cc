#include "util/csv.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace cp {
namespace {

// Parsing works on buf_ directly: the istream is touched once per kChunkSize bytes, and the
// inner loops are a table look-up per byte (unquoted) or memchr (quoted).
//
// Error recovery: after the first error in a record the rest of it is read leniently (a
// stray quote is kept as data), so the reader stays in step with line ends and the next
// record starts where a person reading the file would expect. Only the first error of a
// record is reported.

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// Bytes that end a run of plain data in an unquoted field.
constexpr std::array<bool, 256> MakeUnquotedStops() {
  std::array<bool, 256> stops{};
  for (unsigned char c : {',', '\n', '\r', '"'}) stops[c] = true;
  return stops;
}
constexpr std::array<bool, 256> kUnquotedStops = MakeUnquotedStops();

// Sets *error to "line N: what" unless it already holds the record's first error.
void NoteError(size_t line, const char* what, std::string* error) {
  if (error == nullptr || !error->empty()) return;
  *error = "line " + std::to_string(line) + ": " + what;
}

}  // namespace

// *error may be null when the caller does not want messages. It is cleared when a record is
// returned. A stream that fails (badbit) looks like end of input; callers that must tell the
// two apart check in->bad() after Next() returns false.
bool CsvReader::Next(std::vector<std::string>* fields, std::string* error) {
  if (first_) {
    first_ = false;
    if (Fill(kUtf8Bom.size()) >= kUtf8Bom.size() &&
        std::string_view(buf_.data() + pos_, kUtf8Bom.size()) == kUtf8Bom) {
      pos_ += kUtf8Bom.size();
    }
  }
  if (!SkipBlankLines()) return false;
  record_line_ = line_;
  if (error != nullptr) error->clear();
  // Field strings are reused across records to keep their capacity.
  size_t count = 0;
  FieldEnd end = FieldEnd::kComma;
  while (end == FieldEnd::kComma) {
    if (count == fields->size()) {
      fields->emplace_back();
    } else {
      (*fields)[count].clear();
    }
    std::string* field = &(*fields)[count++];
    const bool quoted = Fill(1) > 0 && buf_[pos_] == '"';
    end = quoted ? ReadQuoted(field, error) : ReadUnquoted(field, error);
  }
  fields->resize(count);
  return true;
}

// Consumes LF and CRLF line ends that have nothing before them. False at end of input.
bool CsvReader::SkipBlankLines() {
  while (Fill(1) > 0) {
    if (buf_[pos_] == '\n') {
      pos_ += 1;
    } else if (buf_[pos_] == '\r' && Fill(2) >= 2 && buf_[pos_ + 1] == '\n') {
      pos_ += 2;
    } else {
      return true;
    }
    ++line_;
  }
  return false;
}

// Makes at least `want` (<= kChunkSize) unparsed bytes available unless the input ends first;
// returns how many there are. Unparsed bytes are moved to the front before reading more.
size_t CsvReader::Fill(size_t want) {
  while (end_ - pos_ < want && !eof_) {
    if (buf_.empty()) buf_.resize(kChunkSize);
    if (pos_ > 0) {
      std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
    }
    const size_t room = buf_.size() - end_;
    in_->read(buf_.data() + end_, static_cast<std::streamsize>(room));
    const size_t got = static_cast<size_t>(in_->gcount());
    end_ += got;
    // istream::read returns short only at end of input or on failure.
    if (got < room) eof_ = true;
  }
  return end_ - pos_;
}

CsvReader::FieldEnd CsvReader::ReadUnquoted(std::string* field, std::string* error) {
  for (;;) {
    if (Fill(1) == 0) return FieldEnd::kInput;
    const char* begin = buf_.data() + pos_;
    const char* limit = buf_.data() + end_;
    const char* stop = begin;
    while (stop < limit && !kUnquotedStops[static_cast<unsigned char>(*stop)]) ++stop;
    field->append(begin, stop);
    pos_ += static_cast<size_t>(stop - begin);
    if (stop == limit) continue;
    switch (buf_[pos_]) {
      case ',':
        pos_ += 1;
        return FieldEnd::kComma;
      case '\n':
        pos_ += 1;
        ++line_;
        return FieldEnd::kRecord;
      case '\r':
        if (Fill(2) >= 2 && buf_[pos_ + 1] == '\n') {
          pos_ += 2;
          ++line_;
          return FieldEnd::kRecord;
        }
        break;  // a lone CR is data
      default:  // '"'
        NoteError(line_, "quote inside an unquoted field", error);
        break;
    }
    field->push_back(buf_[pos_]);
    pos_ += 1;
  }
}

// Starts at the opening quote.
CsvReader::FieldEnd CsvReader::ReadQuoted(std::string* field, std::string* error) {
  const size_t open_line = line_;
  pos_ += 1;
  for (;;) {
    if (Fill(1) == 0) {
      NoteError(open_line, "quoted field is not closed before the end of the input", error);
      return FieldEnd::kInput;
    }
    const char* begin = buf_.data() + pos_;
    const char* limit = buf_.data() + end_;
    const char* quote = static_cast<const char*>(std::memchr(begin, '"', end_ - pos_));
    const char* stop = quote != nullptr ? quote : limit;
    line_ += static_cast<size_t>(std::count(begin, stop, '\n'));
    field->append(begin, stop);
    pos_ += static_cast<size_t>(stop - begin);
    if (quote == nullptr) continue;
    if (Fill(2) >= 2 && buf_[pos_ + 1] == '"') {  // "" is an escaped quote
      field->push_back('"');
      pos_ += 2;
      continue;
    }
    pos_ += 1;
    return AfterClosingQuote(field, error);
  }
}

// After a closing quote only a comma, a line end or the end of input may follow.
CsvReader::FieldEnd CsvReader::AfterClosingQuote(std::string* field, std::string* error) {
  if (Fill(1) == 0) return FieldEnd::kInput;
  switch (buf_[pos_]) {
    case ',':
      pos_ += 1;
      return FieldEnd::kComma;
    case '\n':
      pos_ += 1;
      ++line_;
      return FieldEnd::kRecord;
    case '\r':
      if (Fill(2) >= 2 && buf_[pos_ + 1] == '\n') {
        pos_ += 2;
        ++line_;
        return FieldEnd::kRecord;
      }
      break;
  }
  NoteError(line_, "text after a closing quote", error);
  return ReadUnquoted(field, error);
}

// Quotes a field holding a comma, quote, CR or LF, and one starting with a UTF-8 BOM (which
// the reader would otherwise drop if it began a file).
void AppendCsvField(std::string_view field, std::string* out) {
  // One pass with plain comparisons: find_first_of with a set calls memchr over the set
  // for every character, and every import and feed row's fingerprint line comes through
  // here (a fifth of an unchanged feed row's parsing).
  static constexpr auto kSpecial = [] {
    std::array<bool, 256> t{};
    for (unsigned char c : {',', '"', '\r', '\n'}) t[c] = true;
    return t;
  }();
  bool needs_quotes = field.starts_with(kUtf8Bom);
  for (char c : field) needs_quotes |= kSpecial[static_cast<unsigned char>(c)];
  if (!needs_quotes) {
    out->append(field);
    return;
  }
  out->push_back('"');
  for (char c : field) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

// A single empty field is written `""`: an empty line would read back as a blank line, which
// is not a record. Zero fields give "" and do not round-trip.
std::string CsvLine(const std::vector<std::string>& fields) {
  if (fields.size() == 1 && fields[0].empty()) return "\"\"";
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendCsvField(fields[i], &out);
  }
  return out;
}

}  // namespace cp
