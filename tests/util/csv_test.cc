#include "util/csv.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace cp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct Record {
  std::vector<std::string> fields;
  std::string error;
  size_t line = 0;
};

std::vector<Record> ReadAll(const std::string& text) {
  std::istringstream in(text);
  CsvReader reader(&in);
  std::vector<Record> records;
  Record r;
  while (reader.Next(&r.fields, &r.error)) {
    r.line = reader.record_line();
    records.push_back(r);
  }
  return records;
}

TEST(CsvReaderTest, LfRecords) {
  auto records = ReadAll("a,b,c\n1,2,3\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_THAT(records[0].fields, ElementsAre("a", "b", "c"));
  EXPECT_THAT(records[1].fields, ElementsAre("1", "2", "3"));
  EXPECT_EQ(records[0].line, 1u);
  EXPECT_EQ(records[1].line, 2u);
  EXPECT_THAT(records[0].error, IsEmpty());
  EXPECT_THAT(records[1].error, IsEmpty());
}

TEST(CsvReaderTest, CrlfAndMixedLineEnds) {
  auto records = ReadAll("a,b\r\n1,2\n3,4\r\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_THAT(records[0].fields, ElementsAre("a", "b"));
  EXPECT_THAT(records[1].fields, ElementsAre("1", "2"));
  EXPECT_THAT(records[2].fields, ElementsAre("3", "4"));
  EXPECT_EQ(records[2].line, 3u);
}

TEST(CsvReaderTest, NoFinalNewline) {
  auto records = ReadAll("a,b\nc,d");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_THAT(records[1].fields, ElementsAre("c", "d"));
  EXPECT_THAT(records[1].error, IsEmpty());

  records = ReadAll("\"quoted\"");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_THAT(records[0].fields, ElementsAre("quoted"));
  EXPECT_THAT(records[0].error, IsEmpty());
}

TEST(CsvReaderTest, QuotedCommasAndEscapedQuotes) {
  auto records = ReadAll("\"Smith, John\",\"he said \"\"hi\"\"\",\"\"\"\",x\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_THAT(records[0].fields, ElementsAre("Smith, John", "he said \"hi\"", "\"", "x"));
  EXPECT_THAT(records[0].error, IsEmpty());
}

TEST(CsvReaderTest, EmbeddedNewlinesAndNextRecordLine) {
  auto records = ReadAll("id,note\n1,\"line one\nline two\r\nline three\"\n2,x\n\"a\n\nb\",c\n3\n");
  ASSERT_EQ(records.size(), 5u);
  EXPECT_THAT(records[1].fields, ElementsAre("1", "line one\nline two\r\nline three"));
  EXPECT_EQ(records[1].line, 2u);
  EXPECT_THAT(records[2].fields, ElementsAre("2", "x"));
  EXPECT_EQ(records[2].line, 5u);
  // Blank lines inside quotes are data, not skipped.
  EXPECT_THAT(records[3].fields, ElementsAre("a\n\nb", "c"));
  EXPECT_EQ(records[3].line, 6u);
  EXPECT_EQ(records[4].line, 9u);
  for (const auto& r : records) EXPECT_THAT(r.error, IsEmpty());
}

TEST(CsvReaderTest, LeadingBomDropped) {
  auto records = ReadAll("\xEF\xBB\xBFname,age\n\xEF\xBB\xBFx,1\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_THAT(records[0].fields, ElementsAre("name", "age"));
  EXPECT_EQ(records[0].line, 1u);
  // Only at the start of the input.
  EXPECT_THAT(records[1].fields, ElementsAre("\xEF\xBB\xBFx", "1"));

  records = ReadAll("\xEF\xBB\xBF\"q,1\",2");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_THAT(records[0].fields, ElementsAre("q,1", "2"));

  EXPECT_TRUE(ReadAll("\xEF\xBB\xBF").empty());
  // A partial BOM is data.
  records = ReadAll("\xEF\xBB");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_THAT(records[0].fields, ElementsAre("\xEF\xBB"));
}

TEST(CsvReaderTest, EmptyFields) {
  auto records = ReadAll(",,\na,,b\n\"\",x\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_THAT(records[0].fields, ElementsAre("", "", ""));
  EXPECT_THAT(records[1].fields, ElementsAre("a", "", "b"));
  EXPECT_THAT(records[2].fields, ElementsAre("", "x"));
}

TEST(CsvReaderTest, TrailingEmptyField) {
  auto records = ReadAll("a,b,\nc,\"\"\r\nd,");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_THAT(records[0].fields, ElementsAre("a", "b", ""));
  EXPECT_THAT(records[1].fields, ElementsAre("c", ""));
  EXPECT_THAT(records[2].fields, ElementsAre("d", ""));
}

// A blank line (nothing before LF or CRLF) is not a record but still counts as a line.
TEST(CsvReaderTest, BlankLinesAreSkipped) {
  auto records = ReadAll("\n\r\na\n\n\nb\r\n\r\nc\n\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_THAT(records[0].fields, ElementsAre("a"));
  EXPECT_EQ(records[0].line, 3u);
  EXPECT_THAT(records[1].fields, ElementsAre("b"));
  EXPECT_EQ(records[1].line, 6u);
  EXPECT_THAT(records[2].fields, ElementsAre("c"));
  EXPECT_EQ(records[2].line, 8u);

  EXPECT_TRUE(ReadAll("\n\n\r\n").empty());
}

TEST(CsvReaderTest, WhitespaceOnlyLineAndEmptyQuotesAreRecords) {
  auto records = ReadAll(" \n\"\"\n\t\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_THAT(records[0].fields, ElementsAre(" "));
  EXPECT_THAT(records[1].fields, ElementsAre(""));
  EXPECT_THAT(records[2].fields, ElementsAre("\t"));
}

TEST(CsvReaderTest, LoneCrIsData) {
  auto records = ReadAll("a\rb,c\nd\r");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_THAT(records[0].fields, ElementsAre("a\rb", "c"));
  EXPECT_THAT(records[1].fields, ElementsAre("d\r"));
  EXPECT_EQ(records[1].line, 2u);
}

TEST(CsvReaderTest, EmptyInputLeavesFieldsUntouched) {
  std::istringstream in("");
  CsvReader reader(&in);
  std::vector<std::string> fields = {"keep"};
  std::string error = "keep";
  EXPECT_FALSE(reader.Next(&fields, &error));
  EXPECT_THAT(fields, ElementsAre("keep"));
  EXPECT_EQ(error, "keep");
  EXPECT_FALSE(reader.Next(&fields, &error));
}

TEST(CsvReaderTest, EndOfInputLeavesLastRecordUntouched) {
  std::istringstream in("a,b\n\n");
  CsvReader reader(&in);
  std::vector<std::string> fields;
  std::string error;
  ASSERT_TRUE(reader.Next(&fields, &error));
  EXPECT_FALSE(reader.Next(&fields, &error));
  EXPECT_THAT(fields, ElementsAre("a", "b"));
  EXPECT_EQ(reader.record_line(), 1u);
}

TEST(CsvReaderTest, UnterminatedQuoteAtEndOfInput) {
  auto records = ReadAll("ok,1\na,\"bc\nd,e\nf");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_THAT(records[0].error, IsEmpty());
  EXPECT_THAT(records[1].fields, ElementsAre("a", "bc\nd,e\nf"));
  EXPECT_EQ(records[1].line, 2u);
  // The line where the quote was opened, not where the input ran out.
  EXPECT_EQ(records[1].error, "line 2: quoted field is not closed before the end of the input");

  records = ReadAll("\"");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_THAT(records[0].fields, ElementsAre(""));
  EXPECT_THAT(records[0].error, HasSubstr("not closed"));
}

TEST(CsvReaderTest, QuoteInsideUnquotedField) {
  auto records = ReadAll("ab\"c,d\nx,y\n5\" tall,z\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].error, "line 1: quote inside an unquoted field");
  EXPECT_THAT(records[0].fields, ElementsAre("ab\"c", "d"));
  // Reading goes on at the next record, which is clean.
  EXPECT_THAT(records[1].fields, ElementsAre("x", "y"));
  EXPECT_THAT(records[1].error, IsEmpty());
  EXPECT_EQ(records[1].line, 2u);
  EXPECT_EQ(records[2].error, "line 3: quote inside an unquoted field");
  EXPECT_THAT(records[2].fields, ElementsAre("5\" tall", "z"));
}

TEST(CsvReaderTest, TextAfterClosingQuote) {
  auto records = ReadAll("\"ab\"c,d\nx\n\"p\"\"q\" ,r\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].error, "line 1: text after a closing quote");
  EXPECT_THAT(records[0].fields, ElementsAre("abc", "d"));
  EXPECT_THAT(records[1].fields, ElementsAre("x"));
  EXPECT_THAT(records[1].error, IsEmpty());
  EXPECT_EQ(records[2].error, "line 3: text after a closing quote");
  EXPECT_THAT(records[2].fields, ElementsAre("p\"q ", "r"));
}

TEST(CsvReaderTest, ErrorLineIsWhereTheErrorIsInAMultiLineRecord) {
  auto records = ReadAll("1\n\"a\nb\"x,\"y\"\"\"z\n2\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[1].line, 2u);
  // Only the first error of a record is reported.
  EXPECT_EQ(records[1].error, "line 3: text after a closing quote");
  EXPECT_THAT(records[1].fields, ElementsAre("a\nbx", "y\"z"));
  EXPECT_EQ(records[2].line, 4u);
  EXPECT_THAT(records[2].error, IsEmpty());
}

TEST(CsvReaderTest, LoneCrAfterClosingQuoteIsAnError) {
  auto records = ReadAll("\"a\"\rb\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].error, "line 1: text after a closing quote");
  EXPECT_THAT(records[0].fields, ElementsAre("a\rb"));
}

TEST(CsvReaderTest, NullErrorPointerAccepted) {
  std::istringstream in("a\"b\n");
  CsvReader reader(&in);
  std::vector<std::string> fields;
  ASSERT_TRUE(reader.Next(&fields, nullptr));
  EXPECT_THAT(fields, ElementsAre("a\"b"));
}

TEST(CsvReaderTest, FieldVectorIsResizedToTheRecord) {
  std::istringstream in("a,b,c,d\ne\nf,g\n");
  CsvReader reader(&in);
  std::vector<std::string> fields = {"old1", "old2", "old3", "old4", "old5", "old6"};
  std::string error = "stale";
  ASSERT_TRUE(reader.Next(&fields, &error));
  EXPECT_THAT(fields, ElementsAre("a", "b", "c", "d"));
  EXPECT_THAT(error, IsEmpty());
  ASSERT_TRUE(reader.Next(&fields, &error));
  EXPECT_THAT(fields, ElementsAre("e"));
  ASSERT_TRUE(reader.Next(&fields, &error));
  EXPECT_THAT(fields, ElementsAre("f", "g"));
}

TEST(CsvReaderTest, RecordsLargerThanOneChunk) {
  const size_t big = CsvReader::kChunkSize * 2 + 17;
  std::string plain(big, 'p');
  std::string quoted;
  for (size_t i = 0; quoted.size() < big; ++i) quoted += (i % 1000 == 999) ? '\n' : 'q';
  quoted += "\"";
  std::string quoted_csv;
  AppendCsvField(quoted, &quoted_csv);
  const size_t quoted_lines = static_cast<size_t>(std::count(quoted.begin(), quoted.end(), '\n'));

  auto records = ReadAll("h\n" + plain + ",x\r\n" + quoted_csv + ",y\nlast\n");
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[1].fields.size(), 2u);
  EXPECT_EQ(records[1].fields[0], plain);
  EXPECT_EQ(records[1].fields[1], "x");
  EXPECT_EQ(records[2].line, 3u);
  ASSERT_EQ(records[2].fields.size(), 2u);
  EXPECT_EQ(records[2].fields[0], quoted);
  EXPECT_EQ(records[2].fields[1], "y");
  EXPECT_EQ(records[3].line, 4u + quoted_lines);
  EXPECT_THAT(records[3].fields, ElementsAre("last"));
  for (const auto& r : records) EXPECT_THAT(r.error, IsEmpty());
}

// Two-byte sequences (CRLF, "" escapes, closing quote + CRLF, the BOM) placed across the
// point where the reader refills its buffer.
TEST(CsvReaderTest, SequencesSplitAcrossChunkBoundary) {
  const size_t chunk = CsvReader::kChunkSize;
  for (size_t shift = 0; shift < 6; ++shift) {
    const std::string pad(chunk - 3 + shift, 'x');
    {
      auto records = ReadAll(pad + "\r\nnext\r\n");
      ASSERT_EQ(records.size(), 2u) << shift;
      EXPECT_EQ(records[0].fields[0], pad);
      EXPECT_THAT(records[1].fields, ElementsAre("next"));
      EXPECT_EQ(records[1].line, 2u);
    }
    {
      auto records = ReadAll("\"" + pad + "\"\"\"\r\n\r\nnext");
      ASSERT_EQ(records.size(), 2u) << shift;
      EXPECT_EQ(records[0].fields[0], pad + "\"") << shift;
      EXPECT_THAT(records[0].error, IsEmpty());
      EXPECT_EQ(records[1].line, 3u);
    }
    {
      auto records = ReadAll(pad + "\n\r\n\r\n,\n");
      ASSERT_EQ(records.size(), 2u) << shift;
      EXPECT_THAT(records[1].fields, ElementsAre("", ""));
      EXPECT_EQ(records[1].line, 4u);
    }
  }
}

TEST(CsvReaderTest, StreamThatCannotBeReadIsEndOfInput) {
  std::ifstream missing("/nonexistent/dir/file.csv");
  CsvReader reader(&missing);
  std::vector<std::string> fields;
  std::string error;
  EXPECT_FALSE(reader.Next(&fields, &error));
  EXPECT_TRUE(fields.empty());
}

// A real file shipped with the engine: CRLF line ends, a header and 2691 data rows.
TEST(CsvReaderTest, ReadsShippedNicknamesFile) {
  std::ifstream in(std::string(CP_REPO_DATA_DIR) + "/nicknames/names.csv", std::ios::binary);
  ASSERT_TRUE(in.is_open());
  CsvReader reader(&in);
  std::vector<std::string> fields;
  std::string error;
  size_t records = 0;
  while (reader.Next(&fields, &error)) {
    ++records;
    ASSERT_THAT(error, IsEmpty());
    ASSERT_EQ(fields.size(), 3u) << "line " << reader.record_line();
    ASSERT_EQ(reader.record_line(), records);
    for (const auto& f : fields) ASSERT_EQ(f.find('\r'), std::string::npos);
  }
  EXPECT_EQ(records, 2692u);
}

// --- Writing --------------------------------------------------------------------------------

TEST(CsvWriteTest, QuotesOnlyWhenNeeded) {
  const struct {
    const char* field;
    const char* want;
  } cases[] = {
      {"plain", "plain"},
      {"", ""},
      {" spaced ", " spaced "},
      {"a,b", "\"a,b\""},
      {"say \"hi\"", "\"say \"\"hi\"\"\""},
      {"\"", "\"\"\"\""},
      {"two\nlines", "\"two\nlines\""},
      {"cr\r", "\"cr\r\""},
      {"Zo\xC3\xAB", "Zo\xC3\xAB"},
      {"\xEF\xBB\xBF"
       "bom",
       "\"\xEF\xBB\xBF"
       "bom\""},
  };
  for (const auto& c : cases) {
    std::string out = "prefix:";
    AppendCsvField(c.field, &out);
    EXPECT_EQ(out, std::string("prefix:") + c.want) << c.field;
  }
}

TEST(CsvWriteTest, CsvLine) {
  EXPECT_EQ(CsvLine({"a", "b,c", ""}), "a,\"b,c\",");
  EXPECT_EQ(CsvLine({"", ""}), ",");
  EXPECT_EQ(CsvLine({""}), "\"\"");
  EXPECT_EQ(CsvLine({}), "");
}

void ExpectRoundTrip(const std::vector<std::vector<std::string>>& rows, const char* eol) {
  std::string text;
  for (const auto& row : rows) text += CsvLine(row) + eol;
  auto records = ReadAll(text);
  ASSERT_EQ(records.size(), rows.size()) << text;
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(records[i].fields, rows[i]) << "row " << i;
    EXPECT_THAT(records[i].error, IsEmpty()) << "row " << i;
  }
}

TEST(CsvWriteTest, RoundTrip) {
  const std::vector<std::vector<std::string>> rows = {
      {"\xEF\xBB\xBF"
       "first",
       "x"},
      {"O'Brien, Zo\xC3\xAB", "said \"hello\"", ""},
      {""},
      {"", ""},
      {"multi\nline", "crlf\r\ninside", "lone\rcr"},
      {"\"", "\"\"", ",", "\n"},
      {" lead", "trail ", "\t"},
  };
  ExpectRoundTrip(rows, "\n");
  ExpectRoundTrip(rows, "\r\n");
}

TEST(CsvWriteTest, RandomRoundTrip) {
  std::mt19937 rng(20240611);
  const std::string alphabet = "ab ,\"\n\r\xC3\xAB";
  std::vector<std::vector<std::string>> rows;
  for (int r = 0; r < 2000; ++r) {
    std::vector<std::string> row(1 + rng() % 5);
    for (auto& field : row) {
      const size_t length = rng() % 8;
      for (size_t i = 0; i < length; ++i) field += alphabet[rng() % alphabet.size()];
    }
    rows.push_back(row);
  }
  ExpectRoundTrip(rows, "\n");
  ExpectRoundTrip(rows, "\r\n");
}

}  // namespace
}  // namespace cp
