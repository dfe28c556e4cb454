#include "tools/import.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "index/index_policy.h"
#include "storage/child_store.h"
#include "util/identifiers.h"

namespace cp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::StartsWith;

// A valid NHS number from nine leading digits that have a check digit. (No EXPECTs here:
// these run while parameterised tests are registered, outside any test.)
std::string Nhs(const std::string& nine) { return nine + std::to_string(NhsCheckDigit(nine)); }

// A valid UPN from its last twelve characters.
std::string Upn(const std::string& twelve) {
  return std::string(1, UpnCheckLetter(twelve)) + twelve;
}

// An NHS number whose check digit is wrong.
std::string NhsWithWrongCheckDigit(const std::string& nine) {
  std::string good = Nhs(nine);
  good.back() = good.back() == '9' ? '0' : static_cast<char>(good.back() + 1);
  return good;
}

// The columns most tests use (a subset, in a different order from kImportColumns).
constexpr char kImportHeader[] =
    "source_key,given_name,family_name,date_of_birth,gender,postcode,nhs_number,pupil_number\n";

struct ImportRun {
  Status status;
  ImportSummary summary;
  std::vector<std::string> reports;
};

class ImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cp-import-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ChildStore::Options options;
    options.db_dir = dir_ + "/db";
    options.key_file = dir_ + "/db.key";  // outside the database directory
    options.create = true;
    options.policy = &NameIndexPolicy::Instance();
    auto store = ChildStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }

  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  ImportRun Import(const std::string& csv, const std::string& source = "births") {
    ImportRun run;
    std::istringstream in(csv);
    run.status = ImportCsv(store_.get(), source, in, &run.summary,
                           [&](const std::string& msg) { run.reports.push_back(msg); });
    return run;
  }

  uint64_t Count() const {
    auto n = store_->CountChildren();
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : 0;
  }

  // The child a source key was imported as, with its hidden fields.
  ChildView Child(const std::string& key, const std::string& source = "births") const {
    auto link = store_->FindSource(source, key);
    EXPECT_TRUE(link.ok()) << key << ": " << link.status().ToString();
    if (!link.ok()) return {};
    auto view = store_->Get(link->child, Clearance::Ordinary());
    EXPECT_TRUE(view.ok()) << view.status().ToString();
    return view.ok() ? *view : ChildView{};
  }

  bool Linked(const std::string& key, const std::string& source = "births") const {
    return store_->FindSource(source, key).ok();
  }

  std::string dir_;
  std::unique_ptr<ChildStore> store_;
};

// ---- Rows refused one at a time, the rest imported -------------------------------------

struct BadRowCase {
  const char* name;
  std::string row;                   // the bad row (line 3), without its line end
  std::vector<std::string> reasons;  // fragments the report must hold
};

// Named in test listings by its case name rather than as a byte dump.
void PrintTo(const BadRowCase& c, std::ostream* os) { *os << c.name; }

class ImportBadRowTest : public ImportTest, public ::testing::WithParamInterface<BadRowCase> {};

TEST_P(ImportBadRowTest, ReportsLineAndColumnAndImportsTheRowsAroundIt) {
  const BadRowCase& c = GetParam();
  const std::string csv = std::string(kImportHeader) +
                          "good-1,Amelia,Thornbury,2016-03-14,F,LS1 4AP,,\n" +  // line 2
                          c.row + "\n" +                                        // line 3
                          "good-2,Oliver,Pickering,2015-11-02,M,,,\n";          // line 4
  ImportRun run = Import(csv);
  ASSERT_TRUE(run.status.ok()) << run.status.ToString();
  EXPECT_EQ(run.summary.rows, 3u);
  EXPECT_EQ(run.summary.imported, 2u);
  EXPECT_EQ(run.summary.rejected, 1u);
  ASSERT_THAT(run.reports, SizeIs(1));
  EXPECT_THAT(run.reports[0], StartsWith("line 3: "));
  for (const auto& reason : c.reasons) EXPECT_THAT(run.reports[0], HasSubstr(reason));

  EXPECT_EQ(Count(), 2u);
  EXPECT_EQ(Child("good-1").record.given_name, "Amelia");
  EXPECT_EQ(Child("good-1").hidden->postcode, "LS1 4AP");
  EXPECT_EQ(Child("good-2").record.family_name, "Pickering");
  EXPECT_FALSE(Linked("bad"));
}

INSTANTIATE_TEST_SUITE_P(
    EveryRowFault, ImportBadRowTest,
    ::testing::Values(
        BadRowCase{"EmptySourceKey", ",Amy,Jones,2019-01-01,F,,,", {"source_key"}},
        BadRowCase{"BlankSourceKey", "   ,Amy,Jones,2019-01-01,F,,,", {"source_key"}},
        BadRowCase{"TooFewFields", "bad,Amy,Jones", {"expected 8 fields", "found 3"}},
        BadRowCase{"TooManyFields",
                   "bad,Amy,Jones,2019-01-01,F,,,,extra",
                   {"expected 8 fields", "found 9"}},
        BadRowCase{"DateThatDoesNotExist",
                   "bad,Amy,Jones,2019-02-30,F,,,",
                   {"date_of_birth", "not a date"}},
        BadRowCase{"DateWithoutLeadingZeros",
                   "bad,Amy,Jones,2019-2-1,F,,,",
                   {"date_of_birth", "not a date"}},
        BadRowCase{"DateInAnotherFormat", "bad,Amy,Jones,01/02/2019,F,,,", {"date_of_birth"}},
        BadRowCase{"UnknownGender", "bad,Amy,Jones,2019-01-01,X,,,", {"gender", "must be M, F or empty"}},
        BadRowCase{"LowerCaseWordGender", "bad,Amy,Jones,2019-01-01,female,,,", {"gender"}},
        BadRowCase{"NhsNumberWithWrongCheckDigit",
                   "bad,Amy,Jones,2019-01-01,F,," + NhsWithWrongCheckDigit("943476591") + ",",
                   {"nhs_number", "check digit"}},
        BadRowCase{"NhsNumberTooShort", "bad,Amy,Jones,2019-01-01,F,,12345,", {"nhs_number"}},
        BadRowCase{"UpnWithWrongCheckLetter",
                   [] {
                     std::string upn = Upn("201123456789");
                     upn[0] = upn[0] == 'A' ? 'B' : 'A';
                     return "bad,Amy,Jones,2019-01-01,F,,," + upn;
                   }(),
                   {"pupil_number", "check letter"}},
        BadRowCase{"UpnTooShort", "bad,Amy,Jones,2019-01-01,F,,,A12345", {"pupil_number"}},
        BadRowCase{"NotAPostcode", "bad,Amy,Jones,2019-01-01,F,NOT A POSTCODE,,", {"postcode"}},
        BadRowCase{"QuoteInsideUnquotedField", "bad,Am\"y,Jones,2019-01-01,F,,,", {"quote"}}),
    [](const ::testing::TestParamInfo<BadRowCase>& info) { return info.param.name; });

// ---- The file refused as a whole -----------------------------------------------------

TEST_F(ImportTest, UnknownColumnRefusesTheFileAndNamesTheColumn) {
  ImportRun run = Import("source_key,given_name,favourite_colour\ng1,Amy,blue\n");
  EXPECT_TRUE(run.status.IsInvalidArgument()) << run.status.ToString();
  EXPECT_THAT(run.status.message(), HasSubstr("favourite_colour"));
  EXPECT_EQ(run.summary.rows, 0u);
  EXPECT_EQ(run.summary.imported, 0u);
  EXPECT_EQ(Count(), 0u);
}

TEST_F(ImportTest, RepeatedColumnRefusesTheFileAndNamesTheColumn) {
  ImportRun run = Import("source_key,family_name,given_name,family_name\ng1,A,B,C\n");
  EXPECT_TRUE(run.status.IsInvalidArgument()) << run.status.ToString();
  EXPECT_THAT(run.status.message(), HasSubstr("family_name"));
  EXPECT_THAT(run.status.message(), HasSubstr("twice"));
  EXPECT_EQ(run.summary.imported, 0u);
  EXPECT_EQ(Count(), 0u);
}

TEST_F(ImportTest, HeaderWithoutSourceKeyRefusesTheFile) {
  ImportRun run = Import("given_name,family_name\nAmy,Jones\n");
  EXPECT_TRUE(run.status.IsInvalidArgument()) << run.status.ToString();
  EXPECT_THAT(run.status.message(), HasSubstr("source_key"));
  EXPECT_EQ(Count(), 0u);
}

TEST_F(ImportTest, EmptyFileIsRefused) {
  ImportRun run = Import("");
  EXPECT_TRUE(run.status.IsInvalidArgument()) << run.status.ToString();
  EXPECT_THAT(run.status.message(), HasSubstr("empty"));
  EXPECT_EQ(run.summary.rows, 0u);
  EXPECT_EQ(Count(), 0u);
}

TEST_F(ImportTest, FileOfBlankLinesIsRefusedAsEmpty) {
  ImportRun run = Import("\n\r\n\n");
  EXPECT_TRUE(run.status.IsInvalidArgument()) << run.status.ToString();
  EXPECT_EQ(Count(), 0u);
}

TEST_F(ImportTest, HeaderOnlyIsAnEmptyImport) {
  ImportRun run = Import(kImportHeader);
  EXPECT_TRUE(run.status.ok()) << run.status.ToString();
  EXPECT_EQ(run.summary.rows, 0u);
  EXPECT_EQ(run.summary.imported, 0u);
  EXPECT_EQ(run.summary.rejected, 0u);
  EXPECT_THAT(run.reports, IsEmpty());
}

TEST_F(ImportTest, HeaderNamesAreTrimmedAndABomIsDropped) {
  ImportRun run = Import("\xEF\xBB\xBF source_key , given_name\r\ng1,Amy\r\n");
  ASSERT_TRUE(run.status.ok()) << run.status.ToString();
  EXPECT_EQ(run.summary.imported, 1u);
  EXPECT_EQ(Child("g1").record.given_name, "Amy");
}

// ---- CSV errors ----------------------------------------------------------------------

TEST_F(ImportTest, UnterminatedQuoteIsReportedWithItsLineAndEarlierRowsStay) {
  ImportRun run = Import(std::string(kImportHeader) +
                         "g1,Amy,Jones,2019-01-01,F,,,\n"    // line 2
                         "g2,Ben,Jones,2019-01-01,M,,,\n"    // line 3
                         "g3,\"Cal,Jones,2019-01-01,M,,,\n"  // line 4: quote never closed
                         "g4,Dee,Jones,2019-01-01,F,,,\n");  // swallowed by the open quote
  ASSERT_TRUE(run.status.ok()) << run.status.ToString();
  EXPECT_EQ(run.summary.rows, 3u);
  EXPECT_EQ(run.summary.imported, 2u);
  EXPECT_EQ(run.summary.rejected, 1u);
  ASSERT_THAT(run.reports, SizeIs(1));
  EXPECT_THAT(run.reports[0], StartsWith("line 4: "));
  EXPECT_THAT(run.reports[0], HasSubstr("quote"));
  EXPECT_EQ(Count(), 2u);
  EXPECT_TRUE(Linked("g1"));
  EXPECT_TRUE(Linked("g2"));
  EXPECT_FALSE(Linked("g3"));
}

TEST_F(ImportTest, LineNumbersCountBlankLinesAndLineBreaksInsideQuotes) {
  ImportRun run = Import(
      "source_key,given_name,address,date_of_birth\n"  // line 1
      "\n"                                             // line 2, blank
      "g1,Amy,\"Flat 2\nMill House\n\",2019-01-01\n"   // lines 3-5
      "g2,Ben,,2019-13-01\n"                           // line 6: bad
      "\r\n"                                           // line 7, blank
      "g3,Cal,,2019-1-1\n");                           // line 8: bad
  ASSERT_TRUE(run.status.ok()) << run.status.ToString();
  EXPECT_EQ(run.summary.rows, 3u);
  EXPECT_EQ(run.summary.imported, 1u);
  EXPECT_EQ(run.summary.rejected, 2u);
  ASSERT_THAT(run.reports, SizeIs(2));
  EXPECT_THAT(run.reports[0], StartsWith("line 6: date_of_birth"));
  EXPECT_THAT(run.reports[1], StartsWith("line 8: date_of_birth"));
  EXPECT_EQ(Child("g1").hidden->address, "Flat 2\nMill House");
}

// ---- Duplicate source keys ---------------------------------------------------------------

TEST_F(ImportTest, DuplicateSourceKeyInTheFileRejectsTheSecondRow) {
  ImportRun run = Import(std::string(kImportHeader) +
                         "k1,First,Jones,2019-01-01,F,,,\n"   // line 2
                         "k2,Ben,Jones,2019-01-01,M,,,\n"     // line 3
                         "k1,Second,Jones,2019-01-01,F,,,\n"  // line 4: repeats k1
                         "k4,Dee,Jones,2019-01-01,F,,,\n");   // line 5
  ASSERT_TRUE(run.status.ok()) << run.status.ToString();
  EXPECT_EQ(run.summary.rows, 4u);
  EXPECT_EQ(run.summary.imported, 3u);
  EXPECT_EQ(run.summary.rejected, 1u);
  ASSERT_THAT(run.reports, SizeIs(1));
  EXPECT_THAT(run.reports[0], StartsWith("line 4: "));
  EXPECT_THAT(run.reports[0], HasSubstr("key 'k1'"));
  EXPECT_EQ(Count(), 3u);
  EXPECT_EQ(Child("k1").record.given_name, "First");
  EXPECT_TRUE(Linked("k2"));
  EXPECT_TRUE(Linked("k4"));
}

// Every other row fault names its column ("date_of_birth: ...", "postcode: ..."); a key that
// repeats within the file should too, and should not read as if it had been imported before.
TEST_F(ImportTest, DuplicateSourceKeyReasonNamesTheColumnAndTheEarlierLine) {
  ImportRun run = Import(std::string(kImportHeader) +
                         "k1,First,Jones,2019-01-01,F,,,\n"     // line 2
                         "k1,Second,Jones,2019-01-01,F,,,\n");  // line 3
  ASSERT_THAT(run.reports, SizeIs(1));
  EXPECT_THAT(run.reports[0], StartsWith("line 3: source_key"));
  EXPECT_THAT(run.reports[0], HasSubstr("line 2"));
}

TEST_F(ImportTest, ReimportOfAnImportedKeyIsRejectedAndLeavesTheChildAlone) {
  ImportRun first = Import(std::string(kImportHeader) + "k1,Original,Jones,2019-01-01,F,,,\n");
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  ASSERT_EQ(first.summary.imported, 1u);
  const ChildId original = Child("k1").record.id;

  ImportRun second = Import(std::string(kImportHeader) +
                            "k0,Ann,Jones,2019-01-01,F,,,\n"          // line 2
                            "k1,Replacement,Jones,2019-01-01,F,,,\n"  // line 3
                            "k2,Bea,Jones,2019-01-01,F,,,\n");        // line 4
  ASSERT_TRUE(second.status.ok()) << second.status.ToString();
  EXPECT_EQ(second.summary.rows, 3u);
  EXPECT_EQ(second.summary.imported, 2u);
  EXPECT_EQ(second.summary.rejected, 1u);
  ASSERT_THAT(second.reports, SizeIs(1));
  EXPECT_THAT(second.reports[0], StartsWith("line 3: "));
  EXPECT_THAT(second.reports[0], HasSubstr("k1"));
  EXPECT_THAT(second.reports[0], HasSubstr("already"));
  EXPECT_EQ(Count(), 3u);
  ChildView k1 = Child("k1");
  EXPECT_EQ(k1.record.id, original);
  EXPECT_EQ(k1.record.given_name, "Original");
}

TEST_F(ImportTest, SameKeyFromAnotherSourceIsADifferentChild) {
  ASSERT_TRUE(Import(std::string(kImportHeader) + "k1,Amy,Jones,,,,,\n", "births").status.ok());
  ImportRun run = Import(std::string(kImportHeader) + "k1,Amy,Jones,,,,,\n", "la_leeds");
  ASSERT_TRUE(run.status.ok());
  EXPECT_EQ(run.summary.imported, 1u);
  EXPECT_EQ(Count(), 2u);
}

TEST_F(ImportTest, MoreRowsThanOneBatchWithDuplicatesInAndAcrossBatches) {
  // 1100 rows (batches of 512): row 200 repeats row 50's key (same batch) and row 700
  // repeats row 300's (an earlier batch). Row n is on line n + 1.
  constexpr int kRows = 1100;
  auto key = [](int n) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "r%04d", n);
    return std::string(buf);
  };
  std::string csv = "source_key,given_name,family_name,date_of_birth\n";
  for (int n = 1; n <= kRows; ++n) {
    int k = n == 200 ? 50 : n == 700 ? 300 : n;
    csv += key(k) + ",Given" + std::to_string(n) + ",Family,2012-05-06\n";
  }
  ImportRun run = Import(csv);
  ASSERT_TRUE(run.status.ok()) << run.status.ToString();
  EXPECT_EQ(run.summary.rows, 1100u);
  EXPECT_EQ(run.summary.imported, 1098u);
  EXPECT_EQ(run.summary.rejected, 2u);
  ASSERT_THAT(run.reports, SizeIs(2));
  EXPECT_THAT(run.reports[0], StartsWith("line 201: "));
  EXPECT_THAT(run.reports[0], HasSubstr("r0050"));
  EXPECT_THAT(run.reports[1], StartsWith("line 701: "));
  EXPECT_THAT(run.reports[1], HasSubstr("r0300"));
  EXPECT_EQ(Count(), 1098u);
  EXPECT_EQ(Child("r0050").record.given_name, "Given50");
  EXPECT_EQ(Child("r0300").record.given_name, "Given300");
  EXPECT_EQ(Child("r0001").record.given_name, "Given1");
  EXPECT_EQ(Child("r0512").record.given_name, "Given512");
  EXPECT_EQ(Child("r0513").record.given_name, "Given513");
  EXPECT_EQ(Child("r1100").record.given_name, "Given1100");
  EXPECT_FALSE(Linked("r0200"));
  EXPECT_FALSE(Linked("r0700"));
}

TEST_F(ImportTest, SummaryCountsEveryKindOfRowExactly) {
  ImportRun run = Import(std::string(kImportHeader) +
                         "a1,Amy,Jones,2019-01-01,F,,,\n"  // 2 ok
                         "a2,Ben,Jones,2019-02-30,M,,,\n"  // 3 bad date
                         "a3,Cal,Jones,2019-01-01,Q,,,\n"  // 4 bad gender
                         "a4,Dee,Jones,2019-01-01,F,,,\n"  // 5 ok
                         "a1,Eve,Jones,2019-01-01,F,,,\n"  // 6 duplicate
                         ",Fay,Jones,2019-01-01,F,,,\n"    // 7 no key
                         "a7,Gus,Jones\n"                  // 8 short
                         "a8,Hal,Jones,2019-01-01,M,,,\n"  // 9 ok
                         "a9,Ivy,Jones,,,,,\n"             // 10 ok
                         "a10,Jo,Jones,,,ZZ,,\n");         // 11 bad postcode
  ASSERT_TRUE(run.status.ok()) << run.status.ToString();
  EXPECT_EQ(run.summary.rows, 10u);
  EXPECT_EQ(run.summary.imported, 4u);
  EXPECT_EQ(run.summary.rejected, 6u);
  EXPECT_EQ(run.summary.imported + run.summary.rejected, run.summary.rows);
  std::vector<std::string> lines;
  for (const auto& r : run.reports) lines.push_back(r.substr(0, r.find(':')));
  // Parse faults are reported as they are read; duplicates when the batch is written.
  std::sort(lines.begin(), lines.end(), [](const std::string& a, const std::string& b) {
    return std::stoi(a.substr(5)) < std::stoi(b.substr(5));
  });
  EXPECT_THAT(lines, ElementsAre("line 3", "line 4", "line 6", "line 7", "line 8", "line 11"));
  EXPECT_EQ(Count(), 4u);
}

// ---- What a good row becomes -----------------------------------------------------------

TEST_F(ImportTest, QuotedFieldsKeepCommasLineBreaksAndQuotes) {
  ImportRun run = Import(
      "source_key,given_name,family_name,address,parent_name,school\n"
      "q1,Amy,\"O'Neill, Jr\",\"Flat 3, \"\"The Old Mill\"\"\nMill Lane, Leeds\","
      "\"Sam \"\"Sammy\"\" O'Neill\",\"St Mary's, Headingley\"\r\n"
      "q2,\"Ben\",\"\",\"\",,\"\"\n");
  ASSERT_TRUE(run.status.ok()) << run.status.ToString();
  EXPECT_EQ(run.summary.imported, 2u);
  EXPECT_THAT(run.reports, IsEmpty());
  ChildView q1 = Child("q1");
  EXPECT_EQ(q1.record.family_name, "O'Neill, Jr");
  ASSERT_TRUE(q1.hidden.has_value());
  EXPECT_EQ(q1.hidden->address, "Flat 3, \"The Old Mill\"\nMill Lane, Leeds");
  EXPECT_EQ(q1.hidden->parent_name, "Sam \"Sammy\" O'Neill");
  ASSERT_THAT(q1.hidden->services, SizeIs(1));
  EXPECT_EQ(q1.hidden->services[0].kind, ServiceKind::kSchool);
  EXPECT_EQ(q1.hidden->services[0].name, "St Mary's, Headingley");
  ChildView q2 = Child("q2");
  EXPECT_EQ(q2.record.given_name, "Ben");
  EXPECT_EQ(q2.record.family_name, "");
  EXPECT_TRUE(q2.hidden->services.empty());
}

TEST_F(ImportTest, Utf8NamesRoundTrip) {
  ImportRun run = Import(
      "source_key,given_name,middle_names,family_name,former_family_names,parent_name\n"
      "u1,Zoë,Anaïs,Brontë,Müller,Renée Brontë\n"
      "u2,Łukasz,Żaneta Ósmy,Wiśniewski,Dąbrowski;Nowak,Ścibor\n");
  ASSERT_TRUE(run.status.ok()) << run.status.ToString();
  ASSERT_EQ(run.summary.imported, 2u);
  ChildView u1 = Child("u1");
  EXPECT_EQ(u1.record.given_name, "Zoë");
  EXPECT_EQ(u1.record.middle_names, "Anaïs");
  EXPECT_EQ(u1.record.family_name, "Brontë");
  EXPECT_THAT(u1.record.former_family_names, ElementsAre("Müller"));
  EXPECT_EQ(u1.hidden->parent_name, "Renée Brontë");
  ChildView u2 = Child("u2");
  EXPECT_EQ(u2.record.given_name, "Łukasz");
  EXPECT_EQ(u2.record.middle_names, "Żaneta Ósmy");
  EXPECT_EQ(u2.record.family_name, "Wiśniewski");
  EXPECT_THAT(u2.record.former_family_names, ElementsAre("Dąbrowski", "Nowak"));
  EXPECT_EQ(u2.hidden->parent_name, "Ścibor");
}

TEST_F(ImportTest, FormerFamilyNamesSplitOnSemicolonsAndTrimmed) {
  ImportRun run = Import(
      "source_key,former_family_names\n"
      "f1,Smith; Jones ;;Brown;\n"
      "f2,\"Taylor-Wood ; O'Hara\"\n"
      "f3,;\n");
  ASSERT_TRUE(run.status.ok()) << run.status.ToString();
  ASSERT_EQ(run.summary.imported, 3u);
  EXPECT_THAT(Child("f1").record.former_family_names, ElementsAre("Smith", "Jones", "Brown"));
  EXPECT_THAT(Child("f2").record.former_family_names, ElementsAre("Taylor-Wood", "O'Hara"));
  EXPECT_THAT(Child("f3").record.former_family_names, IsEmpty());
}

TEST_F(ImportTest, RowWithOnlySourceKeyIsValid) {
  ImportRun only_column = Import("source_key\nonly-1\nonly-2\n");
  ASSERT_TRUE(only_column.status.ok()) << only_column.status.ToString();
  EXPECT_EQ(only_column.summary.imported, 2u);

  std::string all_columns;
  for (const auto& c : kImportColumns) all_columns += (all_columns.empty() ? "" : ",") + c;
  ImportRun all_empty =
      Import(all_columns + "\nempty-1" + std::string(kImportColumns.size() - 1, ',') + "\n");
  ASSERT_TRUE(all_empty.status.ok()) << all_empty.status.ToString();
  EXPECT_EQ(all_empty.summary.imported, 1u);
  EXPECT_THAT(all_empty.reports, IsEmpty());

  EXPECT_EQ(Count(), 3u);
  for (const char* key : {"only-1", "empty-1"}) {
    ChildView v = Child(key);
    EXPECT_EQ(v.record.given_name, "") << key;
    EXPECT_EQ(v.record.family_name, "") << key;
    EXPECT_TRUE(v.record.date_of_birth.empty()) << key;
    EXPECT_EQ(v.record.gender, Gender::kUnknown) << key;
    ASSERT_TRUE(v.hidden.has_value()) << key;
    EXPECT_TRUE(v.hidden->empty()) << key;
    EXPECT_THAT(v.record.provenance, IsEmpty()) << key;
    ASSERT_THAT(v.record.sources, SizeIs(1)) << key;
    EXPECT_EQ(v.record.sources[0], (SourceRef{"births", key}));
  }
}

TEST_F(ImportTest, EveryColumnLandsInItsFieldAndIdentifiersAreNormalised) {
  const std::string nhs = Nhs("943476591");
  const std::string upn = Upn("201123456789");
  std::string header;
  for (const auto& c : kImportColumns) header += (header.empty() ? "" : ",") + c;
  std::string lower_upn = upn;
  for (char& ch : lower_upn) ch = static_cast<char>(std::tolower(ch));
  const std::string spaced_nhs = nhs.substr(0, 3) + " " + nhs.substr(3, 3) + " " + nhs.substr(6);
  ImportRun run =
      Import(header + "\n" + "e1, Amelia ,Rose Kate,Thornbury,Smith;Jones,2016-03-14,F," +
             "\"12 Oak Road, Leeds\",ls14ap," + spaced_nhs + "," + lower_upn +
             ",Jane Thornbury,0113 496 0000,Oakwood Primary,Park Surgery," +
             "Leeds Sexual Health,Leeds CAMHS,Forward Leeds\n");
  ASSERT_TRUE(run.status.ok()) << run.status.ToString();
  ASSERT_EQ(run.summary.imported, 1u) << (run.reports.empty() ? "" : run.reports[0]);
  ChildView v = Child("e1");
  const ChildRecord& r = v.record;
  EXPECT_EQ(r.given_name, "Amelia");
  EXPECT_EQ(r.middle_names, "Rose Kate");
  EXPECT_EQ(r.family_name, "Thornbury");
  EXPECT_THAT(r.former_family_names, ElementsAre("Smith", "Jones"));
  EXPECT_EQ(r.date_of_birth.ToString(), "2016-03-14");
  EXPECT_EQ(r.gender, Gender::kFemale);
  EXPECT_EQ(r.nhs_number, nhs);
  EXPECT_EQ(r.pupil_number, upn);
  EXPECT_FALSE(r.shield.shielded);
  ASSERT_TRUE(v.hidden.has_value());
  EXPECT_EQ(v.hidden->address, "12 Oak Road, Leeds");
  EXPECT_EQ(v.hidden->postcode, "LS1 4AP");
  EXPECT_EQ(v.hidden->parent_name, "Jane Thornbury");
  EXPECT_EQ(v.hidden->parent_phone, "0113 496 0000");
  // The sensitive services are stored, and an ordinary reader gets them only with consent.
  EXPECT_THAT(v.hidden->services,
              ElementsAre(ServiceContact{ServiceKind::kSchool, "Oakwood Primary", ""},
                          ServiceContact{ServiceKind::kGpPractice, "Park Surgery", ""}));
  EXPECT_EQ(r.provenance.size(), 14u);
  ASSERT_TRUE(store_->SetSensitiveServicesConsent(r.id, true).ok());
  v = Child("e1");
  EXPECT_THAT(v.hidden->services,
              ElementsAre(ServiceContact{ServiceKind::kSchool, "Oakwood Primary", ""},
                          ServiceContact{ServiceKind::kGpPractice, "Park Surgery", ""},
                          ServiceContact{ServiceKind::kSexualHealth, "Leeds Sexual Health", ""},
                          ServiceContact{ServiceKind::kMentalHealth, "Leeds CAMHS", ""},
                          ServiceContact{ServiceKind::kSubstanceMisuse, "Forward Leeds", ""}));
  EXPECT_EQ(v.record.provenance.size(), 17u);
}

// ---- ImportRowParser directly -------------------------------------------------------------

TEST(ImportRowParserTest, CreateChecksTheHeader) {
  EXPECT_TRUE(ImportRowParser::Create({"source_key"}, "births").ok());
  EXPECT_TRUE(ImportRowParser::Create(kImportColumns, "births").ok());

  auto unknown = ImportRowParser::Create({"source_key", "surname"}, "births");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(), HasSubstr("'surname'"));
  EXPECT_THAT(unknown.status().message(), HasSubstr("family_name"));  // lists the columns

  auto twice = ImportRowParser::Create({"source_key", "gender", "gender"}, "births");
  ASSERT_FALSE(twice.ok());
  EXPECT_THAT(twice.status().message(), HasSubstr("'gender'"));

  auto twice_key = ImportRowParser::Create({"source_key", "source_key"}, "births");
  ASSERT_FALSE(twice_key.ok());
  EXPECT_THAT(twice_key.status().message(), HasSubstr("source_key"));

  auto no_key = ImportRowParser::Create({"given_name"}, "births");
  ASSERT_FALSE(no_key.ok());
  EXPECT_THAT(no_key.status().message(), HasSubstr("source_key"));

  auto empty_name = ImportRowParser::Create({"source_key", ""}, "births");
  EXPECT_FALSE(empty_name.ok());
}

TEST(ImportRowParserTest, ParseBuildsTheChildWithItsSourceAndPayload) {
  auto parser = ImportRowParser::Create({"family_name", "source_key", "date_of_birth"}, "la_leeds");
  ASSERT_TRUE(parser.ok()) << parser.status().ToString();
  auto child = parser->Parse({"Jones", "L-17", "2018-07-09"});
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  EXPECT_EQ(child->source, (SourceRef{"la_leeds", "L-17"}));
  EXPECT_EQ(child->record.family_name, "Jones");
  EXPECT_EQ(child->record.date_of_birth.ToString(), "2018-07-09");
  // The payload lists every import column in the canonical order, whatever the file's, so a
  // feed resending the record in another column order finds it unchanged.
  EXPECT_EQ(child->source_payload, "L-17,,,Jones,,2018-07-09,,,,,,,,,");
  EXPECT_THAT(child->record.provenance, ElementsAre(FieldSource{"family_name", "la_leeds"},
                                                    FieldSource{"date_of_birth", "la_leeds"}));

  auto wrong_width = parser->Parse({"Jones", "L-17"});
  ASSERT_FALSE(wrong_width.ok());
  EXPECT_TRUE(wrong_width.status().IsInvalidArgument());

  auto bad_date = parser->Parse({"Jones", "L-18", "2019-02-29"});
  ASSERT_FALSE(bad_date.ok());
  EXPECT_THAT(bad_date.status().message(), HasSubstr("date_of_birth"));
}

// Row faults reach operators' terminals and logs: they name the column, never the value.
// ---- The file read through io_uring or read(2) ------------------------------------------

TEST_F(ImportTest, AFileImportsTheSameChildrenWhicheverWayItIsRead) {
  std::string csv = "source_key,given_name,family_name,date_of_birth\n";
  for (int i = 0; i < 500; ++i) {
    csv += "k" + std::to_string(i) + ",Amelia,Okafor-Smith,2015-03-" + std::to_string(10 + i % 18) + "\n";
  }
  const std::string path = dir_ + "/children.csv";
  std::ofstream(path, std::ios::binary) << csv;
  int source = 0;
  for (FileReadBuf::Mode mode :
       {FileReadBuf::Mode::kAuto, FileReadBuf::Mode::kRead, FileReadBuf::Mode::kIoUring}) {
    ImportSummary summary;
    bool uring = false;
    std::string fallback;
    std::vector<std::string> reports;
    const std::string name = "feed" + std::to_string(source++);
    Status s = ImportCsvFile(store_.get(), name, path, &summary,
                             [&](const std::string& m) { reports.push_back(m); }, 250000, mode,
                             &uring, &fallback);
    if (mode == FileReadBuf::Mode::kIoUring && s.code() == Status::Code::kNotSupported) continue;
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(summary.rows, 500u);
    EXPECT_EQ(summary.imported, 500u);
    EXPECT_THAT(reports, IsEmpty());
    EXPECT_EQ(uring, mode != FileReadBuf::Mode::kRead && fallback.empty());
    EXPECT_EQ(Child("k499", name).record.date_of_birth.ToString(), "2015-03-23");  // 10 + 499 % 18
  }
}

TEST_F(ImportTest, AFileThatCannotBeOpenedIsAnIOErrorAndImportsNothing) {
  ImportSummary summary;
  Status s = ImportCsvFile(store_.get(), "births", dir_ + "/no-such.csv", &summary,
                           [](const std::string&) {});
  EXPECT_EQ(s.code(), Status::Code::kIOError);
  EXPECT_THAT(s.message(), HasSubstr("no-such.csv"));
  EXPECT_EQ(Count(), 0u);
}

// A read that fails part way must not pass for the end of the file (a silently short
// import): a directory opens, and every read of it fails.
TEST_F(ImportTest, AReadErrorIsAnIOErrorNotAShortImport) {
  ImportSummary summary;
  Status s = ImportCsvFile(store_.get(), "births", dir_, &summary, [](const std::string&) {});
  EXPECT_EQ(s.code(), Status::Code::kIOError) << s.ToString();
  EXPECT_EQ(Count(), 0u);
}

TEST_F(ImportTest, RowFaultsDoNotEchoPersonalData) {
  ImportRun run = Import(
      "source_key,given_name,family_name,date_of_birth,gender\n"
      "k1,Amy,Zzyzx,2019-02-30,F\n"
      "k2,Bob,Qwxyz,2019-01-01,Female\n");
  ASSERT_EQ(run.reports.size(), 2u);
  for (const auto& r : run.reports) {
    EXPECT_EQ(r.find("2019-02-30"), std::string::npos) << r;
    EXPECT_EQ(r.find("Female"), std::string::npos) << r;
    EXPECT_EQ(r.find("Zzyzx"), std::string::npos) << r;
    EXPECT_EQ(r.find("Qwxyz"), std::string::npos) << r;
  }
  EXPECT_THAT(run.reports[0], HasSubstr("date_of_birth"));
  EXPECT_THAT(run.reports[1], HasSubstr("gender"));
}

}  // namespace
}  // namespace cp
