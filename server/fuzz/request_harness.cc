#include "server/fuzz/request_harness.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "index/index_policy.h"
#include "server/fuzz/fuzz_accounts.h"
#include "server/fuzz/seed_frames.h"
#include "storage/accounts.h"
#include "storage/roles.h"
#include "util/totp.h"

namespace cp::server::fuzz {

namespace {

namespace fb = protocol;

// 2026-11-02 09:00:00 UTC: a fixed start, so that runs differ only in random tokens.
constexpr int64_t kStartMs = 1793610000000;
constexpr char kAddress[] = "127.0.0.1";

NewChild Child(const std::string& given, const std::string& family, const char* dob,
               const std::string& key) {
  NewChild c;
  c.record.given_name = given;
  c.record.family_name = family;
  c.record.date_of_birth = *ParseDate(dob);
  c.record.gender = Gender::kFemale;
  c.hidden.address = "1 Fuzz Street, Leeds";
  c.hidden.postcode = "LS1 1AA";
  c.hidden.parent_name = "Parent of " + given;
  c.hidden.parent_phone = "0113 496 0000";
  c.hidden.services = {{ServiceKind::kSchool, "Fuzz Primary", "0113 496 0001"}};
  c.source = SourceRef{"births", key};
  c.source_payload = key;
  return c;
}

// The body of a frame in a buffer of its own (aligned, as VerifyEnvelope expects).
std::vector<uint8_t> Body(const std::string& frame) {
  if (frame.size() < kFrameHeaderBytes) return {};
  return std::vector<uint8_t>(frame.begin() + kFrameHeaderBytes, frame.end());
}

bool LeaksHidden(const fb::Child* c) { return c != nullptr && c->shielded() && c->hidden(); }

// Databases of harnesses whose process has gone: a crash the fuzzer reports ends the
// process without running the destructor, and each left ~80 MB in /dev/shm (memory).
// A directory is named after its process ("cp_request_fuzz_<pid>_XXXXXX"); one whose
// process no longer exists is removed. A reused pid only keeps a directory a while longer.
void RemoveOrphans(const std::string& base) {
  const std::string prefix = "cp_request_fuzz_";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(base, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix)) continue;
    const std::string rest = name.substr(prefix.size());
    const size_t underscore = rest.find('_');
    if (underscore == 0 || underscore == std::string::npos) continue;
    if (rest.find_first_not_of("0123456789") != underscore) continue;
    const long pid = std::strtol(rest.c_str(), nullptr, 10);
    if (pid <= 0 || kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    std::filesystem::remove_all(entry.path(), ec);
  }
}

}  // namespace

Result<std::unique_ptr<RequestHarness>> RequestHarness::Create() {
  std::unique_ptr<RequestHarness> h(new RequestHarness());
  const char* shm = "/dev/shm";
  std::string base = access(shm, W_OK) == 0 ? shm : std::filesystem::temp_directory_path().string();
  RemoveOrphans(base);
  std::string tmpl = base + "/cp_request_fuzz_" + std::to_string(getpid()) + "_XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return Status::IOError("cannot make a directory in " + base);
  h->dir_ = tmpl;
  Status s = h->Populate();
  if (!s.ok()) return s;
  return h;
}

Status RequestHarness::Populate() {
  ChildStore::Options options;
  options.db_dir = dir_ + "/db";
  options.key_file = dir_ + "/db.key";
  options.create = true;
  options.policy = &NameIndexPolicy::Instance();
  options.block_cache_bytes = size_t{4} << 20;
  auto store = ChildStore::Open(options);
  if (!store.ok()) return store.status();
  store_ = std::move(*store);
  std::vector<NewChild> batch;
  batch.push_back(Child("Olivia", "Smith", "2016-03-02", "olivia"));
  batch.push_back(Child("Lily", "Evans", "2015-05-05", "lily"));
  batch.push_back(Child("Amelia", "Jones", "2014-01-01", "amelia"));
  for (int i = 0; i < 3; ++i)
    batch.push_back(Child("Isla", "Brown", "2013-07-07", "isla" + std::to_string(i)));
  auto ids = store_->InsertChildren(batch);
  if (!ids.ok()) return ids.status();
  shielded_ = (*ids)[1];
  if (Status s = store_->SetShield(shielded_, true, "Fuzz council", "fuzz harness"); !s.ok())
    return s;

  AccountServices::Options account_options;
  account_options.argon2_memory_kib = 64;  // fuzzing needs no brute-force resistance
  account_options.argon2_passes = 1;
  auto services = AccountServices::Open(store_.get(), account_options);
  if (!services.ok()) return services.status();
  services_ = std::move(*services);
  if (Status s = AddFuzzAccounts(services_.get(), &secrets_); !s.ok()) return s;
  accounts_ = std::make_unique<UnmeteredQuotaAccounts>(services_->accounts_port());

  ServerConfig config;
  config.rate_per_second = 1e6;  // the clock stands still between logins
  config.rate_burst = 1e12;
  RequestHandler::Deps deps;
  deps.store = store_.get();
  deps.accounts = accounts_.get();
  deps.audit = services_->audit_port();
  deps.clock = [this] { return now_ms_.load(); };
  now_ms_ = kStartMs;
  handler_ = std::make_unique<RequestHandler>(config, deps);
  for (std::string_view role : kFuzzRoles) {
    if (Status s = LogIn(std::string(role)); !s.ok()) return s;
  }
  return Status::OK();
}

RequestHarness::~RequestHarness() {
  handler_.reset();
  accounts_.reset();
  services_.reset();
  store_.reset();
  std::error_code ignored;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
}

std::string RequestHarness::Handle(const std::string& frame) {
  std::vector<uint8_t> body = Body(frame);
  const fb::Envelope* env = VerifyEnvelope(body);
  if (env == nullptr) return {};
  return handler_->Handle(*env, kAddress);
}

Status RequestHarness::LogIn(const std::string& role) {
  const std::string user = "fuzz_" + role;
  if (Status s = RestoreFuzzUser(services_.get(), role); !s.ok()) return s;
  now_ms_ += kTotpStepSeconds * 1000;  // a fresh code: each step's code is accepted once
  ++logins_;
  flatbuffers::FlatBufferBuilder login;
  auto body = fb::CreateLoginDirect(login, user.c_str(), FuzzPassword(user).c_str());
  std::vector<uint8_t> challenge =
      Body(Handle(FinishFrame(login, next_id_++, fb::Body::Login, body.Union())));
  const fb::Envelope* c = VerifyEnvelope(challenge);
  if (c == nullptr || c->body_as_LoginChallenge() == nullptr ||
      c->body_as_LoginChallenge()->ticket() == nullptr) {
    return Status::PermissionDenied("the harness's login of " + user + " was refused");
  }
  auto key = Base32Decode(secrets_.at(role));
  if (!key.ok()) return key.status();
  const std::string code = TotpCodeAt(*key, TotpStep(now_ms_.load() / 1000));
  flatbuffers::FlatBufferBuilder second;
  auto sf = fb::CreateSecondFactorDirect(second, c->body_as_LoginChallenge()->ticket()->c_str(),
                                         code.c_str());
  std::vector<uint8_t> session =
      Body(Handle(FinishFrame(second, next_id_++, fb::Body::SecondFactor, sf.Union())));
  const fb::Envelope* s = VerifyEnvelope(session);
  if (s == nullptr || s->body_as_SessionResult() == nullptr ||
      s->body_as_SessionResult()->token() == nullptr) {
    std::string why = "no verifiable answer";
    if (s != nullptr && s->body_as_Error() != nullptr) {
      why = fb::EnumNameErrorCode(s->body_as_Error()->code());
      if (s->body_as_Error()->message()) why += ": " + s->body_as_Error()->message()->str();
    }
    return Status::PermissionDenied("the harness's second factor for " + user + " at " +
                                    std::to_string(now_ms_.load()) + " ms was refused (" + why +
                                    ")");
  }
  tokens_[role] = s->body_as_SessionResult()->token()->str();
  return Status::OK();
}

RequestHarness::Outcome RequestHarness::Run(std::span<const uint8_t> bytes) {
  Outcome out;
  out.check = CheckRequestFrame(bytes, kDefaultMaxRequestBytes);
  if (out.check.verdict != FrameVerdict::kRequest) return out;
  // The body as the server holds it, now writable so that a placeholder can be replaced.
  std::vector<uint8_t> body(bytes.begin() + kFrameHeaderBytes,
                            bytes.begin() + kFrameHeaderBytes + out.check.body_bytes);
  const fb::Envelope* env = VerifyEnvelope(body);
  if (env == nullptr) {
    out.problem = "a frame judged a request did not verify a second time";
    return out;
  }
  if (const flatbuffers::String* s = env->session(); s != nullptr && s->size() == 64) {
    for (const auto& [role, token] : tokens_) {
      // The placeholder's "fuzz-session-<role>" part: mutations of its padding still
      // reach the handler with a live session.
      const std::string prefix = SessionPlaceholder(role).substr(0, 13 + role.size());
      if (std::string_view(s->c_str(), prefix.size()) == prefix) {
        const size_t at = reinterpret_cast<const uint8_t*>(s->c_str()) - body.data();
        std::memcpy(body.data() + at, token.data(), token.size());
        out.role = role;
        break;
      }
    }
    // The verifier allows objects to overlap: a mutated frame may hold another field's
    // offset inside the session string's bytes, which the token just overwrote. Verify the
    // frame as it now is, as the server would have; one that no longer verifies is not sent.
    env = VerifyEnvelope(body);
    if (env == nullptr) return out;
  }
  // A live token given as it is: libFuzzer learns one from the handler's comparisons of the
  // tokens the harness substitutes (its table of compared bytes) and inserts it verbatim.
  // The request then speaks for that role, and is judged as that role's.
  if (const flatbuffers::String* s = env->session(); out.role.empty() && s != nullptr) {
    for (const auto& [role, token] : tokens_) {
      if (s->string_view() == token) out.role = role;
    }
  }
  out.response = handler_->Handle(*env, kAddress);
  // Judged first as a session that cannot have broken glass, which passes whatever passes
  // for any role; only a response that fails that is judged again as the role the
  // session's user has now (an accounts read, which most inputs are then spared).
  out.problem = CheckResponse(out.response, env->id(), "");
  if (!out.problem.empty() && !out.role.empty()) {
    out.problem = CheckResponse(out.response, env->id(), RoleNow(out.role));
  }
  // A session the handler no longer knows is opened again for the next input.
  std::vector<uint8_t> reply = Body(out.response);
  const fb::Envelope* r = VerifyEnvelope(reply);
  if (!out.role.empty() && r != nullptr && r->body_as_Error() != nullptr &&
      r->body_as_Error()->code() == fb::ErrorCode::NotAuthenticated) {
    if (Status s = LogIn(out.role); !s.ok() && out.problem.empty()) {
      out.problem = "could not log " + out.role + " in again: " + s.ToString();
    }
  }
  return out;
}

std::string RequestHarness::RoleNow(const std::string& role) const {
  if (role.empty()) return role;
  auto account = services_->accounts()->GetUser("fuzz_" + role);
  if (!account.ok()) return role;
  return std::string(PolicyFor(account->role).name);
}

std::string RequestHarness::CheckResponse(const std::string& response, uint64_t request_id,
                                          const std::string& role) {
  if (response.size() < kFrameHeaderBytes) return "no response frame";
  const uint32_t length = DecodeFrameLength(std::span<const uint8_t, kFrameHeaderBytes>(
      reinterpret_cast<const uint8_t*>(response.data()), kFrameHeaderBytes));
  if (length != response.size() - kFrameHeaderBytes) return "the length prefix is not the body's";
  std::vector<uint8_t> body = Body(response);
  const fb::Envelope* env = VerifyEnvelope(body);
  if (env == nullptr) return "the response does not verify";
  if (env->id() != request_id) return "the response answers another request id";
  if (env->body() == nullptr || IsRequest(env->body_type())) return "the response is no result";
  if (role == "child_protection") return {};  // may have broken glass
  if (const auto* s = env->body_as_SearchResult(); s && s->results()) {
    for (const auto* c : *s->results()) {
      if (LeaksHidden(c)) return "a search result carries a shielded child's hidden fields";
    }
  }
  if (const auto* g = env->body_as_RecordResult(); g && LeaksHidden(g->child())) {
    return "a record view carries a shielded child's hidden fields";
  }
  return {};
}

}  // namespace cp::server::fuzz
