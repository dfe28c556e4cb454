#include "server/handler.h"

#include <chrono>

#include "server/frame.h"
#include "server/handler_internal.h"
#include "server/log.h"
#include "server/london_time.h"
#include "server/records.h"

namespace cp::server {

namespace fb = protocol;
using fb::Body;
using fb::ErrorCode;

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

// The criteria as the audit trail records them: every field given, in a fixed order.
std::string CriteriaText(const fb::Criteria* c) {
  if (c == nullptr) return "";
  std::string out;
  auto add = [&out](const char* name, const flatbuffers::String* v) {
    if (v == nullptr || v->size() == 0) return;
    if (!out.empty()) out += "; ";
    out += name;
    out += "=";
    out += v->str();
  };
  add("given", c->given_name());
  add("family", c->family_name());
  add("dob", c->date_of_birth());
  add("dob_from", c->dob_from());
  add("dob_to", c->dob_to());
  add("gender", c->gender());
  add("postcode", c->postcode());
  add("nhs_number", c->nhs_number());
  add("pupil_number", c->pupil_number());
  if (c->limit() != 0)
    out += (out.empty() ? "" : "; ") + std::string("limit=") + std::to_string(c->limit());
  return out;
}

// The stated reason of any request that carries one; empty otherwise.
std::string StatedReason(const fb::Envelope& req) {
  switch (req.body_type()) {
    case Body::Search:
      return Str(req.body_as_Search()->reason());
    case Body::GetRecord:
      return Str(req.body_as_GetRecord()->reason());
    case Body::Shield:
      return Str(req.body_as_Shield()->reason());
    case Body::Unshield:
      return Str(req.body_as_Unshield()->reason());
    case Body::BreakGlass:
      return Str(req.body_as_BreakGlass()->reason());
    case Body::ReviewResolve:
      return Str(req.body_as_ReviewResolve()->reason());
    default:
      return "";
  }
}

// A data manager reads under Clearance::DataManager as of today's London date (the date a
// retention run archives as of), which also opens archived children for their year.
Clearance SessionClearance(const Session& s, int64_t now_ms) {
  // Glass is honoured only while the session's role may break it (a role can change under
  // an open session).
  if (s.break_glass && s.profile.May(Operation::kBreakGlass)) {
    return Clearance::Elevated(Clearance::Level::kBreakGlass, s.profile.user, s.break_glass_reason);
  }
  if (s.profile.May(Operation::kReadArchived)) {
    return Clearance::DataManager(s.profile.user, "data manager", LondonDate(now_ms / 1000));
  }
  return Clearance::Ordinary();
}

}  // namespace

std::string RequestDetail(const fb::Envelope& req) {
  switch (req.body_type()) {
    case Body::FeedBatch: {
      const auto* f = req.body_as_FeedBatch();
      return "feed source " + Str(f->source()) + " batch " + std::to_string(f->batch()) + " (" +
             std::to_string(f->csv() ? f->csv()->size() : 0) + " bytes)";
    }
    case Body::ReviewList:
      return "review list";
    case Body::ReviewResolve: {
      const auto* r = req.body_as_ReviewResolve();
      return "review " + std::to_string(r->review_id()) +
             (r->child_id() == 0 ? " new child" : " link child " + std::to_string(r->child_id()));
    }
    case Body::CreateOrganisation: {
      const auto* o = req.body_as_CreateOrganisation();
      std::string d = "create-organisation " + Str(o->name()) + " ranges";
      if (o->ranges() == nullptr || o->ranges()->size() == 0) d += " none";
      if (o->ranges()) {
        for (const auto* r : *o->ranges()) d += " " + r->str();
      }
      return d;
    }
    case Body::AddAddressRange: {
      const auto* a = req.body_as_AddAddressRange();
      return "add-range " + Str(a->organisation()) + " " + Str(a->cidr());
    }
    case Body::CreateUser: {
      const auto* u = req.body_as_CreateUser();
      return "create-user " + Str(u->user()) + " org " + Str(u->organisation()) + " role " +
             Str(u->role());
    }
    case Body::SetUserRole: {
      const auto* u = req.body_as_SetUserRole();
      return "set-role " + Str(u->user()) + " " + Str(u->role());
    }
    case Body::UnlockUser:
      return "unlock " + Str(req.body_as_UnlockUser()->user());
    case Body::LockUser:
      return "lock " + Str(req.body_as_LockUser()->user());
    default:
      return "";
  }
}

RequestHandler::RequestHandler(const ServerConfig& config, Deps deps)
    : config_(config),
      max_frame_bytes_(config.max_frame_bytes),
      deps_(std::move(deps)),
      searcher_(deps_.store),
      sessions_(SessionTable::Limits{config.login_ticket_s * 1000LL,
                                     config.session_lifetime_s * 1000LL,
                                     config.session_idle_s * 1000LL}),
      limiter_(config.rate_per_second, config.rate_burst),
      refusal_audits_(kRefusalAuditsPerSecond, 10 * kRefusalAuditsPerSecond) {}

bool RequestHandler::AdmitConnection(const std::string& address) {
  auto registered = deps_.accounts->AddressRegistered(address);
  if (!registered.ok()) {
    LogError("connection refused: the accounts store failed checking its address");
    return false;
  }
  if (*registered) return true;
  const int64_t now_ms = deps_.clock();
  if (!refusal_audits_.Admit("", now_ms, nullptr)) {
    LogInfo("connection refused: unregistered address (not audited: too many refusals)");
    return false;
  }
  AuditEvent e;
  e.unix_ms = now_ms;
  e.address = address;
  e.action = "connect";
  e.outcome = ErrorCodeName(ErrorCode::UnregisteredAddress);
  e.criteria = "connection refused at accept";
  if (!deps_.audit->Append(e).ok()) LogError("the audit trail is unavailable");
  return false;
}

bool RequestHandler::RunsInline(Body type) {
  return type == Body::Search || type == Body::GetRecord || type == Body::Hello ||
         type == Body::Health;
}

std::string RequestHandler::AuditFailure(uint64_t request_id) {
  return ErrorFrame(request_id, ErrorCode::Internal, "the audit trail is unavailable");
}

void RequestHandler::CommitDeferred(std::vector<AuditEvent> events,
                                    std::function<void(Status)> done) {
  if (events.empty()) {
    done(Status::OK());
    return;
  }
  // Events of one request go in order; the last one's result reports for all (an earlier
  // failure is kept: the committer writes in queue order, so it is seen first).
  struct Pending {
    std::mutex mu;
    size_t left;
    Status first_error;
    std::function<void(Status)> done;
  };
  auto pending = std::make_shared<Pending>();
  pending->left = events.size();
  pending->done = std::move(done);
  for (const AuditEvent& e : events) {
    deps_.audit->AppendAsync(e, [pending](Status s) {
      std::function<void(Status)> finish;
      Status result;
      {
        std::lock_guard lock(pending->mu);
        if (!s.ok() && pending->first_error.ok()) pending->first_error = s;
        if (--pending->left == 0) {
          finish = std::move(pending->done);
          result = pending->first_error;
        }
      }
      if (finish) finish(result);
    });
  }
}

std::string RequestHandler::Handle(const fb::Envelope& req, const std::string& address,
                                   std::vector<AuditEvent>* deferred) {
  Call call{req, req.id(), address, Str(req.session()), deps_.clock(), deferred};
  const Body type = req.body_type();
  // The verifier accepts a union whose table is absent; every request here has one.
  if (req.body() == nullptr) {
    return ErrorFrame(call.id, ErrorCode::UnknownMessage, "the frame holds no request");
  }
  if (type == Body::Health) return Health(call);
  if (draining()) {
    return ErrorFrame(call.id, ErrorCode::Unavailable,
                      "the server is shutting down; reconnect later");
  }
  switch (type) {
    case Body::Hello:
      return Hello(call);
    case Body::Login:
      return Login(call);
    case Body::SecondFactor:
      return SecondFactor(call);
    case Body::Search:
      return Search(call);
    case Body::GetRecord:
      return GetRecord(call);
    case Body::Shield:
      return SetShield(call, true);
    case Body::Unshield:
      return SetShield(call, false);
    case Body::BreakGlass:
      return BreakGlass(call);
    case Body::FeedBatch:
      return FeedBatch(call);
    case Body::ReviewList:
      return ReviewList(call);
    case Body::ReviewResolve:
      return ReviewResolve(call);
    case Body::CreateOrganisation:
      return CreateOrganisation(call);
    case Body::AddAddressRange:
      return AddAddressRange(call);
    case Body::CreateUser:
      return CreateUser(call);
    case Body::SetUserRole:
      return SetUserRole(call);
    case Body::UnlockUser:
      return UnlockUser(call);
    case Body::LockUser:
      return LockUser(call);
    case Body::Logout:
      return Logout(call);
    default:
      return ErrorFrame(call.id, ErrorCode::UnknownMessage,
                        "message type " + std::to_string(static_cast<int>(type)) +
                            " is not a request this server knows");
  }
}

std::string RequestHandler::Hello(const Call& call) {
  const auto* hello = call.req.body_as_Hello();
  bool speaks = false;
  if (hello->versions()) {
    for (uint16_t v : *hello->versions()) speaks = speaks || v == kProtocolVersion;
  }
  if (!speaks) {
    return ErrorFrame(call.id, ErrorCode::UnsupportedVersion,
                      "this server speaks protocol version " + std::to_string(kProtocolVersion));
  }
  flatbuffers::FlatBufferBuilder fbb(128);
  auto result = fb::CreateHelloResultDirect(fbb, kProtocolVersion, "contactpointd 0.1",
                                            max_frame_bytes_.load());
  return FinishFrame(fbb, call.id, Body::HelloResult, result.Union());
}

Status RequestHandler::Audit(const Call& call, const Session* session, AuditEvent event) {
  event.unix_ms = call.now_ms;
  event.address = call.address;
  if (session) {
    event.user = session->profile.user;
    event.organisation = session->profile.organisation;
  }
  if (call.deferred != nullptr) {
    call.deferred->push_back(std::move(event));
    return Status::OK();
  }
  return deps_.audit->Append(event);
}

std::string RequestHandler::Refuse(const Call& call, const Session* session,
                                   const std::string& action, ErrorCode code,
                                   const std::string& message, uint32_t retry_after_ms) {
  AuditEvent e;
  e.action = action;
  e.outcome = ErrorCodeName(code);
  e.reason = StatedReason(call.req);
  if (const auto* s = call.req.body_as_Search()) e.criteria = CriteriaText(s->criteria());
  if (const auto* g = call.req.body_as_GetRecord()) e.children.push_back(g->child_id());
  if (e.criteria.empty()) {
    e.criteria = RequestDetail(call.req);
    if (!e.criteria.empty()) e.criteria += " (refused: " + e.outcome + ")";
  }
  Status s = Audit(call, session, std::move(e));
  if (!s.ok()) return ErrorFrame(call.id, ErrorCode::Internal, "the audit trail is unavailable");
  return ErrorFrame(call.id, code, message, retry_after_ms);
}

std::string RequestHandler::RefuseUnauthenticated(const Call& call, const std::string& action,
                                                  const std::string& message) {
  if (!refusal_audits_.Admit(call.address, call.now_ms, nullptr)) {
    LogInfo("request refused: no valid session (not audited: too many refusals from one "
            "address)");
    return ErrorFrame(call.id, ErrorCode::NotAuthenticated, message);
  }
  return Refuse(call, nullptr, action, ErrorCode::NotAuthenticated, message);
}

std::string RequestHandler::Login(const Call& call) {
  const auto* login = call.req.body_as_Login();
  const std::string user = Str(login->user());
  AuditEvent e;
  e.action = "login";
  e.user = user;
  auto refuse = [&](ErrorCode code, const std::string& message) {
    e.outcome = ErrorCodeName(code);
    if (!Audit(call, nullptr, e).ok()) {
      return ErrorFrame(call.id, ErrorCode::Internal, "the audit trail is unavailable");
    }
    return ErrorFrame(call.id, code, message);
  };
  if (user.empty())
    return ErrorFrame(call.id, ErrorCode::BadCredentials, "unknown user or wrong password");
  // The accounts store checks the address before any credential: an unregistered network
  // learns nothing about a password.
  auto check = deps_.accounts->CheckPassword(user, Str(login->password()), call.address);
  if (!check.ok()) return ErrorFrame(call.id, ErrorCode::Internal, "the accounts store failed");
  switch (*check) {
    case CredentialCheck::kOk:
      break;
    case CredentialCheck::kUnregisteredAddress:
      return refuse(ErrorCode::UnregisteredAddress,
                    "this address is not registered for the user's organisation");
    case CredentialCheck::kLocked:
      return refuse(ErrorCode::Locked, "the account is locked");
    case CredentialCheck::kBad:
      return refuse(ErrorCode::BadCredentials, "unknown user or wrong password");
  }
  std::string ticket = sessions_.IssueTicket(user, call.address, call.now_ms);
  flatbuffers::FlatBufferBuilder fbb(256);
  auto result = fb::CreateLoginChallengeDirect(
      fbb, ticket.c_str(), static_cast<uint32_t>(sessions_.limits().ticket_ms / 1000));
  return FinishFrame(fbb, call.id, Body::LoginChallenge, result.Union());
}

std::string RequestHandler::SecondFactor(const Call& call) {
  const auto* sf = call.req.body_as_SecondFactor();
  const std::string ticket = Str(sf->ticket());
  auto user = sessions_.TicketUser(ticket, call.address, call.now_ms);
  if (!user.ok()) return RefuseUnauthenticated(call, "login", user.status().message());
  AuditEvent e;
  e.action = "login";
  e.user = *user;
  auto check = deps_.accounts->CheckSecondFactor(*user, Str(sf->code()), call.now_ms / 1000);
  auto profile = deps_.accounts->Profile(*user);
  if (!check.ok() || !profile.ok()) {
    return ErrorFrame(call.id, ErrorCode::Internal, "the accounts store failed");
  }
  e.organisation = profile->organisation;
  if (*check != CredentialCheck::kOk) {
    const ErrorCode code =
        *check == CredentialCheck::kLocked ? ErrorCode::Locked : ErrorCode::BadCode;
    // (kUnregisteredAddress cannot come from a code check.)
    if (code == ErrorCode::Locked) sessions_.RedeemTicket(ticket);
    e.outcome = ErrorCodeName(code);
    if (!Audit(call, nullptr, e).ok()) {
      return ErrorFrame(call.id, ErrorCode::Internal, "the audit trail is unavailable");
    }
    return ErrorFrame(call.id, code,
                      code == ErrorCode::Locked ? "the account is locked" : "wrong or reused code");
  }
  e.outcome = "ok";
  if (!Audit(call, nullptr, e).ok()) {
    return ErrorFrame(call.id, ErrorCode::Internal, "the audit trail is unavailable");
  }
  sessions_.RedeemTicket(ticket);
  const UserProfile p = *profile;
  std::string token = sessions_.Open(p, call.address, call.now_ms);
  flatbuffers::FlatBufferBuilder fbb(256);
  const SessionTable::Limits limits = sessions_.limits();
  auto result =
      fb::CreateSessionResultDirect(fbb, token.c_str(), (call.now_ms + limits.lifetime_ms) / 1000,
                                    static_cast<uint32_t>(limits.idle_ms / 1000), p.role.c_str(),
                                    static_cast<uint16_t>(p.result_cap));
  return FinishFrame(fbb, call.id, Body::SessionResult, result.Union());
}

std::string RequestHandler::Admit(const Call& call, Operation op, const std::string& action,
                                  const std::string* reason, bool counts_towards_quota,
                                  Session* session) {
  auto s = sessions_.Use(call.token, call.address, call.now_ms);
  if (!s.ok()) return RefuseUnauthenticated(call, action, s.status().message());
  if (!s->profile.May(op)) {
    return Refuse(call, &*s, action, ErrorCode::NotAuthorised,
                  "the role '" + s->profile.role + "' does not permit " + action);
  }
  if (reason != nullptr && Blank(*reason)) {
    return Refuse(call, &*s, action, ErrorCode::MissingReason, "a stated reason is required");
  }
  uint32_t retry_ms = 0;
  if (!limiter_.Admit(s->profile.user, call.now_ms, &retry_ms)) {
    return Refuse(call, &*s, action, ErrorCode::RateLimited, "too many requests; slow down",
                  retry_ms);
  }
  if (counts_towards_quota) {
    auto charged = deps_.accounts->ChargeSearch(s->profile.user, call.now_ms / 1000);
    if (!charged.ok()) return ErrorFrame(call.id, ErrorCode::Internal, "the accounts store failed");
    if (!*charged) {
      return Refuse(call, &*s, action, ErrorCode::QuotaExceeded,
                    "the daily search quota of the role '" + s->profile.role + "' is used up");
    }
  }
  *session = std::move(*s);
  return {};
}

std::string RequestHandler::Search(const Call& call) {
  const auto* req = call.req.body_as_Search();
  const std::string reason = Str(req->reason());
  Session session;
  std::string refusal = Admit(call, Operation::kSearch, "search", &reason, true, &session);
  if (!refusal.empty()) return refusal;
  auto criteria = CriteriaFromFb(req->criteria(), session.profile.result_cap);
  Result<SearchResponse> r =
      criteria.ok() ? searcher_.Search(*criteria, SessionClearance(session, call.now_ms))
                    : Result<SearchResponse>(criteria.status());
  if (!r.ok() && r.status().IsInvalidArgument()) {
    return Refuse(call, &session, "search", ErrorCode::InvalidCriteria, r.status().message());
  }
  if (!r.ok()) return ErrorFrame(call.id, ErrorCode::Internal, "the search failed in storage");
  AuditEvent e;
  e.action = "search";
  e.reason = Str(req->reason());
  e.criteria = CriteriaText(req->criteria());
  e.investigation = session.break_glass;
  if (r->outcome == SearchOutcome::kTooManyMatches) {
    e.outcome = "too_many_matches";
    if (!Audit(call, &session, std::move(e)).ok()) {
      return ErrorFrame(call.id, ErrorCode::Internal, "the audit trail is unavailable");
    }
    return ErrorFrame(
        call.id, ErrorCode::TooManyMatches,
        "too many matches (" + std::to_string(r->matches) + " or more) — refine the search");
  }
  e.outcome = "ok";
  for (const auto& hit : r->hits) e.children.push_back(hit.id);
  if (!Audit(call, &session, std::move(e)).ok()) {
    return ErrorFrame(call.id, ErrorCode::Internal, "the audit trail is unavailable");
  }
  flatbuffers::FlatBufferBuilder fbb(4096);
  std::vector<flatbuffers::Offset<fb::Child>> results;
  for (const auto& hit : r->hits) results.push_back(ChildToFb(fbb, hit.view, hit.score));
  auto result = fb::CreateSearchResultDirect(fbb, &results);
  return FinishFrame(fbb, call.id, Body::SearchResult, result.Union());
}

std::string RequestHandler::GetRecord(const Call& call) {
  const auto* req = call.req.body_as_GetRecord();
  const std::string reason = Str(req->reason());
  Session session;
  std::string refusal = Admit(call, Operation::kGetRecord, "get", &reason, false, &session);
  if (!refusal.empty()) return refusal;
  const ChildId id = req->child_id();
  auto view = id == 0 ? Result<ChildView>(Status::NotFound("no child 0"))
                      : deps_.store->Get(id, SessionClearance(session, call.now_ms));
  if (!view.ok() && !view.status().IsNotFound()) {
    return ErrorFrame(call.id, ErrorCode::Internal, "reading the record failed in storage");
  }
  AuditEvent e;
  e.action = "get";
  e.reason = Str(req->reason());
  e.children.push_back(id);
  e.investigation = session.break_glass;
  e.outcome = view.ok() ? "ok" : "not_found";
  if (view.ok() && view->record.lifecycle.archived()) {
    e.criteria =
        "archived record (archived on " + view->record.lifecycle.archived_on.ToString() + ")";
  }
  if (!Audit(call, &session, std::move(e)).ok()) {
    return ErrorFrame(call.id, ErrorCode::Internal, "the audit trail is unavailable");
  }
  if (!view.ok()) return ErrorFrame(call.id, ErrorCode::NotFound, "no child " + std::to_string(id));
  flatbuffers::FlatBufferBuilder fbb(2048);
  auto child = ChildToFb(fbb, *view, -1);
  auto result = fb::CreateRecordResult(fbb, child);
  return FinishFrame(fbb, call.id, Body::RecordResult, result.Union());
}

std::string RequestHandler::SetShield(const Call& call, bool shield) {
  const ChildId id =
      shield ? call.req.body_as_Shield()->child_id() : call.req.body_as_Unshield()->child_id();
  const std::string reason =
      Str(shield ? call.req.body_as_Shield()->reason() : call.req.body_as_Unshield()->reason());
  const std::string action = shield ? "shield" : "unshield";
  Session session;
  std::string refusal = Admit(call, Operation::kShield, action, &reason, false, &session);
  if (!refusal.empty()) return refusal;
  Status s = id == 0 ? Status::NotFound("no child 0")
                     : deps_.store->SetShield(id, shield, session.profile.organisation, reason);
  if (!s.ok() && !s.IsNotFound()) return ErrorFrame(call.id, ErrorCode::Internal, "storage failed");
  AuditEvent e;
  e.action = action;
  e.reason = reason;
  e.children.push_back(id);
  e.outcome = s.ok() ? "ok" : "not_found";
  // The shield is already set: a failed append still refuses to confirm it, and the
  // server logs the failure for the operators.
  if (!Audit(call, &session, std::move(e)).ok()) {
    return ErrorFrame(call.id, ErrorCode::Internal, "the audit trail is unavailable");
  }
  if (!s.ok()) return ErrorFrame(call.id, ErrorCode::NotFound, "no child " + std::to_string(id));
  flatbuffers::FlatBufferBuilder fbb(64);
  auto result = fb::CreateShieldResult(fbb, id, shield);
  return FinishFrame(fbb, call.id, Body::ShieldResult, result.Union());
}

std::string RequestHandler::BreakGlass(const Call& call) {
  const std::string reason = Str(call.req.body_as_BreakGlass()->reason());
  auto s = sessions_.Use(call.token, call.address, call.now_ms);
  if (!s.ok()) return RefuseUnauthenticated(call, "break_glass", s.status().message());
  if (!s->profile.May(Operation::kBreakGlass)) {
    return Refuse(call, &*s, "break_glass", ErrorCode::NotAuthorised,
                  "the role '" + s->profile.role + "' may not break glass");
  }
  if (Blank(reason))
    return Refuse(call, &*s, "break_glass", ErrorCode::MissingReason,
                  "a stated reason is required");
  AuditEvent e;
  e.action = "break_glass";
  e.outcome = "ok";
  e.reason = reason;
  e.investigation = true;
  if (!Audit(call, &*s, std::move(e)).ok()) {
    return ErrorFrame(call.id, ErrorCode::Internal, "the audit trail is unavailable");
  }
  if (!sessions_.SetBreakGlass(call.token, reason).ok()) {
    return ErrorFrame(call.id, ErrorCode::NotAuthenticated, "the session has ended");
  }
  flatbuffers::FlatBufferBuilder fbb(64);
  auto result = fb::CreateBreakGlassResult(fbb, true);
  return FinishFrame(fbb, call.id, Body::BreakGlassResult, result.Union());
}

std::string RequestHandler::Logout(const Call& call) {
  if (auto s = sessions_.Use(call.token, call.address, call.now_ms); s.ok()) {
    AuditEvent e;
    e.action = "logout";
    e.outcome = "ok";
    // A failed append does not keep a session open that its user wants closed.
    Audit(call, &*s, std::move(e)).PermitUnchecked();
  }
  sessions_.Close(call.token);
  flatbuffers::FlatBufferBuilder fbb(64);
  auto result = fb::CreateLogoutResult(fbb);
  return FinishFrame(fbb, call.id, Body::LogoutResult, result.Union());
}

std::string RequestHandler::Health(const Call& call) {
  flatbuffers::FlatBufferBuilder fbb(128);
  auto result = fb::CreateHealthResultDirect(fbb, draining() ? "draining" : "serving",
                                             kProtocolVersion, connections_ ? connections_() : 0);
  return FinishFrame(fbb, call.id, Body::HealthResult, result.Union());
}

}  // namespace cp::server
