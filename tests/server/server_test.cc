// contactpointd end to end over TLS on a loopback port: every message the server serves
// and every refusal path, driven through the client library.
#include <gtest/gtest.h>

#include <future>

#include "server/records.h"
#include "storage/audit_log.h"
#include "tests/server/server_fixture.h"
#include "tests/server/test_accounts.h"

namespace cp::server::testing {
namespace {

namespace fb = protocol;
using fb::ErrorCode;

constexpr char kSocialCare[] = "la_social_care";

SearchRequest OliviaQuery() {
  SearchRequest q;
  q.given_name = "Olivia";
  q.family_name = "Smith";
  q.date_of_birth = "2016-03-02";
  return q;
}

SearchRequest LilyQuery() {
  SearchRequest q;
  q.given_name = "Lily";
  q.family_name = "Evans";
  q.date_of_birth = "2015-05-05";
  return q;
}

std::vector<ChildView> Children(const Result<Response>& r) {
  std::vector<ChildView> out;
  if (!r.ok() || r->error()) return out;
  const auto* result = r->envelope().body_as_SearchResult();
  if (result == nullptr || result->results() == nullptr) return out;
  for (const auto* c : *result->results()) out.push_back(ChildFromFb(*c, nullptr));
  return out;
}

std::string RawBodyFrame(fb::Body type, uint64_t id, bool with_body = true) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = fb::CreateHealth(fbb);
  return FinishFrame(fbb, id, type, with_body ? body.Union() : flatbuffers::Offset<void>());
}

std::string Header(uint32_t n) {
  std::string h(4, '\0');
  for (int i = 0; i < 4; ++i) h[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return h;
}

// ---- Without a session ------------------------------------------------------------------

TEST_F(ServerTest, HelloAgreesOnVersionOne) {
  auto c = Connect();
  auto r = c->Hello();
  ASSERT_EQ(CodeOf(r), ErrorCode::None);
  EXPECT_EQ(r->envelope().body_as_HelloResult()->version(), kProtocolVersion);
  EXPECT_EQ(r->envelope().id(), 1u);
}

TEST_F(ServerTest, HelloWithoutACommonVersionIsRefused) {
  auto c = Connect();
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<uint16_t> versions{7, 8};
  auto body = fb::CreateHelloDirect(fbb, &versions, "future");
  EXPECT_EQ(CodeOf(c->Call(fbb, fb::Body::Hello, body.Union())), ErrorCode::UnsupportedVersion);
}

TEST_F(ServerTest, HealthNeedsNoSession) {
  auto c = Connect();
  auto r = c->Health();
  ASSERT_EQ(CodeOf(r), ErrorCode::None);
  EXPECT_EQ(r->envelope().body_as_HealthResult()->status()->str(), "serving");
  EXPECT_GE(r->envelope().body_as_HealthResult()->connections(), 1u);
}

TEST_F(ServerTest, RecordOperationsWithoutASessionAreNotAuthenticated) {
  auto c = Connect();
  EXPECT_EQ(CodeOf(c->Search(OliviaQuery(), "enquiry")), ErrorCode::NotAuthenticated);
  EXPECT_EQ(CodeOf(c->GetRecord(olivia_, "enquiry")), ErrorCode::NotAuthenticated);
  c->set_session("0000");
  EXPECT_EQ(CodeOf(c->Search(OliviaQuery(), "enquiry")), ErrorCode::NotAuthenticated);
  // Audited with no user, the address and what was asked.
  size_t refused = 0;
  for (const auto& e : audit_->For("")) {
    if (e.outcome != "not_authenticated") continue;
    ++refused;
    EXPECT_EQ(e.address, "127.0.0.1");
    if (e.action == "search") {
      EXPECT_NE(e.criteria.find("family=Smith"), std::string::npos);
    }
  }
  EXPECT_GE(refused, 3u);
}

TEST_F(ServerTest, RefusalsWithoutASessionAreAuditedAtABoundedRate) {
  auto c = Connect();
  c->set_session("dead");
  auto count = [this] {
    size_t n = 0;
    for (const auto& e : audit_->For("")) n += e.outcome == "not_authenticated";
    return n;
  };
  const size_t before = count();
  constexpr size_t kTries = 150;  // more than the bucket holds
  for (size_t i = 0; i < kTries; ++i) {
    ASSERT_EQ(CodeOf(c->GetRecord(olivia_, "enquiry")), ErrorCode::NotAuthenticated);
  }
  const size_t audited = count() - before;
  EXPECT_GE(audited, 1u);
  EXPECT_LT(audited, kTries);  // every one refused, not every one written
}

// ---- Login ------------------------------------------------------------------------------

TEST_F(ServerTest, PasswordThenCodeGivesASession) {
  AddUser("login-ok", "voluntary");
  auto c = Connect();
  auto r = c->LogIn("login-ok", Password("login-ok"), Code("login-ok"));
  ASSERT_EQ(CodeOf(r), ErrorCode::None);
  const auto* s = r->envelope().body_as_SessionResult();
  EXPECT_EQ(s->token()->size(), 64u);
  EXPECT_EQ(s->result_cap(), 10);
  EXPECT_EQ(s->role()->str(), "voluntary");
  EXPECT_GT(s->idle_timeout_s(), 0u);
  EXPECT_EQ(CodeOf(c->Search(OliviaQuery(), "enquiry")), ErrorCode::None);
}

TEST_F(ServerTest, WrongPasswordAndUnknownUserLookTheSame) {
  AddUser("login-bad-pw", kSocialCare);
  auto c = Connect();
  auto wrong = c->Login("login-bad-pw", "nope");
  auto unknown = c->Login("nobody-at-all", "nope");
  EXPECT_EQ(CodeOf(wrong), ErrorCode::BadCredentials);
  EXPECT_EQ(CodeOf(unknown), ErrorCode::BadCredentials);
  EXPECT_EQ(wrong->error()->message()->str(), unknown->error()->message()->str());
}

TEST_F(ServerTest, WrongCodeIsBadCode) {
  AddUser("login-bad-code", kSocialCare);
  auto c = Connect();
  std::string wrong = Code("login-bad-code");
  wrong[0] = wrong[0] == '9' ? '0' : static_cast<char>(wrong[0] + 1);
  EXPECT_EQ(CodeOf(c->LogIn("login-bad-code", Password("login-bad-code"), wrong)),
            ErrorCode::BadCode);
  EXPECT_TRUE(c->session().empty());
}

TEST_F(ServerTest, RepeatedFailuresLockTheAccount) {
  AddUser("login-locked", kSocialCare);
  auto c = Connect();
  EXPECT_EQ(CodeOf(c->Login("login-locked", "wrong password")), ErrorCode::BadCredentials);
  EXPECT_EQ(CodeOf(c->Login("login-locked", "wrong password")), ErrorCode::BadCredentials);
  const ErrorCode third = CodeOf(c->Login("login-locked", "wrong password"));
  EXPECT_TRUE(third == ErrorCode::BadCredentials || third == ErrorCode::Locked)
      << static_cast<int>(third);
  EXPECT_EQ(CodeOf(c->Login("login-locked", Password("login-locked"))), ErrorCode::Locked);
  EXPECT_TRUE(IsLocked(services_, "login-locked"));
}

TEST_F(ServerTest, UnregisteredAddressIsRefusedBeforeThePasswordIsChecked) {
  AddUser("login-elsewhere", kSocialCare, /*registered=*/false);
  auto c = Connect();
  EXPECT_EQ(CodeOf(c->Login("login-elsewhere", Password("login-elsewhere"))),
            ErrorCode::UnregisteredAddress);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(CodeOf(c->Login("login-elsewhere", "wrong password")),
              ErrorCode::UnregisteredAddress);
  }
  // No credential was checked: no failure counted, no lockout.
  EXPECT_EQ(FailedAttempts(services_, "login-elsewhere"), 0u);
  EXPECT_FALSE(IsLocked(services_, "login-elsewhere"));
  auto events = audit_->For("login-elsewhere");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().outcome, "unregistered_address");
}

TEST_F(ServerTest, StaleTicketIsNotAuthenticated) {
  auto c = Connect();
  EXPECT_EQ(CodeOf(c->SecondFactor("feedface", "123456")), ErrorCode::NotAuthenticated);
}

TEST_F(ServerTest, LogoutEndsTheSession) {
  AddUser("logout", kSocialCare);
  auto c = LoggedIn("logout");
  const std::string token = c->session();
  ASSERT_EQ(CodeOf(c->Logout()), ErrorCode::None);
  EXPECT_EQ(audit_->For("logout").back().action, "logout");
  c->set_session(token);
  EXPECT_EQ(CodeOf(c->Search(OliviaQuery(), "enquiry")), ErrorCode::NotAuthenticated);
}

TEST_F(ServerTest, ASessionWorksOnANewConnection) {
  AddUser("two-connections", kSocialCare);
  auto first = LoggedIn("two-connections");
  auto second = Connect();
  second->set_session(first->session());
  EXPECT_EQ(CodeOf(second->Search(OliviaQuery(), "enquiry")), ErrorCode::None);
}

// ---- Search and records -----------------------------------------------------------------

TEST_F(ServerTest, SearchFindsTheChildAndTheAuditEntryIsWrittenFirst) {
  AddUser("search-ok", kSocialCare);
  auto c = LoggedIn("search-ok");
  auto r = c->Search(OliviaQuery(), "school place enquiry");
  ASSERT_EQ(CodeOf(r), ErrorCode::None);
  auto children = Children(r);
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0].record.id, olivia_);
  ASSERT_TRUE(children[0].hidden.has_value());  // not shielded
  EXPECT_EQ(children[0].hidden->postcode, "LS1 1AA");
  auto events = audit_->For("search-ok");
  ASSERT_FALSE(events.empty());
  const AuditEvent& e = events.back();
  EXPECT_EQ(e.action, "search");
  EXPECT_EQ(e.outcome, "ok");
  EXPECT_EQ(e.reason, "school place enquiry");
  EXPECT_EQ(e.address, "127.0.0.1");
  EXPECT_EQ(e.organisation, "la_leeds");
  EXPECT_EQ(e.children, std::vector<ChildId>{olivia_});
  EXPECT_NE(e.criteria.find("family=Smith"), std::string::npos);
}

TEST_F(ServerTest, ShieldedChildHasNoHiddenFieldsForAnOrdinaryUser) {
  AddUser("search-shielded", kSocialCare);
  auto c = LoggedIn("search-shielded");
  auto r = c->Search(LilyQuery(), "enquiry");
  auto children = Children(r);
  ASSERT_EQ(children.size(), 1u);
  EXPECT_TRUE(children[0].record.shield.shielded);
  EXPECT_FALSE(children[0].hidden.has_value());
  EXPECT_EQ(r->envelope().body_as_SearchResult()->results()->Get(0)->hidden(), nullptr);
  auto g = c->GetRecord(lily_, "enquiry");
  ASSERT_EQ(CodeOf(g), ErrorCode::None);
  EXPECT_EQ(g->envelope().body_as_RecordResult()->child()->hidden(), nullptr);
  EXPECT_TRUE(g->envelope().body_as_RecordResult()->child()->shielded());
}

TEST_F(ServerTest, MissingReasonIsRefusedAndAudited) {
  AddUser("no-reason", kSocialCare);
  auto c = LoggedIn("no-reason");
  EXPECT_EQ(CodeOf(c->Search(OliviaQuery(), "")), ErrorCode::MissingReason);
  EXPECT_EQ(CodeOf(c->Search(OliviaQuery(), "  \t ")), ErrorCode::MissingReason);
  EXPECT_EQ(CodeOf(c->GetRecord(olivia_, "")), ErrorCode::MissingReason);
  auto events = audit_->For("no-reason");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().outcome, "missing_reason");
}

TEST_F(ServerTest, InvalidCriteriaAndTooManyMatches) {
  AddUser("criteria", kSocialCare);
  auto c = LoggedIn("criteria");
  SearchRequest surname_only;
  surname_only.family_name = "Jones";
  auto invalid = c->Search(surname_only, "enquiry");
  ASSERT_EQ(CodeOf(invalid), ErrorCode::InvalidCriteria);
  EXPECT_NE(invalid->error()->message()->str().find("NHS number"), std::string::npos);
  SearchRequest bad_date = OliviaQuery();
  bad_date.date_of_birth = "2016-02-30";
  EXPECT_EQ(CodeOf(c->Search(bad_date, "enquiry")), ErrorCode::InvalidCriteria);
  SearchRequest amelia;
  amelia.given_name = "Amelia";
  amelia.family_name = "Jones";
  amelia.date_of_birth = "2014-01-01";
  amelia.limit = 2;
  EXPECT_EQ(CodeOf(c->Search(amelia, "enquiry")), ErrorCode::TooManyMatches);
  EXPECT_EQ(audit_->For("criteria").back().outcome, "too_many_matches");
  amelia.limit = 3;
  EXPECT_EQ(Children(c->Search(amelia, "enquiry")).size(), 3u);
}

TEST_F(ServerTest, TheRolesCapBoundsTheLimit) {
  AddUser("small-cap", "voluntary");  // cap 10
  AddUser("large-cap", kSocialCare);  // cap 20
  SearchRequest isla;
  isla.given_name = "Isla";
  isla.family_name = "Brown";
  isla.date_of_birth = "2013-07-07";
  isla.limit = 50;  // asks for more than either role allows
  EXPECT_EQ(CodeOf(LoggedIn("small-cap")->Search(isla, "enquiry")), ErrorCode::TooManyMatches);
  EXPECT_EQ(Children(LoggedIn("large-cap")->Search(isla, "enquiry")).size(), 11u);
}

TEST_F(ServerTest, GetRecordOfAnUnknownChildIsNotFound) {
  AddUser("get-missing", kSocialCare);
  auto c = LoggedIn("get-missing");
  EXPECT_EQ(CodeOf(c->GetRecord(999999, "enquiry")), ErrorCode::NotFound);
  auto ok = c->GetRecord(olivia_, "enquiry");
  ASSERT_EQ(CodeOf(ok), ErrorCode::None);
  EXPECT_EQ(ok->envelope().body_as_RecordResult()->child()->child_id(), olivia_);
  EXPECT_EQ(audit_->For("get-missing").back().action, "get");
}

TEST_F(ServerTest, ARoleWithoutThePermissionIsNotAuthorised) {
  AddUser("look-up-only", kSocialCare);
  auto c = LoggedIn("look-up-only");
  EXPECT_EQ(CodeOf(c->SetShield(olivia_, true, "risk")), ErrorCode::NotAuthorised);
  EXPECT_EQ(CodeOf(c->SetShield(olivia_, false, "risk")), ErrorCode::NotAuthorised);
  EXPECT_EQ(CodeOf(c->BreakGlass("emergency")), ErrorCode::NotAuthorised);
  EXPECT_EQ(audit_->For("look-up-only").back().outcome, "not_authorised");
  AddUser("feed-account", "feed_supplier");
  auto feed = LoggedIn("feed-account");
  EXPECT_EQ(CodeOf(feed->Search(OliviaQuery(), "enquiry")), ErrorCode::NotAuthorised);
  EXPECT_EQ(CodeOf(feed->GetRecord(olivia_, "enquiry")), ErrorCode::NotAuthorised);
}

TEST_F(ServerTest, OverTheDailyQuota) {
  AddUser("quota", "voluntary");  // 30 searches a day
  auto c = LoggedIn("quota");
  for (int i = 0; i < 30; ++i)
    ASSERT_EQ(CodeOf(c->Search(OliviaQuery(), "enquiry")), ErrorCode::None) << i;
  EXPECT_EQ(CodeOf(c->Search(OliviaQuery(), "enquiry")), ErrorCode::QuotaExceeded);
  EXPECT_EQ(audit_->For("quota").back().outcome, "quota_exceeded");
  EXPECT_EQ(CodeOf(c->GetRecord(olivia_, "enquiry")), ErrorCode::None);  // views are not searches
}

TEST_F(ServerTest, RateLimitedWithARetryTime) {
  AddUser("rate", kSocialCare);
  auto c = LoggedIn("rate");
  Result<Response> last = Status::NotFound("none");
  for (int i = 0; i < 41; ++i) last = c->GetRecord(olivia_, "enquiry");
  ASSERT_EQ(CodeOf(last), ErrorCode::RateLimited);
  EXPECT_GT(last->error()->retry_after_ms(), 0u);
  EXPECT_EQ(audit_->For("rate").back().outcome, "rate_limited");
}

TEST_F(ServerTest, AFailedAuditAppendMeansAnErrorAndNoData) {
  AddUser("audit-down", kSocialCare);
  auto c = LoggedIn("audit-down");
  audit_->set_fail(true);
  auto r = c->Search(OliviaQuery(), "enquiry");
  auto g = c->GetRecord(olivia_, "enquiry");
  audit_->set_fail(false);
  EXPECT_EQ(CodeOf(r), ErrorCode::Internal);
  EXPECT_EQ(CodeOf(g), ErrorCode::Internal);
}

TEST_F(ServerTest, TheAuditTrailHoldsTheEntriesAndVerifies) {
  AddUser("audited", kSocialCare);
  auto c = LoggedIn("audited");
  ASSERT_EQ(CodeOf(c->Search(OliviaQuery(), "looked for Olivia")), ErrorCode::None);
  ASSERT_EQ(CodeOf(c->GetRecord(olivia_, "opened her record")), ErrorCode::None);
  std::vector<AuditEntry> entries;
  bool complete = false;
  AuditReader reader(store_);
  ASSERT_TRUE(reader.QueryUser("audited", AuditTimeRange{}, 100, &entries, &complete).ok());
  ASSERT_GE(entries.size(), 3u);  // login, search, view
  const AuditEntry& search = entries[entries.size() - 2];
  const AuditEntry& view = entries.back();
  EXPECT_EQ(search.action, AuditAction::kSearch);
  EXPECT_EQ(search.outcome, AuditOutcome::kOk);
  EXPECT_EQ(search.reason, "looked for Olivia");
  EXPECT_EQ(search.source_address, "127.0.0.1");
  EXPECT_EQ(search.organisation, "la_leeds");
  EXPECT_EQ(search.children, std::vector<ChildId>{olivia_});
  EXPECT_EQ(view.action, AuditAction::kView);
  EXPECT_EQ(view.reason, "opened her record");
  auto verified = reader.Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->intact) << verified->problem;
}

// ---- Shielding and break-glass ----------------------------------------------------------

TEST_F(ServerTest, ShieldingManagerShieldsAndUnshields) {
  AddUser("shielder", "shielding_manager");
  AddUser("shield-viewer", kSocialCare);
  auto m = LoggedIn("shielder");
  EXPECT_EQ(CodeOf(m->SetShield(olivia_, true, "")), ErrorCode::MissingReason);
  auto s = m->SetShield(olivia_, true, "fleeing violence");
  ASSERT_EQ(CodeOf(s), ErrorCode::None);
  EXPECT_TRUE(s->envelope().body_as_ShieldResult()->shielded());
  auto v = LoggedIn("shield-viewer");
  auto children = Children(v->Search(OliviaQuery(), "enquiry"));
  ASSERT_EQ(children.size(), 1u);
  EXPECT_FALSE(children[0].hidden.has_value());
  ASSERT_EQ(CodeOf(m->SetShield(olivia_, false, "risk has passed")), ErrorCode::None);
  children = Children(v->Search(OliviaQuery(), "enquiry"));
  ASSERT_EQ(children.size(), 1u);
  EXPECT_TRUE(children[0].hidden.has_value());
  EXPECT_EQ(CodeOf(m->SetShield(999999, true, "x")), ErrorCode::NotFound);
  EXPECT_EQ(audit_->For("shielder").back().action, "shield");
}

TEST_F(ServerTest, BreakGlassShowsHiddenFieldsForThatSessionOnly) {
  AddUser("child-protection", "child_protection");
  auto c = LoggedIn("child-protection");
  EXPECT_EQ(CodeOf(c->BreakGlass(" ")), ErrorCode::MissingReason);
  auto before = c->GetRecord(lily_, "s47 enquiry");
  ASSERT_EQ(CodeOf(before), ErrorCode::None);
  EXPECT_EQ(before->envelope().body_as_RecordResult()->child()->hidden(), nullptr);
  auto bg = c->BreakGlass("child at immediate risk");
  ASSERT_EQ(CodeOf(bg), ErrorCode::None);
  EXPECT_TRUE(bg->envelope().body_as_BreakGlassResult()->audit_flagged());
  auto events = audit_->For("child-protection");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().action, "break_glass");
  EXPECT_TRUE(events.back().investigation);
  auto after = c->GetRecord(lily_, "s47 enquiry");
  ASSERT_EQ(CodeOf(after), ErrorCode::None);
  ASSERT_NE(after->envelope().body_as_RecordResult()->child()->hidden(), nullptr);
  EXPECT_EQ(after->envelope().body_as_RecordResult()->child()->hidden()->postcode()->str(),
            "LS1 1AA");
  EXPECT_TRUE(audit_->For("child-protection").back().investigation);
  auto other = LoggedIn("child-protection");  // a second session of the same user
  auto plain = other->GetRecord(lily_, "s47 enquiry");
  ASSERT_EQ(CodeOf(plain), ErrorCode::None);
  EXPECT_EQ(plain->envelope().body_as_RecordResult()->child()->hidden(), nullptr);
}

// ---- Unknown messages, malformed frames --------------------------------------------------

TEST_F(ServerTest, UnknownAndResultTypesAreUnknownMessages) {
  auto c = Connect();
  ASSERT_TRUE(c->SendRaw(RawBodyFrame(static_cast<fb::Body>(200), 5)).ok());
  auto unknown = c->ReadResponse();
  ASSERT_EQ(CodeOf(unknown), ErrorCode::UnknownMessage);
  EXPECT_EQ(unknown->envelope().id(), 5u);
  ASSERT_TRUE(c->SendRaw(RawBodyFrame(fb::Body::SearchResult, 6)).ok());
  EXPECT_EQ(CodeOf(c->ReadResponse()), ErrorCode::UnknownMessage);
  ASSERT_TRUE(c->SendRaw(RawBodyFrame(fb::Body::Search, 7, /*with_body=*/false)).ok());
  EXPECT_EQ(CodeOf(c->ReadResponse()), ErrorCode::UnknownMessage);
  EXPECT_EQ(CodeOf(c->Health()), ErrorCode::None);  // the connection is still usable
}

TEST_F(ServerTest, OversizedFrameIsRefusedBeforeItsBodyIsRead) {
  auto c = Connect();
  // Only the header is sent: the answer cannot wait for a body.
  ASSERT_TRUE(c->SendRaw(Header(kDefaultMaxRequestBytes + 1)).ok());
  auto r = c->ReadResponse();
  ASSERT_EQ(CodeOf(r), ErrorCode::FrameTooLarge);
  EXPECT_EQ(r->envelope().id(), 0u);
  EXPECT_FALSE(c->ReadResponse().ok());  // and the connection is closed
}

TEST_F(ServerTest, TruncatedFrameIsDroppedAtTheReadDeadline) {
  auto c = Connect();
  std::string frame = RawBodyFrame(fb::Body::Health, 1);
  ASSERT_TRUE(c->SendRaw(frame.substr(0, frame.size() - 3)).ok());
  EXPECT_FALSE(c->ReadResponse().ok());
  EXPECT_EQ(CodeOf(Connect()->Health()), ErrorCode::None);
}

TEST_F(ServerTest, GarbageIsMalformedAndClosesTheConnection) {
  auto c = Connect();
  std::string garbage = Header(32) + std::string(32, '\x5a');
  ASSERT_TRUE(c->SendRaw(garbage).ok());
  auto r = c->ReadResponse();
  ASSERT_EQ(CodeOf(r), ErrorCode::MalformedFrame);
  EXPECT_FALSE(c->ReadResponse().ok());
  auto http = Connect();
  ASSERT_TRUE(http->SendRaw("GET / HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  EXPECT_EQ(CodeOf(http->ReadResponse()), ErrorCode::FrameTooLarge);
  auto empty = Connect();
  ASSERT_TRUE(empty->SendRaw(Header(0)).ok());
  EXPECT_EQ(CodeOf(empty->ReadResponse()), ErrorCode::MalformedFrame);
}

// ---- Transport, connections, drain ------------------------------------------------------

TEST_F(ServerTest, PlainTcpServerOnLoopback) {
  ServerConfig config = BaseConfig();
  config.plain_tcp = true;
  auto plain = StartServer(config);
  ASSERT_NE(plain, nullptr);
  auto c = Connect(plain->server->port(), /*plain=*/true);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(CodeOf(c->Health()), ErrorCode::None);
}

TEST_F(ServerTest, AnAddressNoOrganisationRegisteredIsClosedAtAcceptAndAudited) {
  // ::1 lies in no registered range (la_leeds has 127.0.0.0/8, la_elsewhere 10.9.0.0/16).
  ServerConfig config = BaseConfig();
  config.listen_address = "::1";
  config.plain_tcp = true;
  auto v6 = StartServer(config);
  ASSERT_NE(v6, nullptr);
  ClientOptions o;
  o.host = "::1";
  o.port = v6->server->port();
  o.plain = true;
  o.timeout_ms = 10000;
  auto c = Client::Connect(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();  // TCP accepts; the server then closes
  auto health = (*c)->Health();
  EXPECT_FALSE(health.ok()) << "an unregistered address must get no answer at all";
  std::vector<AuditEvent> refusals;
  for (const auto& e : audit_->For("")) {
    if (e.action == "connect" && e.address == "::1") refusals.push_back(e);
  }
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_EQ(refusals[0].outcome, "unregistered_address");
  // A registered address (127.0.0.1) is served.
  auto registered = StartServer(BaseConfig());
  ASSERT_NE(registered, nullptr);
  EXPECT_EQ(CodeOf(Connect(registered->server->port())->Health()), ErrorCode::None);
}

TEST_F(ServerTest, ATlsClientWithTheWrongCaIsRefused) {
  ClientOptions o;
  o.port = main_->server->port();
  o.ca_file = "/etc/ssl/certs/ca-certificates.crt";
  if (!std::filesystem::exists(o.ca_file)) GTEST_SKIP() << "no system CA bundle";
  EXPECT_FALSE(Client::Connect(o).ok());
}

TEST_F(ServerTest, ConnectionLimitRefusesTheExtraConnection) {
  ServerConfig config = BaseConfig();
  config.max_connections = 1;
  auto s = StartServer(config);
  ASSERT_NE(s, nullptr);
  auto first = Connect(s->server->port());
  ASSERT_EQ(CodeOf(first->Health()), ErrorCode::None);
  ClientOptions o;
  o.port = s->server->port();
  o.ca_file = cert_;
  o.timeout_ms = 5000;
  auto second = Client::Connect(o);  // the server closes it before the TLS handshake
  EXPECT_FALSE(second.ok());
}

TEST_F(ServerTest, DrainClosesIdleConnectionsAndStops) {
  auto s = StartServer(BaseConfig());
  ASSERT_NE(s, nullptr);
  const uint16_t port = s->server->port();
  auto c = Connect(port);
  ASSERT_EQ(CodeOf(c->Health()), ErrorCode::None);
  s->server->Drain();
  s->thread.join();
  EXPECT_TRUE(s->result.ok()) << s->result.ToString();
  EXPECT_FALSE(c->Health().ok());  // the idle connection was closed
  ClientOptions o;
  o.port = port;
  o.ca_file = cert_;
  EXPECT_FALSE(Client::Connect(o).ok());  // and nothing listens any more
}

TEST_F(ServerTest, DrainLetsAnInFlightRequestFinishAndItsAnswerLeave) {
  AddUser("in-flight", kSocialCare);
  auto s = StartServer(BaseConfig());
  ASSERT_NE(s, nullptr);
  auto c = Connect(s->server->port());
  ASSERT_EQ(CodeOf(c->LogIn("in-flight", Password("in-flight"), Code("in-flight"))),
            ErrorCode::None);
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  audit_->set_hook([&entered, released](const AuditEvent& e) {
    if (e.action == "search") {
      entered.set_value();
      released.wait();
    }
  });
  auto answer =
      std::async(std::launch::async, [&c] { return c->Search(OliviaQuery(), "enquiry"); });
  entered.get_future().wait();  // the search is on a worker, inside its audit append
  s->server->Drain();
  release.set_value();
  Result<Response> r = answer.get();
  audit_->set_hook(nullptr);
  ASSERT_EQ(CodeOf(r), ErrorCode::None);
  EXPECT_EQ(Children(r).size(), 1u);
  s->thread.join();
  EXPECT_TRUE(s->result.ok()) << s->result.ToString();
  EXPECT_FALSE(c->Health().ok());  // closed once its answer had left
}

TEST_F(ServerTest, AnIdleClientIsDropped) {
  ServerConfig config = BaseConfig();
  config.idle_timeout_ms = 100;
  auto s = StartServer(config);
  ASSERT_NE(s, nullptr);
  auto c = Connect(s->server->port());
  ASSERT_EQ(CodeOf(c->Health()), ErrorCode::None);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_FALSE(c->Health().ok());
}

}  // namespace
}  // namespace cp::server::testing
