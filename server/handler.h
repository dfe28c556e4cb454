// Request handling: one verified request envelope in, one response frame out.
//
// This is the server's policy, kept apart from sockets so that tests can drive it
// directly. The order of checks for an operation on a record is fixed and matters:
// session (address-bound, live) -> role permits the operation -> a stated reason ->
// rate limit and daily quota -> the operation -> audit append -> response. Every refusal
// is audited too (one without a valid session at a bounded rate per address:
// RefuseUnauthenticated); if an audit append fails, the client gets Internal and no data.
//
// Feeds, review and administration (handler_feed.cc, handler_admin.cc) follow the same
// order — session, role, (a reason for review decisions), rate limit, the operation, audit
// append, response — and are audited when refused after the session check. Feed batches
// and review decisions are applied one at a time (FeedApplier's contract).
//
// Clearance: every search and record view runs under ordinary clearance, except in a
// session that has broken glass (BreakGlass), which sees hidden fields until it ends, and
// for a role permitted Operation::kReadArchived (data_manager), which reads under
// Clearance::DataManager: an archived child by id through the first anniversary of its
// archiving, as of today's date in Europe/London (server/london_time.h). A view of an
// archived record is audited like any view, its criteria naming the archive date.
//
// Thread safety: Handle may be called from many threads at once; the handler's state
// (sessions, rate limits) is internally synchronised. The dependencies must outlive it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "query/searcher.h"
#include "server/config.h"
#include "server/ports.h"
#include "server/protocol_generated.h"
#include "server/rate_limit.h"
#include "server/sessions.h"

namespace cp::server {

// Milliseconds since the Unix epoch; tests pass a clock they can move.
using Clock = std::function<int64_t()>;
int64_t SystemNowMs();

class RequestHandler {
 public:
  struct Deps {
    ChildStore* store = nullptr;       // required
    AccountsPort* accounts = nullptr;  // required
    AuditPort* audit = nullptr;        // required
    Clock clock = SystemNowMs;
  };

  RequestHandler(const ServerConfig& config, Deps deps);
  RequestHandler(const RequestHandler&) = delete;
  RequestHandler& operator=(const RequestHandler&) = delete;

  // The response frame (length prefix included) to `request`, which passed
  // VerifyEnvelope, from a client at `address` (an IP literal).
  //
  // With `deferred`, the request's audit events are not appended but added there, and the
  // response may leave only after the caller has appended them all durably
  // (CommitDeferred): if that fails, the caller sends AuditFailure(id) instead. Without it,
  // Handle appends them itself before it returns.
  std::string Handle(const protocol::Envelope& request, const std::string& address,
                     std::vector<AuditEvent>* deferred = nullptr);

  // Requests that never block on anything but the audit append and take no more than a
  // search's time: the server handles them on its I/O threads, with the audit deferred,
  // instead of handing them to a worker (a thread hand-off each way cost more CPU than
  // the search itself). Logins (Argon2), feed batches, review and administration — slow,
  // or serialised on a lock — go to the workers.
  static bool RunsInline(protocol::Body type);
  // Appends `events` in order, without blocking; `done` gets OK once all are durable, or
  // the first failure. Runs `done` on the audit committer's thread (or the caller's).
  void CommitDeferred(std::vector<AuditEvent> events, std::function<void(Status)> done);
  // The response that replaces a deferred one whose audit append failed.
  static std::string AuditFailure(uint64_t request_id);
  // Waits until every audit event handed to CommitDeferred has been written and reported.
  void FlushAudit() { deps_.audit->Flush(); }

  // Whether a new connection from `address` (an IP literal) may be served at all: the
  // address lies in a registered range of some organisation (the per-user check at Login
  // stays). Called before any byte is read. A refusal is audited (action "connect",
  // outcome unregistered_address) — at most kRefusalAuditsPerSecond a second on average
  // across all addresses, so a scan cannot flood the audit trail; the rest are counted in
  // the log. A failing accounts store refuses (fails closed).
  bool AdmitConnection(const std::string& address);
  static constexpr double kRefusalAuditsPerSecond = 10;

  // While draining, every request is answered Unavailable.
  void SetDraining() { draining_.store(true); }
  bool draining() const { return draining_.load(); }
  // Applies a reloaded config's [limits], [sessions] and max_frame_bytes (SIGHUP;
  // server/handler_reload.cc). Open sessions stay open: the idle timeout applies to them
  // at once, a new lifetime to sessions opened from now on.
  void ApplyLimits(const ServerConfig& config);
  // Re-reads every open session's user from the accounts store (SIGHUP): a role changed
  // since login applies now, a session of a user who no longer exists is closed. Returns
  // how many were closed. `only_user` non-empty: that user's sessions only.
  size_t RefreshSessions(const std::string& only_user = "");
  size_t open_sessions() const { return sessions_.open_sessions(); }
  // Reported by Health.
  void SetConnectionCounter(std::function<uint32_t()> counter) {
    connections_ = std::move(counter);
  }

 private:
  struct Call;
  std::string Hello(const Call& call);
  std::string Login(const Call& call);
  std::string SecondFactor(const Call& call);
  std::string Search(const Call& call);
  std::string GetRecord(const Call& call);
  std::string SetShield(const Call& call, bool shield);
  std::string BreakGlass(const Call& call);
  std::string FeedBatch(const Call& call);
  std::string ReviewList(const Call& call);
  std::string ReviewResolve(const Call& call);
  std::string CreateOrganisation(const Call& call);
  std::string AddAddressRange(const Call& call);
  std::string CreateUser(const Call& call);
  std::string SetUserRole(const Call& call);
  std::string UnlockUser(const Call& call);
  std::string LockUser(const Call& call);
  std::string Logout(const Call& call);
  std::string Health(const Call& call);

  // Session, permission, reason (unless `reason` is null: the operation takes none), rate
  // and quota checks. On refusal returns the error frame (already audited) and leaves
  // *session untouched.
  std::string Admit(const Call& call, Operation op, const std::string& action,
                    const std::string* reason, bool counts_towards_quota, Session* session);
  // An administration result, or its refusal, audited as action "admin" with `detail`.
  std::string AdminOutcome(const Call& call, const Session& session, const Status& status,
                           const std::string& detail, const std::function<std::string()>& reply);
  std::string Refuse(const Call& call, const Session* session, const std::string& action,
                     protocol::ErrorCode code, const std::string& message,
                     uint32_t retry_after_ms = 0);
  Status Audit(const Call& call, const Session* session, AuditEvent event);
  // A request with no valid session (or login ticket): refused NotAuthenticated, and
  // audited with no user — at most kRefusalAuditsPerSecond a second on average from one
  // address, so that a client replaying a dead token cannot flood the trail.
  std::string RefuseUnauthenticated(const Call& call, const std::string& action,
                                    const std::string& message);

  const ServerConfig config_;  // as started: ApplyLimits changes the parts below
  std::atomic<uint32_t> max_frame_bytes_;
  Deps deps_;
  Searcher searcher_;
  SessionTable sessions_;
  RateLimiter limiter_;
  RateLimiter refusal_audits_;  // audited refusals before a session: connections (one
                                // bucket), requests (a bucket per address)
  std::mutex feed_mu_;          // one feed batch or review decision at a time
  std::atomic<bool> draining_{false};
  std::function<uint32_t()> connections_;
};

}  // namespace cp::server
