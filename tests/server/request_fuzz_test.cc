// The request fuzz target's harness (server/fuzz/request_harness.h) replayed with GCC in
// CI, also under ASan/UBSan: every seed reaches the handler of its message type with a
// live session of the right role, 3,000 seeded mutations of the seeds are each answered
// with a response that verifies and keeps shielded fields out, and the response check
// itself catches what it exists to catch. Also: server/fuzz_corpus holds exactly the seed
// frames (CP_WRITE_FUZZ_CORPUS=1 rewrites it from server/fuzz/seed_frames.cc).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>

#include "server/fuzz/request_harness.h"
#include "server/fuzz/seed_frames.h"
#include "server/records.h"

namespace cp::server::fuzz {
namespace {

namespace fb = protocol;
using Bytes = std::vector<uint8_t>;

const std::filesystem::path kCorpus =
    std::filesystem::path(CP_TEST_DATA_DIR) / "../../server/fuzz_corpus";

Bytes ToBytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

// The envelope of a response frame, kept alive by `body`.
const fb::Envelope* Reply(const std::string& response, Bytes* body) {
  if (response.size() < kFrameHeaderBytes) return nullptr;
  body->assign(response.begin() + kFrameHeaderBytes, response.end());
  return VerifyEnvelope(*body);
}

TEST(RequestFuzzCorpus, FilesAreTheSeedFrames) {
  const auto seeds = SeedFrames();
  if (const char* w = std::getenv("CP_WRITE_FUZZ_CORPUS"); w && std::string(w) == "1") {
    for (const auto& entry : std::filesystem::directory_iterator(kCorpus))
      std::filesystem::remove(entry.path());
    for (const auto& s : seeds) {
      std::ofstream out(kCorpus / s.name, std::ios::binary);
      out << s.frame;
      ASSERT_TRUE(out.good()) << s.name;
    }
  }
  std::set<std::string> names;
  for (const auto& s : seeds) {
    names.insert(s.name);
    std::ifstream in(kCorpus / s.name, std::ios::binary);
    ASSERT_TRUE(in.good()) << "server/fuzz_corpus has no " << s.name
                           << ": run with CP_WRITE_FUZZ_CORPUS=1";
    const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(file, s.frame) << s.name
                             << " differs from seed_frames.cc: run with CP_WRITE_FUZZ_CORPUS=1";
  }
  EXPECT_EQ(names.size(), seeds.size()) << "two seeds share a name";
  for (const auto& entry : std::filesystem::directory_iterator(kCorpus)) {
    EXPECT_TRUE(names.count(entry.path().filename().string()))
        << entry.path() << " is no seed of seed_frames.cc";
  }
}

class RequestFuzzTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto h = RequestHarness::Create();
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    harness_ = std::move(*h);
  }
  RequestHarness::Outcome Run(const std::string& frame) {
    const Bytes bytes = ToBytes(frame);
    return harness_->Run(bytes);
  }
  using Builder = flatbuffers::FlatBufferBuilder;
  static constexpr uint64_t kId = 7;
  // A request frame of `type` carrying `session` (a placeholder or a live token).
  template <typename Make>
  static std::string Frame(const std::string& session, fb::Body type, Make make) {
    Builder fbb;
    return FinishFrame(fbb, kId, type, make(fbb), session);
  }
  RequestHarness::Outcome BreakGlass(const std::string& session) {
    return Run(Frame(session, fb::Body::BreakGlass,
                     [](Builder& b) { return fb::CreateBreakGlassDirect(b, "test").Union(); }));
  }
  RequestHarness::Outcome ViewShielded(const std::string& session) {
    return Run(Frame(session, fb::Body::GetRecord, [&](Builder& b) {
      return fb::CreateGetRecordDirect(b, harness_->shielded_child(), "test").Union();
    }));
  }
  // The child a record view answered with, kept alive by `body`; null for any other answer.
  static const fb::Child* Viewed(const RequestHarness::Outcome& out, Bytes* body) {
    const fb::Envelope* r = Reply(out.response, body);
    if (r == nullptr || r->body_as_RecordResult() == nullptr) return nullptr;
    return r->body_as_RecordResult()->child();
  }
  std::unique_ptr<RequestHarness> harness_;
};

TEST_F(RequestFuzzTest, EverySeedReachesItsHandler) {
  // The result each seed must get: its own, never a refusal of its session or role.
  const std::map<std::string, fb::Body> expected = {
      {"hello", fb::Body::HelloResult},
      {"login", fb::Body::LoginChallenge},
      {"search", fb::Body::SearchResult},
      {"get_record", fb::Body::RecordResult},
      {"feed_batch", fb::Body::FeedBatchResult},
      {"review_list", fb::Body::ReviewListResult},
      {"create_organisation", fb::Body::OrganisationResult},
      {"add_address_range", fb::Body::OrganisationResult},
      {"create_user", fb::Body::NewUserResult},
      {"set_user_role", fb::Body::AccountResult},
      {"lock_user", fb::Body::AccountResult},
      {"unlock_user", fb::Body::AccountResult},
      {"health", fb::Body::HealthResult}};
  for (const auto& seed : SeedFrames()) {
    SCOPED_TRACE(seed.name);
    const auto out = Run(seed.frame);
    EXPECT_TRUE(out.problem.empty()) << out.problem;
    if (seed.name == "error") {
      EXPECT_EQ(out.check.verdict, FrameVerdict::kNotARequest);
      continue;
    }
    ASSERT_EQ(out.check.verdict, FrameVerdict::kRequest);
    Bytes body;
    const fb::Envelope* r = Reply(out.response, &body);
    ASSERT_NE(r, nullptr);
    const bool sessionless = seed.name == "hello" || seed.name == "login" ||
                             seed.name == "second_factor" || seed.name == "health";
    EXPECT_EQ(out.role.empty(), sessionless) << "role '" << out.role << "'";
    if (const fb::Error* e = r->body_as_Error()) {
      if (!sessionless) {
        EXPECT_NE(e->code(), fb::ErrorCode::NotAuthenticated) << "the placeholder was not replaced";
        EXPECT_NE(e->code(), fb::ErrorCode::NotAuthorised) << "the seed's role may not do this";
      }
      EXPECT_FALSE(expected.count(seed.name))
          << ErrorCodeName(e->code()) << ": " << (e->message() ? e->message()->str() : "");
    } else if (expected.count(seed.name)) {
      EXPECT_EQ(r->body_type(), expected.at(seed.name));
    }
    if (seed.name == "search") {
      ASSERT_NE(r->body_as_SearchResult(), nullptr);
      EXPECT_EQ(r->body_as_SearchResult()->results()->size(), 1u);  // Olivia Smith
    }
  }
}

TEST_F(RequestFuzzTest, ALoggedOutSessionIsOpenedAgain) {
  std::string search, logout;
  for (const auto& seed : SeedFrames()) {
    if (seed.name == "search") search = seed.frame;
    if (seed.name == "logout") logout = seed.frame;
  }
  const uint64_t logins = harness_->logins();
  EXPECT_TRUE(Run(logout).problem.empty());
  Bytes body;
  auto refused = Run(search);
  const fb::Envelope* r = Reply(refused.response, &body);
  ASSERT_NE(r, nullptr);
  ASSERT_NE(r->body_as_Error(), nullptr);
  EXPECT_EQ(r->body_as_Error()->code(), fb::ErrorCode::NotAuthenticated);
  EXPECT_EQ(harness_->logins(), logins + 1);
  auto again = Run(search);
  r = Reply(again.response, &body);
  ASSERT_NE(r, nullptr);
  EXPECT_NE(r->body_as_SearchResult(), nullptr);
}

// A fuzzed SetUserRole may take a role's user its role away, and fuzzed logins may lock
// it: the session opened again has its role back.
TEST_F(RequestFuzzTest, ASessionOpenedAgainHasItsRoleBack) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = fb::CreateSetUserRoleDirect(fbb, "fuzz_police", "feed_supplier");
  const std::string demote =
      FinishFrame(fbb, 9, fb::Body::SetUserRole, body.Union(), SessionPlaceholder("system_admin"));
  std::string search, logout;
  for (const auto& seed : SeedFrames()) {
    if (seed.name == "search") search = seed.frame;
    if (seed.name == "logout") logout = seed.frame;
  }
  Bytes reply;
  auto demoted = Run(demote);
  const fb::Envelope* r = Reply(demoted.response, &reply);
  ASSERT_NE(r, nullptr);
  ASSERT_NE(r->body_as_AccountResult(), nullptr);
  EXPECT_TRUE(Run(logout).problem.empty());
  EXPECT_TRUE(Run(search).problem.empty());  // NotAuthenticated, then a new login
  auto found = Run(search);
  r = Reply(found.response, &reply);
  ASSERT_NE(r, nullptr);
  EXPECT_NE(r->body_as_SearchResult(), nullptr)
      << (r->body_as_Error() ? ErrorCodeName(r->body_as_Error()->code()) : "");
}

// libFuzzer learns the live tokens from the handler's comparisons and puts them in frames
// as they are: such a request is judged as its role's, so a child protection officer who
// broke glass may see a shielded child, and a police officer still may not.
TEST_F(RequestFuzzTest, ALiveTokenGivenVerbatimSpeaksForItsRole) {
  const std::string officer = harness_->token("child_protection");
  auto glass = BreakGlass(officer);
  EXPECT_EQ(glass.role, "child_protection");
  Bytes body;
  const fb::Envelope* r = Reply(glass.response, &body);
  ASSERT_NE(r, nullptr);
  ASSERT_NE(r->body_as_BreakGlassResult(), nullptr);

  auto seen = ViewShielded(officer);
  EXPECT_EQ(seen.role, "child_protection");
  EXPECT_TRUE(seen.problem.empty()) << seen.problem;
  const fb::Child* child = Viewed(seen, &body);
  ASSERT_NE(child, nullptr);
  EXPECT_NE(child->hidden(), nullptr) << "glass was not broken";
  // The same response judged as a session that cannot have broken glass is a leak.
  EXPECT_FALSE(RequestHarness::CheckResponse(seen.response, kId, "").empty());

  auto police = ViewShielded(harness_->token("police"));
  EXPECT_EQ(police.role, "police");
  EXPECT_TRUE(police.problem.empty()) << police.problem;
  child = Viewed(police, &body);
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(child->hidden(), nullptr);
}

// An administrator's role change applies to the user's open session at once: a child
// protection officer who broke glass and is made a police officer sees a shielded child
// as police do, and may not break glass again.
TEST_F(RequestFuzzTest, ARoleChangeAppliesToTheOpenSessionAndMendsTheGlass) {
  const std::string officer = SessionPlaceholder("child_protection");
  Bytes body;
  const fb::Envelope* r = Reply(BreakGlass(officer).response, &body);
  ASSERT_NE(r, nullptr);
  ASSERT_NE(r->body_as_BreakGlassResult(), nullptr);
  auto before = ViewShielded(officer);
  const fb::Child* child = Viewed(before, &body);
  ASSERT_NE(child, nullptr);
  EXPECT_NE(child->hidden(), nullptr);

  auto demoted =
      Run(Frame(SessionPlaceholder("system_admin"), fb::Body::SetUserRole, [](Builder& b) {
        return fb::CreateSetUserRoleDirect(b, "fuzz_child_protection", "police").Union();
      }));
  r = Reply(demoted.response, &body);
  ASSERT_NE(r, nullptr);
  ASSERT_NE(r->body_as_AccountResult(), nullptr);

  auto after = ViewShielded(officer);
  EXPECT_EQ(after.role, "child_protection");  // the session's placeholder
  EXPECT_TRUE(after.problem.empty()) << after.problem;
  child = Viewed(after, &body);
  ASSERT_NE(child, nullptr) << "the session is still open";
  EXPECT_EQ(child->hidden(), nullptr) << "the glass is mended";
  r = Reply(BreakGlass(officer).response, &body);
  ASSERT_NE(r, nullptr);
  ASSERT_NE(r->body_as_Error(), nullptr);
  EXPECT_EQ(r->body_as_Error()->code(), fb::ErrorCode::NotAuthorised);
  // Judged as the police officer the user now is, the first view would be a leak.
  EXPECT_FALSE(RequestHarness::CheckResponse(before.response, kId, "police").empty());
}

// A crash the fuzzer reports ends the process without the destructor; the next harness
// removes the database a dead process left, and nothing else.
TEST(RequestHarnessFiles, ADeadProcesssDatabaseIsRemovedByTheNextHarness) {
  const std::string base = access("/dev/shm", W_OK) == 0
                               ? std::string("/dev/shm")
                               : std::filesystem::temp_directory_path().string();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);  // a pid no process has now
  const std::string orphan = base + "/cp_request_fuzz_" + std::to_string(child) + "_test01";
  const std::string live = base + "/cp_request_fuzz_" + std::to_string(getpid()) + "_test02";
  const std::string other = base + "/cp_request_fuzz_notapid_test03";
  for (const auto& d : {orphan, live, other}) {
    ASSERT_TRUE(std::filesystem::create_directories(d + "/db")) << d;
  }
  auto h = RequestHarness::Create();
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(orphan));
  EXPECT_TRUE(std::filesystem::exists(live)) << "this process is alive";
  EXPECT_TRUE(std::filesystem::exists(other)) << "not a harness's name";
  for (const auto& d : {live, other}) std::filesystem::remove_all(d);
}

TEST_F(RequestFuzzTest, SeededMutationsAreAnsweredSafely) {
  const auto seeds = SeedFrames();
  std::mt19937_64 rng(20261129);
  auto below = [&rng](size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng() % n); };
  std::map<std::string, int> answers;  // response body type or error code name
  int handled = 0;
  constexpr int kInputs = 3000;
  for (int i = 0; i < kInputs; ++i) {
    Bytes frame = ToBytes(seeds[below(seeds.size())].frame);
    const size_t body = frame.size() - kFrameHeaderBytes;
    switch (i % 3) {
      case 0: {  // a few bit flips in the body
        for (size_t f = 0, n = 1 + below(4); f < n; ++f)
          frame[kFrameHeaderBytes + below(body)] ^= static_cast<uint8_t>(1u << below(8));
        break;
      }
      case 1: {  // bytes set to values a parser cares about
        const uint8_t values[] = {0, 1, 0x7f, 0x80, 0xff, '-', '9', ' ', ','};
        for (size_t f = 0, n = 1 + below(4); f < n; ++f)
          frame[kFrameHeaderBytes + below(body)] = values[below(std::size(values))];
        break;
      }
      default: {  // a run of printable bytes (strings: names, dates, CSV, reasons)
        const size_t at = kFrameHeaderBytes + below(body);
        for (size_t k = at, end = std::min(frame.size(), at + 1 + below(12)); k < end; ++k)
          frame[k] = static_cast<uint8_t>(' ' + below(95));
        break;
      }
    }
    const auto out = harness_->Run(frame);
    ASSERT_TRUE(out.problem.empty()) << "input #" << i << ": " << out.problem;
    if (out.check.verdict != FrameVerdict::kRequest) continue;
    ++handled;
    Bytes reply;
    const fb::Envelope* r = Reply(out.response, &reply);
    ASSERT_NE(r, nullptr);
    ++answers[r->body_as_Error() ? ErrorCodeName(r->body_as_Error()->code())
                                 : fb::EnumNameBody(r->body_type())];
  }
  std::string seen;
  for (const auto& [what, n] : answers) seen += " " + what + "=" + std::to_string(n);
  std::printf("handled %d of %d:%s\n", handled, kInputs, seen.c_str());
  // The mutations reach the handlers, not just the verifier: results and refusals both.
  EXPECT_GT(handled, kInputs / 4);
  EXPECT_GT(answers["SearchResult"], 0);
  EXPECT_GT(answers["RecordResult"], 0);
  EXPECT_GT(answers["FeedBatchResult"], 0);
  EXPECT_GT(answers["invalid_request"] + answers["invalid_criteria"] + answers["missing_reason"],
            0);
}

// The response check is the fuzzer's oracle: it must fail on what it exists to catch.
TEST(RequestHarnessCheck, CatchesLeaksWrongIdsAndNonResults) {
  ChildView shielded;
  shielded.record.id = 7;
  shielded.record.given_name = "Lily";
  shielded.record.shield.shielded = true;
  shielded.hidden = HiddenFields{};
  shielded.hidden->postcode = "LS1 1AA";
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<fb::Child>> results{ChildToFb(fbb, shielded, 0.9)};
  const std::string leak = FinishFrame(fbb, 5, fb::Body::SearchResult,
                                       fb::CreateSearchResultDirect(fbb, &results).Union());
  EXPECT_NE(RequestHarness::CheckResponse(leak, 5, "police"), "");
  EXPECT_EQ(RequestHarness::CheckResponse(leak, 5, "child_protection"), "");  // broken glass
  EXPECT_NE(RequestHarness::CheckResponse(leak, 6, "child_protection"), "");  // another id
  const std::string error = ErrorFrame(5, fb::ErrorCode::NotFound, "no child 7");
  EXPECT_EQ(RequestHarness::CheckResponse(error, 5, "police"), "");
  EXPECT_NE(RequestHarness::CheckResponse(error.substr(0, error.size() - 1), 5, "police"), "");
  EXPECT_NE(RequestHarness::CheckResponse("", 5, "police"), "");
}

}  // namespace
}  // namespace cp::server::fuzz
