// Anti-trawling limit per user: a token bucket (a burst, then a steady rate). Held in
// memory: a restart refills every bucket. (The daily quota is the accounts store's:
// AccountsPort::ChargeSearch.)
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
  // `per_second` > 0 tokens refill a bucket of `burst` >= 1 tokens.
  RateLimiter(double per_second, double burst) : per_second_(per_second), burst_(burst) {}
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Takes one token for `user`. false when there is none; *retry_after_ms (if not null)
  // then says when there will be one.
  bool Admit(const std::string& user, int64_t now_ms, uint32_t* retry_after_ms);

  // New rates for every bucket from now on (SIGHUP reload); same bounds as the
  // constructor. A bucket keeps its tokens, capped at the new burst.
  void SetRates(double per_second, double burst);

 private:
  struct Bucket {
    double tokens;
    int64_t updated_ms;
  };
  std::mutex mu_;
  double per_second_;  // guarded by mu_
  double burst_;       // guarded by mu_
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace cp::server
