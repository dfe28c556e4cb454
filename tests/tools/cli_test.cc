// The `contactpoint` binary end to end: every test runs it as a subprocess against a
// database in a fresh temporary directory and checks exit code, stdout and stderr.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "../storage/raw_db_util.h"
#include "cli_runner.h"
#include "storage/keys.h"
#include "tools/import.h"
#include "util/csv.h"
#include "util/identifiers.h"

namespace cp {
namespace {

using nlohmann::json;
using ::testing::AllOf;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

constexpr int kExitTooMany = 3;

std::string ValidNhs(const std::string& nine) { return nine + std::to_string(NhsCheckDigit(nine)); }
std::string ValidUpn(const std::string& twelve) {
  return std::string(1, UpnCheckLetter(twelve)) + twelve;
}

const std::string kChildrenHeader =
    "source_key,given_name,middle_names,family_name,former_family_names,date_of_birth,gender,"
    "address,postcode,nhs_number,pupil_number,parent_name,parent_phone,school,gp_practice\n";

// c1 carries the marker address and postcode that must vanish when it is shielded.
constexpr char kMarkerAddress[] = "7 Zzyzx Marker Close, Leeds";
constexpr char kMarkerPostcode[] = "LS6 9QT";
constexpr char kMarkerParent[] = "Jane Qwertyparent";
constexpr char kMarkerPhone[] = "0113 496 0777";
constexpr char kMarkerSchool[] = "Marker Oakwood Primary";
constexpr char kMarkerGp[] = "Marker Park Surgery";

std::string NhsC1() { return ValidNhs("943476591"); }
std::string NhsC2() { return ValidNhs("401023213"); }
std::string UpnC1() { return ValidUpn("201123456789"); }

std::string ChildrenCsv() {
  return kChildrenHeader + "c1,Amelia,Rose,Thornbury,,2016-03-14,F,\"" + kMarkerAddress + "\"," +
         kMarkerPostcode + "," + NhsC1() + "," + UpnC1() + "," + kMarkerParent + "," +
         kMarkerPhone + "," + kMarkerSchool + "," + kMarkerGp + "\n" +
         "c2,Oliver,,Pickering,,2015-11-02,M,\"1 Elm Street, York\",YO1 7HH," + NhsC2() +
         ",,Tom Pickering,01904 000000,,York Medical\n" +
         "c3,Zoë,,Brontë,Müller,2017-05-20,F,\"2 Moor Lane, Haworth\",BD22 8DR,,,,,,\n" +
         "c4,Łukasz,,Wiśniewski,,2014-01-09,M,,,,,,,,\n";
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cp-cli-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    db_ = dir_ + "/db";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Runs the binary with `args`; stdout and stderr go to files, stdin is /dev/null.
  CliResult Run(const std::vector<std::string>& args) { return RunContactpoint(dir_, args); }

  // `contactpoint <command> --db <db_> args...`
  CliResult RunDb(const std::string& command, std::vector<std::string> args = {}) {
    args.insert(args.begin(), {command, "--db", db_});
    return Run(args);
  }

  std::string Write(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    EXPECT_TRUE(out.good());
    return path;
  }

  void Init() {
    CliResult r = RunDb("init");
    ASSERT_EQ(r.code, kExitOk) << r;
  }

  // init + import of ChildrenCsv().
  void InitAndImport() {
    ASSERT_NO_FATAL_FAILURE(Init());
    CliResult r = RunDb("import", {"--source", "births", Write("children.csv", ChildrenCsv())});
    ASSERT_EQ(r.code, kExitOk) << r;
  }

  // Source key -> child id, from `dump`.
  std::map<std::string, uint64_t> Ids() {
    std::map<std::string, uint64_t> ids;
    CliResult r = RunDb("dump");
    EXPECT_EQ(r.code, kExitOk) << r;
    for (const auto& line : Lines(r.out)) {
      json j = json::parse(line);
      for (const auto& s : j["sources"]) ids[s["key"]] = j["child_id"];
    }
    return ids;
  }

  json ParseJson(const CliResult& r) {
    try {
      return json::parse(r.out);
    } catch (const json::exception& e) {
      ADD_FAILURE() << "not JSON: " << e.what() << "\n" << r;
      return json();
    }
  }

  json GetJson(uint64_t id) {
    CliResult r = RunDb("get", {std::to_string(id), "--json"});
    EXPECT_EQ(r.code, kExitOk) << r;
    return ParseJson(r);
  }

  // search --json with the given criteria flags.
  json SearchJson(std::vector<std::string> flags, int expected_code = kExitOk) {
    flags.push_back("--json");
    CliResult r = RunDb("search", flags);
    EXPECT_EQ(r.code, expected_code) << r;
    return ParseJson(r);
  }

  std::vector<std::string> PostcodeSearchForC1() {
    return {"--family", "Thornbury", "--dob",      "2016-03-14",
            "--gender", "F",         "--postcode", "ls6 9qt"};
  }

  static std::vector<uint64_t> ResultIds(const json& j) {
    std::vector<uint64_t> ids;
    for (const auto& r : j["results"]) ids.push_back(r["child_id"]);
    return ids;
  }

  std::string dir_;
  std::string db_;
};

const std::vector<std::string> kHiddenKeys = {
    "address", "postcode", "parent_name", "parent_phone", "school", "gp_practice", "services"};

// ---- init ------------------------------------------------------------------------------

TEST_F(CliTest, InitCreatesTheDatabaseAndAPrivateKeyFileBesideIt) {
  CliResult r = RunDb("init");
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_TRUE(std::filesystem::is_directory(db_));
  struct stat st {};
  ASSERT_EQ(::stat((db_ + ".key").c_str(), &st), 0) << "no key file " << db_ << ".key";
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_THAT(r.out, HasSubstr(db_ + ".key"));
}

TEST_F(CliTest, InitTwiceIsRefusedAndKeepsTheKey) {
  ASSERT_NO_FATAL_FAILURE(Init());
  const std::string key = ReadFile(db_ + ".key");
  CliResult again = RunDb("init");
  EXPECT_NE(again.code, kExitOk) << again;
  EXPECT_THAT(again.err, HasSubstr("already exists"));
  EXPECT_EQ(ReadFile(db_ + ".key"), key);
  // The database still opens with its key.
  EXPECT_EQ(RunDb("dump").code, kExitOk);
}

TEST_F(CliTest, InitNeverOverwritesAnExistingKeyFile) {
  const std::string key = db_ + ".key";
  {
    std::ofstream out(key);
    out << "precious\n";
  }
  ASSERT_EQ(::chmod(key.c_str(), 0600), 0);
  CliResult r = RunDb("init");
  EXPECT_NE(r.code, kExitOk) << r;
  EXPECT_THAT(r.err, HasSubstr(key));
  EXPECT_EQ(ReadFile(key), "precious\n");
}

TEST_F(CliTest, InitWithTrailingSlashCreatesAndNamesDirDotKey) {
  CliResult r = Run({"init", "--db", db_ + "/"});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_TRUE(std::filesystem::exists(db_ + ".key"));
  // The message must name the key file that was created, not "<db>/.key".
  EXPECT_THAT(r.out, HasSubstr(db_ + ".key"));
  EXPECT_THAT(r.out, Not(HasSubstr(db_ + "/.key")));
}

TEST_F(CliTest, KeyFileOptionIsUsedForCreateAndOpen) {
  const std::string key = dir_ + "/elsewhere.key";
  CliResult r = Run({"init", "--db", db_, "--key-file", key});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_TRUE(std::filesystem::exists(key));
  EXPECT_FALSE(std::filesystem::exists(db_ + ".key"));
  EXPECT_EQ(Run({"dump", "--db", db_, "--key-file", key}).code, kExitOk);
  CliResult without = RunDb("dump");
  EXPECT_NE(without.code, kExitOk) << without;
  EXPECT_THAT(without.err, HasSubstr("key file"));
}

TEST_F(CliTest, WrongKeyFileIsRefusedWithAClearMessage) {
  ASSERT_NO_FATAL_FAILURE(InitAndImport());
  const std::string other_db = dir_ + "/other";
  ASSERT_EQ(Run({"init", "--db", other_db}).code, kExitOk);
  for (const std::string command : {"dump", "search"}) {
    std::vector<std::string> args = {command, "--db", db_, "--key-file", other_db + ".key"};
    if (command == "search") args.insert(args.end(), {"--nhs-number", NhsC1()});
    CliResult r = Run(args);
    EXPECT_EQ(r.code, kExitFailure) << command << "\n" << r;
    EXPECT_THAT(r.err, HasSubstr("key file")) << command;
    EXPECT_THAT(r.err, HasSubstr(other_db + ".key")) << command;
    EXPECT_THAT(r.out, Not(HasSubstr("Thornbury"))) << command;
  }
}

TEST_F(CliTest, WorldReadableKeyFileIsRefused) {
  ASSERT_NO_FATAL_FAILURE(Init());
  ASSERT_EQ(::chmod((db_ + ".key").c_str(), 0644), 0);
  CliResult r = RunDb("dump");
  EXPECT_NE(r.code, kExitOk) << r;
  EXPECT_THAT(r.err, HasSubstr("key file"));
}

TEST_F(CliTest, InfoLogIsPrintedDecryptedAndOnlyWithTheDatabasesKey) {
  ASSERT_NO_FATAL_FAILURE(InitAndImport());
  // On disk the log is ciphertext: what RocksDB writes first is not in it.
  EXPECT_THAT(ReadFile(db_ + "/LOG"), Not(HasSubstr("RocksDB version")));
  CliResult r = RunDb("info-log");
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("RocksDB version"));
  EXPECT_THAT(r.out, HasSubstr("name_index"));
  // The import opened the database again: the log before it is LOG.old.
  CliResult previous = RunDb("info-log", {"--previous"});
  ASSERT_EQ(previous.code, kExitOk) << previous;
  EXPECT_THAT(previous.out, HasSubstr("RocksDB version"));

  const std::string other_db = dir_ + "/other";
  ASSERT_EQ(Run({"init", "--db", other_db}).code, kExitOk);
  CliResult wrong = Run({"info-log", "--db", db_, "--key-file", other_db + ".key"});
  EXPECT_EQ(wrong.code, kExitFailure) << wrong;
  EXPECT_THAT(wrong.err, HasSubstr("is not the key"));
  EXPECT_EQ(wrong.out, "");

  CliResult missing = Run({"info-log", "--db", dir_ + "/nowhere"});
  EXPECT_EQ(missing.code, kExitFailure) << missing;
  EXPECT_THAT(missing.err, HasSubstr("no info log"));
}

TEST_F(CliTest, MissingDatabaseIsRefused) {
  CliResult r = RunDb("search", {"--nhs-number", NhsC1()});
  EXPECT_EQ(r.code, kExitFailure) << r;
  EXPECT_THAT(r.err, HasSubstr("no database"));
}

// ---- import ----------------------------------------------------------------------------

TEST_F(CliTest, ImportPrintsCountsOnStderrAndExitsZero) {
  ASSERT_NO_FATAL_FAILURE(Init());
  CliResult r = RunDb("import", {"--source", "births", Write("children.csv", ChildrenCsv())});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.err, HasSubstr("4 rows, 4 imported, 0 rejected"));
  EXPECT_THAT(r.out, IsEmpty());
  EXPECT_THAT(Ids(), SizeIs(4));
}

TEST_F(CliTest, ImportWithCompactAndAnotherSource) {
  ASSERT_NO_FATAL_FAILURE(InitAndImport());
  // The same keys from another source are other children.
  CliResult r =
      RunDb("import", {"--source", "la_leeds", "--compact", Write("again.csv", ChildrenCsv())});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.err, HasSubstr("4 rows, 4 imported, 0 rejected"));
  EXPECT_EQ(Lines(RunDb("dump").out).size(), 8u);
  // The same keys from the same source again are refused, line by line.
  CliResult again = RunDb("import", {"--source", "births", dir_ + "/children.csv"});
  EXPECT_EQ(again.code, kExitFailure) << again;
  EXPECT_THAT(again.err, HasSubstr("4 rows, 0 imported, 4 rejected"));
  for (const char* line : {"line 2:", "line 3:", "line 4:", "line 5:"}) {
    EXPECT_THAT(again.err, HasSubstr(line));
  }
}

// A database created before birth day postings (here: one stripped of them, of the name
// pairs and of their markers, as such a database is) gets them from `upgrade`, exactly as a new one
// has them, and `check` passes before and after; a second run has nothing to do.
TEST_F(CliTest, UpgradeGivesAnOlderDatabaseItsBirthDayAndNamePairPostings) {
  ASSERT_NO_FATAL_FAILURE(InitAndImport());
  auto birthday_postings = [&] {
    testing_util::RawDb raw(db_, db_ + ".key");
    std::map<std::string, std::string> out;
    auto dump = raw.Dump();
    for (const auto& [key, value] : dump["name_index"]) {
      const bool day = key[0] == static_cast<char>(TermKind::kBirthDay) ||
                       key[0] == static_cast<char>(TermKind::kNamePair) ||
                       key[0] == static_cast<char>(TermKind::kBirthday);
      if (day) out[key] = value;
    }
    return out;
  };
  const auto fresh = birthday_postings();
  ASSERT_GE(fresh.size(), 8u);
  {
    testing_util::RawDb raw(db_, db_ + ".key");
    for (const auto& [key, value] : fresh) raw.Delete("name_index", key);
    raw.Delete("meta", std::string(keys::kMetaBirthday));
    raw.Delete("meta", std::string(keys::kMetaDayPostings));
  }
  ASSERT_TRUE(birthday_postings().empty());
  EXPECT_EQ(RunDb("check").code, kExitOk);

  CliResult r = RunDb("upgrade");
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("birth day and name pair postings written for 4 children"));
  EXPECT_EQ(birthday_postings(), fresh);
  CliResult check = RunDb("check");
  EXPECT_EQ(check.code, kExitOk) << check;

  CliResult again = RunDb("upgrade");
  ASSERT_EQ(again.code, kExitOk) << again;
  EXPECT_THAT(again.out, HasSubstr("nothing to upgrade"));
  EXPECT_EQ(birthday_postings(), fresh);

  CliResult missing = Run({"upgrade", "--db", dir_ + "/nowhere"});
  EXPECT_NE(missing.code, kExitOk);
  EXPECT_THAT(missing.err, Not(IsEmpty()));
}

// Shielded children's postings written before they carried the district digest (here:
// stripped of it) get it from `upgrade`, as a shield set today writes them; `check` passes
// before and after, and a second run has nothing to do.
TEST_F(CliTest, UpgradeGivesShieldedChildrenTheirDistrictDigests) {
  ASSERT_NO_FATAL_FAILURE(InitAndImport());
  ASSERT_EQ(
      RunDb("shield", {std::to_string(Ids().at("c1")), "--by", "LA", "--reason", "refuge"}).code,
      kExitOk);
  auto shielded_postings = [&] {
    testing_util::RawDb raw(db_, db_ + ".key");
    std::map<std::string, std::string> out;
    auto dump = raw.Dump();
    for (const auto& [key, value] : dump["name_index"]) {
      if (value.size() >= 2 && (static_cast<uint8_t>(value[0]) & keys::kPostingShielded))
        out[key] = value;
    }
    return out;
  };
  const auto today = shielded_postings();
  ASSERT_GE(today.size(), 4u);
  {
    testing_util::RawDb raw(db_, db_ + ".key");
    for (auto [key, value] : today) {
      ASSERT_TRUE(static_cast<uint8_t>(value[0]) & keys::kPostingDistrict)
          << "every one carries the digest";
      value[0] = static_cast<char>(keys::kPostingShielded);
      value.pop_back();
      raw.Put("name_index", key, value);
    }
  }
  EXPECT_EQ(RunDb("check").code, kExitOk);

  CliResult r = RunDb("upgrade");
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("district digests written for 1 shielded children"));
  EXPECT_THAT(r.out, Not(HasSubstr("birth day")));
  EXPECT_EQ(shielded_postings(), today);
  EXPECT_EQ(RunDb("check").code, kExitOk);

  CliResult again = RunDb("upgrade");
  ASSERT_EQ(again.code, kExitOk) << again;
  EXPECT_THAT(again.out, HasSubstr("nothing to upgrade"));
}

TEST_F(CliTest, ImportWithBadRowsExitsOneReportsTheLinesAndImportsTheRest) {
  ASSERT_NO_FATAL_FAILURE(Init());
  const std::string csv = kChildrenHeader +
                          "g1,Amy,,Jones,,2019-01-01,F,,,,,,,,\n"      // 2
                          "g2,Ben,,Jones,,2019-02-30,M,,,,,,,,\n"      // 3 bad date
                          "g3,Cal,,Jones,,2019-01-01,M,,NOPE,,,,,,\n"  // 4 bad postcode
                          "g4,Dee,,Jones,,2019-01-01,F,,,,,,,,\n";     // 5
  CliResult r = RunDb("import", {"--source", "births", Write("bad.csv", csv)});
  EXPECT_EQ(r.code, kExitFailure) << r;
  EXPECT_THAT(r.err, HasSubstr("line 3: date_of_birth"));
  EXPECT_THAT(r.err, HasSubstr("line 4: postcode"));
  EXPECT_THAT(r.err, HasSubstr("4 rows, 2 imported, 2 rejected"));
  auto ids = Ids();
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_TRUE(ids.count("g1"));
  EXPECT_TRUE(ids.count("g4"));
}

TEST_F(CliTest, ImportOfAFileWithAnUnknownColumnIsRefused) {
  ASSERT_NO_FATAL_FAILURE(Init());
  CliResult r =
      RunDb("import", {"--source", "births", Write("bad.csv", "source_key,shoe_size\nk,9\n")});
  EXPECT_NE(r.code, kExitOk) << r;
  EXPECT_THAT(r.err, HasSubstr("shoe_size"));
  EXPECT_THAT(Ids(), IsEmpty());
}

TEST_F(CliTest, ImportOfAMissingFileFails) {
  ASSERT_NO_FATAL_FAILURE(Init());
  CliResult r = RunDb("import", {"--source", "births", dir_ + "/absent.csv"});
  EXPECT_EQ(r.code, kExitFailure) << r;
  EXPECT_THAT(r.err, HasSubstr("absent.csv"));
}

// ---- search ----------------------------------------------------------------------------

TEST_F(CliTest, SearchJsonExactHitHasTheDocumentedShape) {
  ASSERT_NO_FATAL_FAILURE(InitAndImport());
  const uint64_t c1 = Ids().at("c1");
  json j = SearchJson({"--given", "Amelia", "--family", "Thornbury", "--dob", "2016-03-14"});
  ASSERT_TRUE(j.is_object()) << j;
  EXPECT_EQ(j["status"], "ok");
  ASSERT_TRUE(j["results"].is_array());
  ASSERT_FALSE(j["results"].empty()) << j;
  const json& hit = j["results"][0];
  EXPECT_EQ(hit["child_id"], c1);
  ASSERT_TRUE(hit["score"].is_number()) << hit;
  EXPECT_GE(hit["score"].get<double>(), 0.0);
  EXPECT_LE(hit["score"].get<double>(), 1.0);
  EXPECT_EQ(hit["shielded"], false);
  ASSERT_TRUE(hit["record"].is_object());
  EXPECT_EQ(hit["record"]["given_name"], "Amelia");
  EXPECT_EQ(hit["record"]["middle_names"], "Rose");
  EXPECT_EQ(hit["record"]["family_name"], "Thornbury");
  EXPECT_EQ(hit["record"]["date_of_birth"], "2016-03-14");
  EXPECT_EQ(hit["record"]["gender"], "F");
  EXPECT_EQ(hit["record"]["nhs_number"], NhsC1());
  EXPECT_EQ(hit["record"]["pupil_number"], UpnC1());
  EXPECT_EQ(hit["record"]["address"], kMarkerAddress);
  EXPECT_EQ(hit["record"]["postcode"], kMarkerPostcode);
  EXPECT_EQ(hit["record"]["school"], kMarkerSchool);
  EXPECT_EQ(hit["record"]["gp_practice"], kMarkerGp);
  ASSERT_TRUE(hit["sources"].is_array());
  ASSERT_EQ(hit["sources"].size(), 1u);
  EXPECT_EQ(hit["sources"][0]["source"], "births");
  EXPECT_EQ(hit["sources"][0]["key"], "c1");
}

TEST_F(CliTest, SearchByIdentifierAloneAndUtf8Names) {
  ASSERT_NO_FATAL_FAILURE(InitAndImport());
  auto ids = Ids();
  EXPECT_EQ(ResultIds(SearchJson({"--nhs-number", NhsC2()})), std::vector<uint64_t>{ids["c2"]});
  EXPECT_EQ(ResultIds(SearchJson({"--pupil-number", UpnC1()})), std::vector<uint64_t>{ids["c1"]});
  json zoe = SearchJson({"--given", "Zoë", "--family", "Brontë", "--dob", "2017-05-20"});
  ASSERT_FALSE(zoe["results"].empty()) << zoe;
  EXPECT_EQ(zoe["results"][0]["child_id"], ids["c3"]);
  EXPECT_EQ(zoe["results"][0]["record"]["given_name"], "Zoë");
  EXPECT_EQ(zoe["results"][0]["record"]["former_family_names"], json::array({"Müller"}));
}

TEST_F(CliTest, SearchHumanOutputListsTheMatch) {
  ASSERT_NO_FATAL_FAILURE(InitAndImport());
  CliResult r = RunDb("search", {"--given", "A", "--family", "Thornbury", "--dob", "2016-03-14"});
  EXPECT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("1 match"));
  EXPECT_THAT(r.out, HasSubstr("Amelia"));
}

TEST_F(CliTest, InvalidCriteriaExitTwoAndListTheAcceptedCombinations) {
  ASSERT_NO_FATAL_FAILURE(InitAndImport());
  json j = SearchJson({"--given", "Amelia", "--family", "Thornbury"}, kExitUsage);
  EXPECT_EQ(j["status"], "invalid_criteria");
  EXPECT_EQ(j["results"], json::array());
  ASSERT_TRUE(j["message"].is_string()) << j;
  const std::string message = j["message"];
  EXPECT_THAT(message, HasSubstr("NHS number"));
  EXPECT_THAT(message, HasSubstr("pupil number"));
  EXPECT_THAT(message, HasSubstr("date of birth"));
  EXPECT_THAT(message, HasSubstr("postcode"));

  CliResult human = RunDb("search", {"--family", "Thornbury"});
  EXPECT_EQ(human.code, kExitUsage) << human;
  EXPECT_THAT(human.err, HasSubstr("invalid criteria"));
  EXPECT_THAT(human.err, HasSubstr("NHS number"));
}

TEST_F(CliTest, MalformedCriteriaAreInvalidCriteria) {
  ASSERT_NO_FATAL_FAILURE(InitAndImport());
  const std::vector<std::vector<std::string>> cases = {
      {"--given", "Amelia", "--family", "Thornbury", "--dob", "2016-02-30"},
      {"--given", "Amelia", "--family", "Thornbury", "--dob", "2016-3-14"},
      {"--given", "Amelia", "--family", "Thornbury", "--dob", "2016-03-14", "--dob-from",
       "2016-01-01", "--dob-to", "2016-12-31"},
      {"--given", "Amelia", "--family", "Thornbury", "--dob-from", "2010-01-01", "--dob-to",
       "2016-12-31"},
      {"--given", "Amelia", "--family", "Thornbury", "--dob-from", "2016-01-01"},
      {"--family", "Thornbury", "--dob", "2016-03-14", "--gender", "X", "--postcode", "LS6 9QT"},
      {"--nhs-number", "1234567890"},
      {"--nhs-number", NhsC1(), "--limit", "0"},
      {"--nhs-number", NhsC1(), "--limit", "51"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> flags = c;
    flags.push_back("--json");
    CliResult r = RunDb("search", flags);
    std::string shown;
    for (const auto& f : c) shown += f + " ";
    EXPECT_EQ(r.code, kExitUsage) << shown << "\n" << r;
    json j = ParseJson(r);
    EXPECT_EQ(j["status"], "invalid_criteria") << shown;
    EXPECT_EQ(j["results"], json::array()) << shown;
    EXPECT_TRUE(j["message"].is_string() && !j["message"].get<std::string>().empty()) << shown;
  }
}

TEST_F(CliTest, TooManyMatchesExitsThreeWithNoResults) {
  ASSERT_NO_FATAL_FAILURE(Init());
  std::string csv = kChildrenHeader;
  for (int i = 1; i <= 25; ++i) {
    csv += "s" + std::to_string(i) + ",Jack,,Smith,,2015-06-01,M,,,,,,,,\n";
  }
  ASSERT_EQ(RunDb("import", {"--source", "births", Write("smiths.csv", csv)}).code, kExitOk);
  const std::vector<std::string> query = {"--given", "Jack",  "--family",
                                          "Smith",   "--dob", "2015-06-01"};
  json j = SearchJson(query, kExitTooMany);
  EXPECT_EQ(j["status"], "too_many_matches");
  EXPECT_EQ(j["results"], json::array());

  CliResult human = RunDb("search", query);
  EXPECT_EQ(human.code, kExitTooMany) << human;
  EXPECT_THAT(human.out, HasSubstr("too many matches"));
  EXPECT_THAT(human.out, Not(HasSubstr("Jack")));

  // A cap above the number of matches answers them all.
  std::vector<std::string> wider = query;
  wider.insert(wider.end(), {"--limit", "30"});
  json all = SearchJson(wider, kExitOk);
  EXPECT_EQ(all["status"], "ok");
  EXPECT_EQ(all["results"].size(), 25u);
}

TEST_F(CliTest, TooManyMatchesForOneSurnameAndBirthYear) {
  ASSERT_NO_FATAL_FAILURE(Init());
  const std::vector<std::string> given = {
      "Jack",   "James",  "Jacob",  "Joshua",   "Joseph", "Jake",  "Jayden", "Jamie", "Jonah",
      "Joel",   "Jude",   "Jasper", "Jenson",   "Jesse",  "Jaxon", "Joey",   "Jared", "Jordan",
      "Julian", "Justin", "Jay",    "Jonathan", "Josh",   "Jed",   "Jim"};
  std::string csv = kChildrenHeader;
  for (size_t i = 0; i < given.size(); ++i) {
    char dob[16];
    std::snprintf(dob, sizeof dob, "2015-%02zu-%02zu", i % 12 + 1, i % 27 + 1);
    csv += "y" + std::to_string(i) + "," + given[i] + ",,Smith,," + dob + ",M,,,,,,,,\n";
  }
  CliResult imported = RunDb("import", {"--source", "births", Write("smiths.csv", csv)});
  ASSERT_EQ(imported.code, kExitOk) << imported;
  ASSERT_THAT(imported.err, HasSubstr("25 imported"));
  json j = SearchJson(
      {"--given", "J", "--family", "Smith", "--dob-from", "2015-01-01", "--dob-to", "2015-12-31"},
      kExitTooMany);
  EXPECT_EQ(j["status"], "too_many_matches");
  EXPECT_EQ(j["results"], json::array());
}

// ---- get, dump ---------------------------------------------------------------------------

TEST_F(CliTest, GetJsonShowsTheChildWithoutAScore) {
  ASSERT_NO_FATAL_FAILURE(InitAndImport());
  const uint64_t c2 = Ids().at("c2");
  json j = GetJson(c2);
  EXPECT_EQ(j["child_id"], c2);
  EXPECT_FALSE(j.contains("score"));
  EXPECT_EQ(j["shielded"], false);
  EXPECT_EQ(j["record"]["given_name"], "Oliver");
  EXPECT_EQ(j["record"]["family_name"], "Pickering");
  EXPECT_EQ(j["record"]["nhs_number"], NhsC2());
  EXPECT_EQ(j["record"]["postcode"], "YO1 7HH");
  EXPECT_EQ(j["record"]["address"], "1 Elm Street, York");
  EXPECT_EQ(j["record"]["gp_practice"], "York Medical");
  EXPECT_EQ(j["sources"], json::parse(R"([{"source":"births","key":"c2"}])"));

  CliResult human = RunDb("get", {std::to_string(c2)});
  EXPECT_EQ(human.code, kExitOk) << human;
  EXPECT_THAT(human.out, HasSubstr("Oliver"));
  EXPECT_THAT(human.out, HasSubstr("YO1 7HH"));
}

TEST_F(CliTest, GetOfAnUnknownIdFailsWithAMessage) {
  ASSERT_NO_FATAL_FAILURE(InitAndImport());
  CliResult r = RunDb("get", {"999", "--json"});
  EXPECT_EQ(r.code, kExitFailure) << r;
  EXPECT_THAT(r.err, HasSubstr("999"));
  EXPECT_THAT(r.out, IsEmpty());

  CliResult not_an_id = RunDb("get", {"abc"});
  EXPECT_EQ(not_an_id.code, kExitUsage) << not_an_id;
  EXPECT_THAT(not_an_id.err, HasSubstr("abc"));
  EXPECT_EQ(RunDb("get", {"0"}).code, kExitUsage);
}

TEST_F(CliTest, DumpPrintsOneSearchShapedLinePerChildInIdOrder) {
  ASSERT_NO_FATAL_FAILURE(InitAndImport());
  CliResult r = RunDb("dump");
  ASSERT_EQ(r.code, kExitOk) << r;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r;
  uint64_t previous = 0;
  for (const auto& line : lines) {
    json j = json::parse(line);
    EXPECT_TRUE(j.contains("child_id") && j.contains("shielded") && j.contains("record") &&
                j.contains("sources"))
        << line;
    EXPECT_FALSE(j.contains("score")) << line;
    EXPECT_GT(j["child_id"].get<uint64_t>(), previous);
    previous = j["child_id"];
  }
  EXPECT_THAT(r.out, HasSubstr(kMarkerAddress));  // not shielded yet
}

// ---- shield, unshield ----------------------------------------------------------------------

TEST_F(CliTest, ShieldHidesLocationFromGetDumpAndPostcodeSearchAndUnshieldRestores) {
  ASSERT_NO_FATAL_FAILURE(InitAndImport());
  const uint64_t c1 = Ids().at("c1");
  const std::string id = std::to_string(c1);
  ASSERT_EQ(ResultIds(SearchJson(PostcodeSearchForC1())), std::vector<uint64_t>{c1});

  CliResult shield = RunDb("shield", {id, "--by", "Leeds City Council", "--reason", "refuge"});
  ASSERT_EQ(shield.code, kExitOk) << shield;

  // get --json: shielded, and no location key at all.
  CliResult get = RunDb("get", {id, "--json"});
  ASSERT_EQ(get.code, kExitOk) << get;
  json j = ParseJson(get);
  EXPECT_EQ(j["shielded"], true);
  EXPECT_EQ(j["record"]["shielded"], true);
  EXPECT_EQ(j["record"]["given_name"], "Amelia");
  for (const auto& key : kHiddenKeys) EXPECT_FALSE(j["record"].contains(key)) << key;
  for (const char* marker :
       {kMarkerAddress, kMarkerPostcode, kMarkerParent, kMarkerPhone, kMarkerSchool, kMarkerGp}) {
    EXPECT_THAT(get.out, Not(HasSubstr(marker)));
  }

  // get, human form.
  CliResult human = RunDb("get", {id});
  EXPECT_EQ(human.code, kExitOk) << human;
  EXPECT_THAT(human.out, HasSubstr("SHIELDED"));
  EXPECT_THAT(human.out, Not(HasSubstr("Zzyzx")));
  EXPECT_THAT(human.out, Not(HasSubstr(kMarkerPostcode)));

  // dump: the line is there, without any hidden value.
  CliResult dump = RunDb("dump");
  ASSERT_EQ(dump.code, kExitOk) << dump;
  EXPECT_THAT(Lines(dump.out), SizeIs(4));
  EXPECT_THAT(dump.out, Not(HasSubstr("Zzyzx")));
  EXPECT_THAT(dump.out, Not(HasSubstr(kMarkerPostcode)));
  EXPECT_THAT(dump.out, Not(HasSubstr(kMarkerParent)));
  EXPECT_THAT(dump.out, Not(HasSubstr(kMarkerSchool)));
  bool seen = false;
  for (const auto& line : Lines(dump.out)) {
    json d = json::parse(line);
    if (d["child_id"] != c1) continue;
    seen = true;
    EXPECT_EQ(d["shielded"], true);
    for (const auto& key : kHiddenKeys) EXPECT_FALSE(d["record"].contains(key)) << key;
  }
  EXPECT_TRUE(seen);
  EXPECT_THAT(dump.out, HasSubstr("1 Elm Street, York"));  // others keep theirs

  // A search by postcode must not confirm where the child lives.
  json by_place = SearchJson(PostcodeSearchForC1());
  EXPECT_EQ(by_place["status"], "ok");
  EXPECT_EQ(by_place["results"], json::array());
  // A search by name still finds the child, without its location.
  json by_name = SearchJson({"--given", "Amelia", "--family", "Thornbury", "--dob", "2016-03-14"});
  ASSERT_EQ(ResultIds(by_name), std::vector<uint64_t>{c1});
  EXPECT_EQ(by_name["results"][0]["shielded"], true);
  EXPECT_FALSE(by_name["results"][0]["record"].contains("address"));
  EXPECT_FALSE(by_name["results"][0]["record"].contains("postcode"));

  // unshield restores every field and the postcode search.
  CliResult unshield = RunDb("unshield", {id, "--by", "Leeds City Council", "--reason", "moved"});
  ASSERT_EQ(unshield.code, kExitOk) << unshield;
  json back = GetJson(c1);
  EXPECT_EQ(back["shielded"], false);
  EXPECT_EQ(back["record"]["address"], kMarkerAddress);
  EXPECT_EQ(back["record"]["postcode"], kMarkerPostcode);
  EXPECT_EQ(back["record"]["parent_name"], kMarkerParent);
  EXPECT_EQ(back["record"]["school"], kMarkerSchool);
  EXPECT_EQ(ResultIds(SearchJson(PostcodeSearchForC1())), std::vector<uint64_t>{c1});
  EXPECT_THAT(RunDb("dump").out, HasSubstr("Zzyzx"));
}

// A shielded child's output should not even say which location fields are held, or which
// source supplied them (json_output.h: "no location key at all").
TEST_F(CliTest, ShieldedChildOutputNamesNoHiddenFieldAnywhere) {
  ASSERT_NO_FATAL_FAILURE(InitAndImport());
  const uint64_t c1 = Ids().at("c1");
  ASSERT_EQ(RunDb("shield", {std::to_string(c1), "--by", "LA", "--reason", "refuge"}).code,
            kExitOk);
  json j = GetJson(c1);
  std::vector<std::string> paths;
  std::function<void(const json&, const std::string&)> walk = [&](const json& v,
                                                                  const std::string& path) {
    if (!v.is_object()) return;
    for (auto it = v.begin(); it != v.end(); ++it) {
      for (const auto& key : kHiddenKeys) {
        if (it.key() == key) paths.push_back(path + "." + key);
      }
      walk(it.value(), path + "." + it.key());
    }
  };
  walk(j, "");
  EXPECT_THAT(paths, IsEmpty()) << j.dump(2);
}

TEST_F(CliTest, ShieldWithoutReasonOrByIsAUsageError) {
  ASSERT_NO_FATAL_FAILURE(InitAndImport());
  const std::string id = std::to_string(Ids().at("c1"));
  CliResult no_reason = RunDb("shield", {id, "--by", "LA"});
  EXPECT_EQ(no_reason.code, kExitUsage) << no_reason;
  EXPECT_THAT(no_reason.err, HasSubstr("--reason"));
  CliResult blank_reason = RunDb("shield", {id, "--by", "LA", "--reason", "  "});
  EXPECT_EQ(blank_reason.code, kExitUsage) << blank_reason;
  EXPECT_THAT(blank_reason.err, HasSubstr("reason"));
  CliResult no_by = RunDb("shield", {id, "--reason", "refuge"});
  EXPECT_EQ(no_by.code, kExitUsage) << no_by;
  EXPECT_THAT(no_by.err, HasSubstr("--by"));
  CliResult unshield_no_reason = RunDb("unshield", {id, "--by", "LA"});
  EXPECT_EQ(unshield_no_reason.code, kExitUsage) << unshield_no_reason;
  // Nothing was shielded.
  EXPECT_EQ(GetJson(std::stoull(id))["shielded"], false);
}

TEST_F(CliTest, ShieldOfAnUnknownChildFails) {
  ASSERT_NO_FATAL_FAILURE(InitAndImport());
  CliResult r = RunDb("shield", {"999", "--by", "LA", "--reason", "refuge"});
  EXPECT_EQ(r.code, kExitFailure) << r;
  EXPECT_THAT(r.err, HasSubstr("999"));
}

// Several children in one command, each its own change in the order given: every id is
// checked before any child is touched, and a failure says where it stopped.
TEST_F(CliTest, ShieldTakesSeveralChildrenAndStopsAtTheFirstItCannotShield) {
  ASSERT_NO_FATAL_FAILURE(InitAndImport());
  auto ids = Ids();
  const std::string c1 = std::to_string(ids.at("c1")), c2 = std::to_string(ids.at("c2")),
                    c3 = std::to_string(ids.at("c3"));
  CliResult bad_id = RunDb("shield", {c1, "x7", "--by", "LA", "--reason", "refuge"});
  EXPECT_NE(bad_id.code, kExitOk) << bad_id;
  EXPECT_EQ(GetJson(ids.at("c1"))["shielded"], false) << "nothing touched before every id is checked";

  CliResult two = RunDb("shield", {c1, c2, "--by", "LA", "--reason", "refuge"});
  ASSERT_EQ(two.code, kExitOk) << two;
  EXPECT_EQ(two.out, "child " + c1 + " shielded\nchild " + c2 + " shielded\n");
  EXPECT_EQ(GetJson(ids.at("c1"))["shielded"], true);
  EXPECT_EQ(GetJson(ids.at("c2"))["shielded"], true);

  CliResult stops = RunDb("unshield", {c1, "999", c2, "--by", "LA", "--reason", "moved"});
  EXPECT_EQ(stops.code, kExitFailure) << stops;
  EXPECT_THAT(stops.err, HasSubstr("stopped at child 999"));
  EXPECT_EQ(GetJson(ids.at("c1"))["shielded"], false);
  EXPECT_EQ(GetJson(ids.at("c2"))["shielded"], true) << "after the failure: untouched";
  EXPECT_EQ(GetJson(ids.at("c3"))["shielded"], false);
}

// ---- phonetic ------------------------------------------------------------------------------

TEST_F(CliTest, PhoneticPrintsNamePrimaryAlternatePerLine) {
  CliResult r = Run({"phonetic", "Smith"});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_EQ(r.out, "Smith\tSM0\tXMT\n");

  CliResult many = Run({"phonetic", "Smith", "Schmidt", "Thompson"});
  ASSERT_EQ(many.code, kExitOk) << many;
  auto lines = Lines(many.out);
  ASSERT_EQ(lines.size(), 3u) << many;
  EXPECT_EQ(lines[0], "Smith\tSM0\tXMT");
  EXPECT_EQ(lines[1], "Schmidt\tXMT\tSMT");
  EXPECT_EQ(lines[2], "Thompson\tTMPS\tTMPS");

  EXPECT_EQ(Run({"phonetic"}).code, kExitUsage);
}

// ---- batch search --------------------------------------------------------------------------

class CliBatchTest : public CliTest {
 protected:
  static constexpr char kQueryHeader[] =
      "query_id,given_name,family_name,date_of_birth,dob_from,dob_to,gender,postcode,nhs_number,"
      "pupil_number,expected_source_key,noise\n";

  // The seven kinds of query, ids suffixed with `suffix`.
  static std::string Queries(const std::string& suffix) {
    return "q-exact" + suffix + ",Amelia,Thornbury,2016-03-14,,,,,,,c1,exact\n" +  //
           "q-bad-date" + suffix + ",Oliver,Pickering,2015-02-30,,,,,,,c2,dob_digit\n" + "q-nhs" +
           suffix + ",,,,,,,," + NhsC2() + ",,c2,exact\n" + "q-range" + suffix +
           ",Oliver,Pickering,,2015-01-01,2016-01-01,,,,,c2,dob_range\n" + "q-invalid" + suffix +
           ",Oliver,,,,,,,,,c2,exact\n" + "q-place" + suffix +
           ",,Thornbury,2016-03-14,,,F,LS6 9QT,,,c1,exact\n" + "q-utf8" + suffix +
           ",Zoë,Brontë,2017-05-20,,,,,,,c3,exact\n";
  }
};

TEST_F(CliBatchTest, OneJsonLinePerQueryInInputOrderAndStatsOnStderr) {
  ASSERT_NO_FATAL_FAILURE(InitAndImport());
  auto ids = Ids();
  const std::string file = Write("queries.csv", kQueryHeader + Queries(""));
  CliResult r = RunDb("search", {"--queries", file});
  ASSERT_EQ(r.code, kExitOk) << r;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 7u) << r;
  std::vector<json> q;
  for (const auto& line : lines) q.push_back(json::parse(line));
  const std::vector<std::string> order = {"q-exact",   "q-bad-date", "q-nhs", "q-range",
                                          "q-invalid", "q-place",    "q-utf8"};
  for (size_t i = 0; i < order.size(); ++i) {
    EXPECT_EQ(q[i]["query_id"], order[i]);
    EXPECT_TRUE(q[i]["results"].is_array()) << lines[i];
  }
  EXPECT_EQ(q[0]["status"], "ok");
  ASSERT_FALSE(q[0]["results"].empty());
  EXPECT_EQ(q[0]["results"][0]["child_id"], ids["c1"]);
  EXPECT_TRUE(q[0]["results"][0].contains("score"));
  EXPECT_EQ(q[1]["status"], "invalid_criteria");
  EXPECT_THAT(q[1]["message"].get<std::string>(), HasSubstr("date_of_birth"));
  EXPECT_EQ(q[1]["results"], json::array());
  EXPECT_EQ(ResultIds(q[2]), std::vector<uint64_t>{ids["c2"]});
  ASSERT_FALSE(q[3]["results"].empty()) << lines[3];
  EXPECT_EQ(q[3]["results"][0]["child_id"], ids["c2"]);
  EXPECT_EQ(q[4]["status"], "invalid_criteria");
  ASSERT_FALSE(q[5]["results"].empty()) << lines[5];
  EXPECT_EQ(q[5]["results"][0]["child_id"], ids["c1"]);
  ASSERT_FALSE(q[6]["results"].empty()) << lines[6];
  EXPECT_EQ(q[6]["results"][0]["child_id"], ids["c3"]);

  EXPECT_THAT(r.err, HasSubstr("queries 7"));
  EXPECT_THAT(r.err, HasSubstr("invalid 2"));
  EXPECT_THAT(r.err, HasSubstr("throughput"));
  EXPECT_THAT(r.err, HasSubstr("wall"));
  EXPECT_THAT(r.err, ContainsRegex("p50 [0-9.]+ us"));
  EXPECT_THAT(r.err, ContainsRegex("p99 [0-9.]+ us"));
  EXPECT_THAT(r.err, ContainsRegex("p99\\.9 [0-9.]+ us"));
}

TEST_F(CliBatchTest, FourThreadsGiveTheSameLinesAsOne) {
  ASSERT_NO_FATAL_FAILURE(InitAndImport());
  std::string queries = kQueryHeader;
  for (int i = 0; i < 60; ++i) queries += Queries("-" + std::to_string(i));
  const std::string file = Write("queries.csv", queries);
  CliResult one = RunDb("search", {"--queries", file, "--threads", "1"});
  CliResult four = RunDb("search", {"--queries", file, "--threads", "4"});
  ASSERT_EQ(one.code, kExitOk) << one;
  ASSERT_EQ(four.code, kExitOk) << four;
  EXPECT_EQ(Lines(one.out).size(), 420u);
  EXPECT_EQ(one.out, four.out);
  EXPECT_THAT(four.err, HasSubstr("threads 4"));
}

TEST_F(CliBatchTest, LimitAppliesToEveryQuery) {
  ASSERT_NO_FATAL_FAILURE(Init());
  std::string csv = kChildrenHeader;
  for (int i = 1; i <= 25; ++i)
    csv += "s" + std::to_string(i) + ",Jack,,Smith,,2015-06-01,M,,,,,,,,\n";
  ASSERT_EQ(RunDb("import", {"--source", "births", Write("smiths.csv", csv)}).code, kExitOk);
  const std::string file =
      Write("q.csv", "query_id,given_name,family_name,date_of_birth\nq1,Jack,Smith,2015-06-01\n");
  json capped = json::parse(RunDb("search", {"--queries", file}).out);
  EXPECT_EQ(capped["status"], "too_many_matches");
  EXPECT_EQ(capped["results"], json::array());
  json wide = json::parse(RunDb("search", {"--queries", file, "--limit", "30"}).out);
  EXPECT_EQ(wide["status"], "ok");
  EXPECT_EQ(wide["results"].size(), 25u);
}

TEST_F(CliBatchTest, QueryFileWithoutQueryIdColumnIsRefused) {
  ASSERT_NO_FATAL_FAILURE(InitAndImport());
  CliResult r = RunDb("search", {"--queries", Write("q.csv", "given_name,family_name\nA,B\n")});
  EXPECT_NE(r.code, kExitOk) << r;
  EXPECT_THAT(r.err, HasSubstr("query_id"));
  EXPECT_THAT(r.out, IsEmpty());
}

// ---- --help ----------------------------------------------------------------------------

TEST_F(CliTest, HelpWorksForEverySubcommandAndMentionsItsOptions) {
  const std::map<std::string, std::vector<std::string>> expected = {
      {"init", {"--db", "--key-file"}},
      {"import", {"--db", "--key-file", "--source", "--compact"}},
      {"upgrade", {"--db", "--key-file"}},
      {"search",
       {"--db", "--given", "--family", "--dob", "--dob-from", "--dob-to", "--gender", "--postcode",
        "--nhs-number", "--pupil-number", "--limit", "--json", "--queries", "--threads"}},
      {"get", {"--db", "--json"}},
      {"dump", {"--db", "--key-file"}},
      {"shield", {"--db", "--by", "--reason"}},
      {"unshield", {"--db", "--by", "--reason"}},
      {"phonetic", {"names"}},
      {"gen", {"--children", "--seed", "--out"}},
      {"gen-queries", {"--children-csv", "--count", "--seed", "--out"}},
  };
  for (const auto& [command, options] : expected) {
    CliResult r = Run({command, "--help"});
    EXPECT_EQ(r.code, kExitOk) << command << "\n" << r;
    for (const auto& option : options) {
      EXPECT_THAT(r.out, HasSubstr(option)) << command << " --help does not mention " << option;
    }
  }
  CliResult top = Run({"--help"});
  EXPECT_EQ(top.code, kExitOk) << top;
  for (const auto& [command, options] : expected) EXPECT_THAT(top.out, HasSubstr(command));
}

TEST_F(CliTest, NoSubcommandOrAnUnknownOneIsAUsageError) {
  EXPECT_EQ(Run({}).code, kExitUsage);
  EXPECT_EQ(Run({"frobnicate"}).code, kExitUsage);
  EXPECT_EQ(Run({"get", "--db", db_}).code, kExitUsage);  // no child id
}

// ---- gen -------------------------------------------------------------------------------

TEST_F(CliTest, GenWritesNRowsAndAHeaderAndTheSameSeedGivesTheSameFile) {
  const std::string a = dir_ + "/a.csv", b = dir_ + "/b.csv", c = dir_ + "/c.csv";
  const std::string d = dir_ + "/d.csv", e = dir_ + "/e.csv";
  for (const auto& [path, seed] :
       std::vector<std::pair<std::string, std::string>>{{a, "42"}, {b, "42"}, {c, "43"}}) {
    CliResult r =
        Run({"gen", "--children", "150", "--seed", seed, "--as-of", "2024-06-01", "--out", path});
    ASSERT_EQ(r.code, kExitOk) << r;
  }
  const std::string text = ReadFile(a);
  ASSERT_FALSE(text.empty());
  std::string header;
  // gen writes every column but the sensitive services (it generates none).
  for (size_t i = 0; i < kImportColumnsBeforeSensitive; ++i) {
    header += (header.empty() ? "" : ",") + kImportColumns[i];
  }
  EXPECT_THAT(text, StartsWith(header + "\n"));
  EXPECT_EQ(text, ReadFile(b));
  EXPECT_NE(text, ReadFile(c));

  // The file is in the import format: every row imports, one child per row.
  ASSERT_NO_FATAL_FAILURE(Init());
  CliResult imported = RunDb("import", {"--source", "gen", a});
  EXPECT_EQ(imported.code, kExitOk) << imported;
  EXPECT_THAT(imported.err, HasSubstr("150 rows, 150 imported, 0 rejected"));
  EXPECT_EQ(Lines(RunDb("dump").out).size(), 150u);

  // Without --as-of (today) the same seed still gives the same bytes.
  ASSERT_EQ(Run({"gen", "--children", "20", "--seed", "5", "--out", d}).code, kExitOk);
  ASSERT_EQ(Run({"gen", "--children", "20", "--seed", "5", "--out", e}).code, kExitOk);
  EXPECT_EQ(ReadFile(d), ReadFile(e));
}

TEST_F(CliTest, GenRowCountIsExact) {
  const std::string path = dir_ + "/g.csv";
  ASSERT_EQ(
      Run({"gen", "--children", "37", "--seed", "1", "--as-of", "2024-01-01", "--out", path}).code,
      kExitOk);
  size_t records = 0;
  {
    std::istringstream text(ReadFile(path));
    // Count CSV records, not lines: addresses are quoted and could hold line breaks.
    CsvReader reader(&text);
    std::vector<std::string> fields;
    std::string error;
    while (reader.Next(&fields, &error)) {
      EXPECT_EQ(error, "");
      EXPECT_EQ(fields.size(), kImportColumnsBeforeSensitive);
      ++records;
    }
  }
  EXPECT_EQ(records, 38u);  // header + 37
}

}  // namespace
}  // namespace cp
