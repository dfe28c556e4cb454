// RequestHandler's reload (SIGHUP): new limits, and sessions re-read from the accounts store.
#include "server/handler.h"

namespace cp::server {

void RequestHandler::ApplyLimits(const ServerConfig& config) {
  max_frame_bytes_.store(config.max_frame_bytes);
  limiter_.SetRates(config.rate_per_second, config.rate_burst);
  sessions_.SetLimits(SessionTable::Limits{config.login_ticket_s * 1000LL,
                                           config.session_lifetime_s * 1000LL,
                                           config.session_idle_s * 1000LL});
}

size_t RequestHandler::RefreshSessions(const std::string& only_user) {
  return sessions_.RefreshProfiles(
      [this](const std::string& user) { return deps_.accounts->Profile(user); }, only_user);
}

}  // namespace cp::server
