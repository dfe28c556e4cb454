// Login tickets and sessions, held in memory (a restart logs everyone out).
//
// A login is two steps: a correct password (from a registered address) yields a ticket;
// the ticket and a correct TOTP code yield a session token. Tickets and tokens are 256-bit
// random values (OpenSSL RAND_bytes), hex encoded, bound to the address they were issued
// to. A session ends at its absolute expiry, after `idle` without a request, or at Logout.
//
// Thread safety: every method may be called from many threads; one mutex guards the maps.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "server/ports.h"
#include "util/status.h"

namespace cp::server {

struct Session {
  UserProfile profile;
  std::string address;
  int64_t expires_ms = 0;
  int64_t last_used_ms = 0;
  bool break_glass = false;  // hidden fields visible for this session only
  std::string break_glass_reason;
};

class SessionTable {
 public:
  struct Limits {
    int64_t ticket_ms = 120000;
    int64_t lifetime_ms = 8 * 3600 * 1000LL;
    int64_t idle_ms = 15 * 60 * 1000LL;
  };
  explicit SessionTable(Limits limits) : limits_(limits) {}
  SessionTable(const SessionTable&) = delete;
  SessionTable& operator=(const SessionTable&) = delete;

  // A new ticket for `user`, who has given the right password from `address`.
  std::string IssueTicket(const std::string& user, const std::string& address, int64_t now_ms);
  // The user a live ticket was issued to from `address`; NotFound when the ticket is
  // unknown, expired or from another address. The ticket stays valid (a mistyped code may
  // be retried; lockout bounds the tries) until RedeemTicket.
  Result<std::string> TicketUser(const std::string& ticket, const std::string& address,
                                 int64_t now_ms);
  void RedeemTicket(const std::string& ticket);

  // Opens a session and returns its token.
  std::string Open(UserProfile profile, const std::string& address, int64_t now_ms);
  // The live session for `token` used from `address`, marked used at `now_ms`. NotFound
  // when unknown, expired, idle too long (it is then closed) or used from another address.
  Result<Session> Use(const std::string& token, const std::string& address, int64_t now_ms);
  // Marks the session as having broken glass. NotFound when it is gone.
  Status SetBreakGlass(const std::string& token, const std::string& reason);
  void Close(const std::string& token);
  // Ends every session and login ticket of `user` (an administrator locked the account).
  // Returns how many sessions were closed.
  size_t CloseUser(const std::string& user);

  Limits limits() const;
  // New limits for tickets and sessions issued from now on, and for the idle check of
  // every session (SIGHUP reload). An open session keeps the expiry it was issued with.
  void SetLimits(Limits limits);
  size_t open_sessions() const;

  // Re-reads the profile of every open session's user with `profile` and replaces the
  // one the session was opened with (SIGHUP reload, and an administrator's role change: a
  // role changed since login applies now). A session whose new role may not break glass
  // loses any glass it broke. A session whose user `profile` reports NotFound is closed;
  // one whose lookup fails otherwise keeps its profile. `profile` is called without the
  // table's lock held. Returns how many sessions were closed. `only_user` non-empty: that
  // user's sessions only (a role change reads one account, not every session's).
  size_t RefreshProfiles(const std::function<Result<UserProfile>(const std::string& user)>& profile,
                         const std::string& only_user = "");

 private:
  struct Ticket {
    std::string user;
    std::string address;
    int64_t expires_ms;
  };
  void SweepLocked(int64_t now_ms);

  mutable std::mutex mu_;
  Limits limits_;  // guarded by mu_
  std::unordered_map<std::string, Ticket> tickets_;
  std::unordered_map<std::string, Session> sessions_;
  int64_t last_sweep_ms_ = 0;
};

// 32 random bytes as 64 hex digits.
std::string RandomToken();

}  // namespace cp::server
