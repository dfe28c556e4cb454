// contactpointd's operations side: a plain-HTTP endpoint on a loopback port for Prometheus
// and health probes, and the SIGHUP (reload) and SIGUSR1 (backup) handlers. Both run on one thread of their own, so that
// neither a scrape nor a reload takes an I/O or worker thread from clients.
//
//   GET /metrics  200, Prometheus text format 0.0.4 (Handlers::metrics)
//   GET /health   200 "ok" while the process serves this endpoint (liveness)
//   GET /ready    200 "ready" when Handlers::ready says so, else 503 "not ready"
//   anything else 404 (unknown path) or 405 (a method other than GET or HEAD)
//
// One request per connection (the response says Connection: close); a request head above
// 8 KiB, or one not complete within 5 seconds, is answered 400/dropped. The address must be
// a loopback address (the config refuses any other; Start checks again).
//
// Thread safety: the handlers are called on the endpoint's thread, one at a time; they must
// be safe to call alongside whatever the rest of the process does. Start and the
// destructor are called from one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "util/status.h"

namespace cp::server {

class OpsEndpoint {
 public:
  struct Handlers {
    std::function<std::string()> metrics;  // required when listening
    std::function<bool()> ready;           // required when listening
    std::function<void()> reload;          // on SIGHUP; empty: SIGHUP is ignored
    std::function<void()> backup;          // on SIGUSR1; empty: SIGUSR1 is ignored
  };
  // Binds `address`:`port` (0: an ephemeral port) unless `address` is empty (no HTTP:
  // signals only), installs the SIGHUP and SIGUSR1 handlers and starts the thread. InvalidArgument for
  // a non-loopback address, IOError when the port cannot be bound.
  static Result<std::unique_ptr<OpsEndpoint>> Start(const std::string& address, uint16_t port,
                                                    Handlers handlers);
  // Stops the thread; a request being answered is cut off. SIGHUP is ignored from then on.
  ~OpsEndpoint();
  OpsEndpoint(const OpsEndpoint&) = delete;
  OpsEndpoint& operator=(const OpsEndpoint&) = delete;

  // The bound port; 0 without HTTP.
  uint16_t port() const;

  struct Impl;

 private:
  explicit OpsEndpoint(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cp::server
