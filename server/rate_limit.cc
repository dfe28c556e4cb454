#include "server/rate_limit.h"

#include <algorithm>
#include <cmath>

namespace cp::server {

RateLimiter::Verdict RateLimiter::Admit(const std::string& user, bool counts_towards_quota,
                                        uint32_t daily_quota, int64_t now_ms,
                                        uint32_t* retry_after_ms) {
  constexpr int64_t kDayMs = 86400000;
  const int64_t today = now_ms / kDayMs;
  std::lock_guard lock(mu_);
  auto [it, fresh] = buckets_.try_emplace(user, Bucket{burst_, now_ms, today, 0});
  Bucket& b = it->second;
  if (!fresh) {
    const double elapsed_s = std::max<int64_t>(0, now_ms - b.updated_ms) / 1000.0;
    b.tokens = std::min(burst_, b.tokens + elapsed_s * per_second_);
    b.updated_ms = std::max(b.updated_ms, now_ms);
    if (b.day != today) {
      b.day = today;
      b.used_today = 0;
    }
  }
  if (counts_towards_quota && b.used_today >= daily_quota) return Verdict::kQuotaExceeded;
  if (b.tokens < 1) {
    if (retry_after_ms) {
      *retry_after_ms = static_cast<uint32_t>(std::ceil((1 - b.tokens) / per_second_ * 1000));
    }
    return Verdict::kRateLimited;
  }
  b.tokens -= 1;
  if (counts_towards_quota) ++b.used_today;
  return Verdict::kOk;
}

}  // namespace cp::server
