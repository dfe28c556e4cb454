#include "server/rate_limit.h"

#include <algorithm>
#include <cmath>

namespace cp::server {

bool RateLimiter::Admit(const std::string& user, int64_t now_ms, uint32_t* retry_after_ms) {
  std::lock_guard lock(mu_);
  auto [it, fresh] = buckets_.try_emplace(user, Bucket{burst_, now_ms});
  Bucket& b = it->second;
  if (!fresh) {
    const double elapsed_s = std::max<int64_t>(0, now_ms - b.updated_ms) / 1000.0;
    b.tokens = std::min(burst_, b.tokens + elapsed_s * per_second_);
    b.updated_ms = std::max(b.updated_ms, now_ms);
  }
  if (b.tokens < 1) {
    if (retry_after_ms) {
      *retry_after_ms = static_cast<uint32_t>(std::ceil((1 - b.tokens) / per_second_ * 1000));
    }
    return false;
  }
  b.tokens -= 1;
  return true;
}

void RateLimiter::SetRates(double per_second, double burst) {
  std::lock_guard lock(mu_);
  per_second_ = per_second;
  burst_ = burst;
  for (auto& [user, b] : buckets_) b.tokens = std::min(b.tokens, burst_);
}

}  // namespace cp::server
