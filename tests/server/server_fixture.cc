#include "tests/server/server_fixture.h"

#include <cstdlib>

#include "tests/server/test_accounts.h"
#include "util/totp.h"

namespace cp::server::testing {

ChildId ServerTest::olivia_ = 0, ServerTest::lily_ = 0;
std::string ServerTest::dir_, ServerTest::cert_, ServerTest::key_;
ChildStore* ServerTest::store_ = nullptr;
AccountServices* ServerTest::services_ = nullptr;
RecordingAudit* ServerTest::audit_ = nullptr;
std::map<std::string, std::string>* ServerTest::secrets_ = nullptr;
std::atomic<int64_t> ServerTest::clock_offset_ms_{0};
ServerTest::Running* ServerTest::main_ = nullptr;

namespace {

NewChild Child(const std::string& given, const std::string& family, const char* dob,
               const std::string& key) {
  NewChild c;
  c.record.given_name = given;
  c.record.family_name = family;
  c.record.date_of_birth = *ParseDate(dob);
  c.record.gender = Gender::kFemale;
  c.hidden.address = "1 Test Street, Leeds";
  c.hidden.postcode = "LS1 1AA";
  c.hidden.parent_name = "Parent of " + given;
  c.hidden.parent_phone = "0113 496 0000";
  c.hidden.services = {{ServiceKind::kSchool, "Hillside Primary", "0113 496 0001"}};
  c.source = SourceRef{"births", key};
  c.source_payload = key;
  return c;
}

}  // namespace

protocol::ErrorCode CodeOf(const Result<Response>& r) {
  if (!r.ok()) {
    ADD_FAILURE() << "transport failure: " << r.status().ToString();
    return protocol::ErrorCode::None;
  }
  return r->error() ? r->error()->code() : protocol::ErrorCode::None;
}

void ServerTest::SetUpTestSuite() {
  char tmpl[] = "/tmp/cp_server_test_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  dir_ = tmpl;
  cert_ = dir_ + "/cert.pem";
  key_ = dir_ + "/key.pem";
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
      "-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
      key_ + " -out " + cert_ + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl could not make a test certificate";

  ChildStore::Options options;
  options.db_dir = dir_ + "/db";
  options.key_file = dir_ + "/db.key";
  options.create = true;
  options.policy = &NameIndexPolicy::Instance();
  options.block_cache_bytes = size_t{8} << 20;
  auto store = ChildStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  store_ = store->release();
  std::vector<NewChild> batch;
  batch.push_back(Child("Olivia", "Smith", "2016-03-02", "olivia"));
  batch.push_back(Child("Lily", "Evans", "2015-05-05", "lily"));
  for (int i = 0; i < 3; ++i)
    batch.push_back(Child("Amelia", "Jones", "2014-01-01", "amelia" + std::to_string(i)));
  // Eleven: more than a cap of 10, fewer than one of 20.
  for (int i = 0; i < 11; ++i)
    batch.push_back(Child("Isla", "Brown", "2013-07-07", "isla" + std::to_string(i)));
  auto ids = store_->InsertChildren(batch);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  olivia_ = (*ids)[0];
  lily_ = (*ids)[1];
  ASSERT_TRUE(store_->SetShield(lily_, true, "LA Leeds", "test").ok());

  AccountServices::Options account_options;
  account_options.argon2_memory_kib = 64;  // tests need no brute-force resistance
  account_options.argon2_passes = 1;
  account_options.lockout_after = 3;
  auto services = AccountServices::Open(store_, account_options);
  ASSERT_TRUE(services.ok()) << services.status().ToString();
  services_ = services->release();
  Status orgs = AddTestOrganisations(services_);
  ASSERT_TRUE(orgs.ok()) << orgs.ToString();
  audit_ = new RecordingAudit(services_->audit_port());
  secrets_ = new std::map<std::string, std::string>;
  main_ = StartServer(BaseConfig()).release();
}

void ServerTest::TearDownTestSuite() {
  delete main_;
  main_ = nullptr;
  delete audit_;
  delete secrets_;
  delete services_;
  delete store_;
  store_ = nullptr;
  std::filesystem::remove_all(dir_);
}

ServerConfig ServerTest::BaseConfig() {
  ServerConfig c;
  c.listen_address = "127.0.0.1";
  c.listen_port = 0;
  c.certificate_file = cert_;
  c.private_key_file = key_;
  c.db_dir = dir_ + "/db";
  c.io_threads = 2;
  c.workers = 2;
  c.read_timeout_ms = 500;  // a truncated frame is dropped quickly
  c.idle_timeout_ms = 5000;
  c.rate_per_second = 0.01;  // a burst of 40, then effectively nothing
  c.rate_burst = 40;
  return c;
}

std::unique_ptr<ServerTest::Running> ServerTest::StartServer(ServerConfig config) {
  auto r = std::make_unique<Running>();
  RequestHandler::Deps deps;
  deps.store = store_;
  deps.accounts = services_->accounts_port();
  deps.audit = audit_;
  deps.clock = [] { return SystemNowMs() + clock_offset_ms_.load(); };
  r->handler = std::make_unique<RequestHandler>(config, deps);
  auto server = Server::Start(config, r->handler.get());
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  if (!server.ok()) return nullptr;
  r->server = std::move(*server);
  Running* raw = r.get();
  r->thread = std::thread([raw] { raw->result = raw->server->Run(false); });
  return r;
}

ServerTest::Running::~Running() {
  if (thread.joinable()) {
    server->Drain();
    thread.join();
  }
}

void ServerTest::AddUser(const std::string& name, const std::string& role, bool registered) {
  auto secret =
      AddTestUser(services_, name, registered ? "la_leeds" : "la_elsewhere", role, Password(name));
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  (*secrets_)[name] = *secret;
}

void ServerTest::AddUserIn(const std::string& name, const std::string& role,
                           const std::string& organisation) {
  auto secret = AddTestUser(services_, name, organisation, role, Password(name));
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  (*secrets_)[name] = *secret;
}

std::string ServerTest::Code(const std::string& name) {
  const int64_t now_s = (SystemNowMs() + clock_offset_ms_.fetch_add(kTotpStepSeconds * 1000) +
                         kTotpStepSeconds * 1000) /
                        1000;
  auto key = Base32Decode(secrets_->at(name));
  EXPECT_TRUE(key.ok());
  return TotpCodeAt(*key, TotpStep(now_s));
}

std::unique_ptr<Client> ServerTest::Connect(uint16_t port, bool plain) {
  ClientOptions o;
  o.host = "127.0.0.1";
  o.port = port ? port : main_->server->port();
  o.plain = plain;
  o.ca_file = cert_;
  o.timeout_ms = 10000;
  auto c = Client::Connect(o);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : nullptr;
}

std::unique_ptr<Client> ServerTest::LoggedIn(const std::string& name) {
  auto c = Connect();
  if (!c) return nullptr;
  auto r = c->LogIn(name, Password(name), Code(name));
  EXPECT_EQ(CodeOf(r), protocol::ErrorCode::None);
  EXPECT_FALSE(c->session().empty());
  return c;
}

}  // namespace cp::server::testing
