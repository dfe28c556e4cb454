// FeedRowParser::ParseKey, then Complete, gives the row Parse gives: the applier parses an
// unchanged row only as far as its key and fingerprint line, and every other row in full.
#include <gtest/gtest.h>

#include "tools/feed_csv.h"
#include "util/csv.h"

namespace cp {
namespace {

std::string Encoded(const FeedRow& row) {
  return EncodeReviewPayload({row, MatchOutcome{}}) + (row.withdraw ? "|withdraw" : "|upsert");
}

std::vector<std::string> Fields(const std::string& line) {
  std::istringstream in(line);
  CsvReader reader(&in);
  std::vector<std::string> fields;
  std::string error;
  EXPECT_TRUE(reader.Next(&fields, &error));
  EXPECT_EQ(error, "");
  return fields;
}

TEST(FeedRowParserTest, ParseKeyThenCompleteGivesWhatParseGives) {
  // Columns in an order of their own, the feed's two among them, and a sensitive service.
  const auto header = Fields(
      "date_of_death,source_key,family_name,given_name,date_of_birth,gender,address,postcode,"
      "nhs_number,mental_health,action,former_family_names");
  auto parser = FeedRowParser::Create(header, "health");
  ASSERT_TRUE(parser.ok()) << parser.status().message();
  const std::vector<std::string> rows = {
      ",h1,Smith,Olivia,2016-03-02,F,1 High St,LS1 4AB,,,,",
      "  ,  h2 , O'Neil ,Jack,2015-07-09,M,\"2, Low Rd\",ls2 7ef,943 476 5919,,upsert,Brown;Green",
      "2024-01-02,h3,Okonkwo,Amelia,2017-01-20,F,\"3 \"\"Side\"\" St\",,,Hill Clinic,withdraw,",
      ",h4,Jones,,,,,,,,,",
      ",h5,Bad,Date,2016-13-40,F,,,,,,",  // a fault only the full parse finds
      ",h6,Bad,Action,2016-01-01,F,,,,,delete,",
  };
  for (const auto& line : rows) {
    SCOPED_TRACE(line);
    FeedRow whole;
    whole.record.ref.source = "health";
    Status parsed = parser->Parse(Fields(line), &whole);

    FeedRow lazy;
    lazy.record.ref.source = "health";
    std::vector<std::string> fields = Fields(line);
    ASSERT_TRUE(parser->ParseKey(&fields, &lazy).ok());
    EXPECT_EQ(lazy.completer, &*parser);
    if (parsed.ok()) {
      EXPECT_EQ(lazy.raw, whole.raw);
      EXPECT_EQ(lazy.record.ref.key, whole.record.ref.key);
      EXPECT_EQ(lazy.withdraw, whole.withdraw);
    }
    Status completed = lazy.completer->Complete(&lazy);
    EXPECT_EQ(completed.ok(), parsed.ok());
    EXPECT_EQ(completed.message(), parsed.message());
    EXPECT_EQ(lazy.completer, nullptr);
    EXPECT_TRUE(lazy.fields.empty());
    if (parsed.ok()) {
      EXPECT_EQ(Encoded(lazy), Encoded(whole));
    }
  }
}

TEST(FeedRowParserTest, ParseKeyRefusesWhatParseRefusesFirst) {
  auto parser = FeedRowParser::Create(Fields("source_key,given_name,action"), "health");
  ASSERT_TRUE(parser.ok());
  FeedRow row;
  std::vector<std::string> short_row = {"h1", "Olivia"};
  Status s = parser->ParseKey(&short_row, &row);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "expected 3 fields, found 2");
  std::vector<std::string> no_key = {"  ", "Olivia", ""};
  s = parser->ParseKey(&no_key, &row);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "source_key is empty");
}

}  // namespace
}  // namespace cp
