// Anti-trawling limits per user: a token bucket (a burst, then a steady rate) and a daily
// quota of searches per UTC day. Held in memory: a restart refills every bucket and
// resets the day's counts.
//
// Thread safety: Admit may be called from many threads; one mutex guards the state.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace cp::server {

class RateLimiter {
 public:
  enum class Verdict { kOk, kRateLimited, kQuotaExceeded };

  // `per_second` > 0 tokens refill a bucket of `burst` >= 1 tokens.
  RateLimiter(double per_second, double burst) : per_second_(per_second), burst_(burst) {}
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Takes one token for `user` and, when `counts_towards_quota`, one unit of the day's
  // `daily_quota`. A refusal takes nothing; for kRateLimited *retry_after_ms says when a
  // token will be there.
  Verdict Admit(const std::string& user, bool counts_towards_quota, uint32_t daily_quota,
                int64_t now_ms, uint32_t* retry_after_ms);

 private:
  struct Bucket {
    double tokens;
    int64_t updated_ms;
    int64_t day;  // days since the epoch, UTC
    uint32_t used_today;
  };
  const double per_second_;
  const double burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace cp::server
