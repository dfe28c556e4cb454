#include "server/sessions.h"

#include <openssl/rand.h>

#include <cstdlib>
#include <optional>

namespace cp::server {

std::string RandomToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();  // no safe way to go on
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

void SessionTable::SweepLocked(int64_t now_ms) {
  if (now_ms - last_sweep_ms_ < 60000) return;
  last_sweep_ms_ = now_ms;
  std::erase_if(tickets_, [&](const auto& kv) { return kv.second.expires_ms <= now_ms; });
  std::erase_if(sessions_, [&](const auto& kv) {
    return kv.second.expires_ms <= now_ms || now_ms - kv.second.last_used_ms >= limits_.idle_ms;
  });
}

std::string SessionTable::IssueTicket(const std::string& user, const std::string& address,
                                      int64_t now_ms) {
  std::string ticket = RandomToken();
  std::lock_guard lock(mu_);
  SweepLocked(now_ms);
  tickets_[ticket] = Ticket{user, address, now_ms + limits_.ticket_ms};
  return ticket;
}

Result<std::string> SessionTable::TicketUser(const std::string& ticket, const std::string& address,
                                             int64_t now_ms) {
  std::lock_guard lock(mu_);
  auto it = tickets_.find(ticket);
  if (it == tickets_.end() || it->second.expires_ms <= now_ms || it->second.address != address) {
    return Status::NotFound("no such login ticket, or it expired: log in again");
  }
  return it->second.user;
}

void SessionTable::RedeemTicket(const std::string& ticket) {
  std::lock_guard lock(mu_);
  tickets_.erase(ticket);
}

std::string SessionTable::Open(UserProfile profile, const std::string& address, int64_t now_ms) {
  std::string token = RandomToken();
  Session s;
  s.profile = std::move(profile);
  s.address = address;
  s.last_used_ms = now_ms;
  std::lock_guard lock(mu_);
  s.expires_ms = now_ms + limits_.lifetime_ms;
  SweepLocked(now_ms);
  sessions_[token] = std::move(s);
  return token;
}

Result<Session> SessionTable::Use(const std::string& token, const std::string& address,
                                  int64_t now_ms) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(token);
  if (it == sessions_.end()) return Status::NotFound("no session: log in");
  Session& s = it->second;
  if (s.expires_ms <= now_ms || now_ms - s.last_used_ms >= limits_.idle_ms) {
    sessions_.erase(it);
    return Status::NotFound("the session has ended: log in again");
  }
  if (s.address != address) return Status::NotFound("the session belongs to another address");
  s.last_used_ms = now_ms;
  return s;
}

Status SessionTable::SetBreakGlass(const std::string& token, const std::string& reason) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(token);
  if (it == sessions_.end()) return Status::NotFound("no session: log in");
  it->second.break_glass = true;
  it->second.break_glass_reason = reason;
  return Status::OK();
}

void SessionTable::Close(const std::string& token) {
  std::lock_guard lock(mu_);
  sessions_.erase(token);
}

SessionTable::Limits SessionTable::limits() const {
  std::lock_guard lock(mu_);
  return limits_;
}

void SessionTable::SetLimits(Limits limits) {
  std::lock_guard lock(mu_);
  limits_ = limits;
}

size_t SessionTable::open_sessions() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

size_t SessionTable::CloseUser(const std::string& user) {
  std::lock_guard lock(mu_);
  std::erase_if(tickets_, [&](const auto& t) { return t.second.user == user; });
  return std::erase_if(sessions_, [&](const auto& s) { return s.second.profile.user == user; });
}

size_t SessionTable::RefreshProfiles(
    const std::function<Result<UserProfile>(const std::string& user)>& profile,
    const std::string& only_user) {
  std::unordered_map<std::string, std::optional<Result<UserProfile>>> fresh;
  {
    std::lock_guard lock(mu_);
    for (const auto& [token, s] : sessions_) {
      if (only_user.empty() || s.profile.user == only_user) fresh.try_emplace(s.profile.user);
    }
  }
  for (auto& [user, p] : fresh) p.emplace(profile(user));
  size_t closed = 0;
  std::lock_guard lock(mu_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    auto f = fresh.find(it->second.profile.user);
    if (f == fresh.end()) {  // another user's, or opened since the lookups: its profile is current
      ++it;
    } else if ((*f->second).ok()) {
      it->second.profile = **f->second;
      // Glass broken under a role that may no longer break it is mended.
      if (!it->second.profile.May(Operation::kBreakGlass)) {
        it->second.break_glass = false;
        it->second.break_glass_reason.clear();
      }
      ++it;
    } else if (f->second->status().IsNotFound()) {
      it = sessions_.erase(it);
      ++closed;
    } else {
      ++it;
    }
  }
  return closed;
}

}  // namespace cp::server
