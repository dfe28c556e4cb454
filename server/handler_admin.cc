// Account administration over the wire: CreateOrganisation, AddAddressRange, CreateUser,
// SetUserRole, UnlockUser, LockUser. System administrators only (Operation::kAccountAdmin), the
// same changes as `contactpoint account ...` on the server host, through AccountsPort.
//
// Each is audited as action "admin" with a detail naming what was asked ("create-user
// ann org la_leeds role police") — never the password, and never the TOTP secret, which
// leaves the server once, in NewUserResult.
#include "server/frame.h"
#include "server/handler_internal.h"
#include "util/totp.h"

namespace cp::server {

namespace fb = protocol;
using fb::Body;
using fb::ErrorCode;

namespace {

// The protocol's answer to a refused administrative change.
ErrorCode AdminErrorCode(const Status& s) {
  switch (s.code()) {
    case Status::Code::kInvalidArgument:
      return ErrorCode::InvalidRequest;
    case Status::Code::kAlreadyExists:
      return ErrorCode::AlreadyExists;
    case Status::Code::kNotFound:
      return ErrorCode::NotFound;
    default:
      return ErrorCode::Internal;
  }
}

std::string OrganisationFrame(uint64_t id, const OrganisationInfo& org) {
  flatbuffers::FlatBufferBuilder fbb(256);
  std::vector<flatbuffers::Offset<flatbuffers::String>> ranges;
  for (const auto& r : org.ranges) ranges.push_back(fbb.CreateString(r));
  auto result =
      fb::CreateOrganisationResultDirect(fbb, org.id.c_str(), org.display_name.c_str(), &ranges);
  return FinishFrame(fbb, id, Body::OrganisationResult, result.Union());
}

std::string UserFrame(uint64_t id, const UserInfo& user) {
  flatbuffers::FlatBufferBuilder fbb(256);
  auto result = fb::CreateAccountResultDirect(fbb, user.user.c_str(), user.organisation.c_str(),
                                              user.role.c_str(), user.locked);
  return FinishFrame(fbb, id, Body::AccountResult, result.Union());
}

}  // namespace

std::string RequestHandler::AdminOutcome(const Call& call, const Session& session,
                                         const Status& status, const std::string& detail,
                                         const std::function<std::string()>& reply) {
  if (!status.ok()) {
    const ErrorCode code = AdminErrorCode(status);
    const std::string message =
        code == ErrorCode::Internal ? "the accounts store failed" : status.message();
    return Refuse(call, &session, "admin", code, message);
  }
  AuditEvent e;
  e.action = std::string("admin");
  e.outcome = std::string("ok");
  e.criteria = detail;
  // The change is made: a failed append still withholds the confirmation (and a created
  // user's secret), as a shield change does.
  if (!Audit(call, &session, std::move(e)).ok()) {
    return ErrorFrame(call.id, ErrorCode::Internal, "the audit trail is unavailable");
  }
  return reply();
}

std::string RequestHandler::CreateOrganisation(const Call& call) {
  const auto* req = call.req.body_as_CreateOrganisation();
  Session session;
  std::string refusal = Admit(call, Operation::kAccountAdmin, "admin", nullptr, false, &session);
  if (!refusal.empty()) return refusal;
  std::vector<std::string> ranges;
  if (req->ranges()) {
    for (const auto* r : *req->ranges()) ranges.push_back(r->str());
  }
  auto org = deps_.accounts->CreateOrganisation(Str(req->name()), Str(req->display_name()), ranges);
  return AdminOutcome(call, session, org.ok() ? Status::OK() : org.status(),
                      RequestDetail(call.req), [&] { return OrganisationFrame(call.id, *org); });
}

std::string RequestHandler::AddAddressRange(const Call& call) {
  const auto* req = call.req.body_as_AddAddressRange();
  Session session;
  std::string refusal = Admit(call, Operation::kAccountAdmin, "admin", nullptr, false, &session);
  if (!refusal.empty()) return refusal;
  auto org = deps_.accounts->AddRange(Str(req->organisation()), Str(req->cidr()));
  return AdminOutcome(call, session, org.ok() ? Status::OK() : org.status(),
                      RequestDetail(call.req), [&] { return OrganisationFrame(call.id, *org); });
}

std::string RequestHandler::CreateUser(const Call& call) {
  const auto* req = call.req.body_as_CreateUser();
  Session session;
  std::string refusal = Admit(call, Operation::kAccountAdmin, "admin", nullptr, false, &session);
  if (!refusal.empty()) return refusal;
  const std::string user = Str(req->user()), org = Str(req->organisation()),
                    role = Str(req->role());
  auto secret = deps_.accounts->CreateUser(user, org, role, Str(req->password()));
  return AdminOutcome(
      call, session, secret.ok() ? Status::OK() : secret.status(), RequestDetail(call.req), [&] {
        flatbuffers::FlatBufferBuilder fbb(512);
        const std::string uri = TotpProvisioningUri(user, *secret);
        auto result = fb::CreateNewUserResultDirect(fbb, user.c_str(), org.c_str(), role.c_str(),
                                                    secret->c_str(), uri.c_str());
        return FinishFrame(fbb, call.id, Body::NewUserResult, result.Union());
      });
}

std::string RequestHandler::SetUserRole(const Call& call) {
  const auto* req = call.req.body_as_SetUserRole();
  Session session;
  std::string refusal = Admit(call, Operation::kAccountAdmin, "admin", nullptr, false, &session);
  if (!refusal.empty()) return refusal;
  const std::string name = Str(req->user());
  auto user = deps_.accounts->SetRole(name, Str(req->role()));
  // The new role applies to the user's open sessions at once, as after a reload.
  if (user.ok()) RefreshSessions(name);
  return AdminOutcome(call, session, user.ok() ? Status::OK() : user.status(),
                      RequestDetail(call.req), [&] { return UserFrame(call.id, *user); });
}

std::string RequestHandler::UnlockUser(const Call& call) {
  const auto* req = call.req.body_as_UnlockUser();
  Session session;
  std::string refusal = Admit(call, Operation::kAccountAdmin, "admin", nullptr, false, &session);
  if (!refusal.empty()) return refusal;
  auto user = deps_.accounts->Unlock(Str(req->user()));
  return AdminOutcome(call, session, user.ok() ? Status::OK() : user.status(),
                      RequestDetail(call.req), [&] { return UserFrame(call.id, *user); });
}

std::string RequestHandler::LockUser(const Call& call) {
  const auto* req = call.req.body_as_LockUser();
  Session session;
  std::string refusal = Admit(call, Operation::kAccountAdmin, "admin", nullptr, false, &session);
  if (!refusal.empty()) return refusal;
  const std::string name = Str(req->user());
  auto user = deps_.accounts->Lock(name);
  // Locked out now, not at the next login: the user's sessions and tickets end.
  if (user.ok()) sessions_.CloseUser(name);
  return AdminOutcome(call, session, user.ok() ? Status::OK() : user.status(),
                      RequestDetail(call.req), [&] { return UserFrame(call.id, *user); });
}

}  // namespace cp::server
