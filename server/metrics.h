// contactpointd's metrics, rendered in Prometheus' text exposition format 0.0.4 (served by
// server/http_endpoint.h on a loopback port; the list and what each means:
// docs/operations.md, "Metrics").
//
// Counters and histograms live in one process-wide ServerMetrics (Global()), updated on
// the request path with relaxed atomics only: no lock, no allocation. Gauges that read
// the database (RocksDB figures, feed lag, review queue) are collected at scrape time.
//
// Labels never hold personal data: message types, error-code names and feed source
// names only.
//
// Thread safety: every method may be called from many threads at once.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/protocol_generated.h"
#include "storage/child_store.h"

namespace cp::server {

// A latency histogram with fixed bounds (seconds), from half a millisecond to 10 s.
class LatencyHistogram {
 public:
  static constexpr std::array<double, 14> kBounds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  void Observe(int64_t nanos);
  // Cumulative counts per bound, then the +Inf count (== the number observed).
  std::array<uint64_t, kBounds.size() + 1> Cumulative() const;
  double SumSeconds() const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> counts_{};  // not cumulative
  std::atomic<uint64_t> sum_nanos_{0};
};

// What a scrape reads from outside the counters: the server's state and the database's.
struct ScrapeGauges {
  bool ready = false;
  bool draining = false;
  uint32_t connections = 0;
  uint64_t sessions = 0;
  std::optional<ChildStore::EngineStats> engine;  // absent until the database is open
  struct Feed {
    std::string source;
    uint64_t last_batch = 0;
    int64_t last_unix = 0;  // 0: no batch applied yet (no lag reported)
    bool paused = false;
  };
  std::vector<Feed> feeds;
  std::optional<uint64_t> review_queue;
  struct Backups {
    uint64_t succeeded = 0, failed = 0;  // since start
    int64_t last_success_unix = 0;       // 0: none yet
  };
  std::optional<Backups> backups;  // absent without [backup] dir
  int64_t now_unix = 0;
};

// Fills the database's part of `g` (engine, feeds, review queue). A read error is
// returned and leaves those fields as they were.
Status CollectStoreGauges(const ChildStore& store, int64_t now_unix, ScrapeGauges* g);

class ServerMetrics {
 public:
  static ServerMetrics& Global();

  // One request answered: its type, the response frame sent (length prefix included: an
  // Error body counts as an error with its code as the refusal reason), and how long the
  // server took from reading it to having the response.
  void ObserveRequest(protocol::Body type, std::string_view response_frame, int64_t nanos);
  // A frame refused before it was a request (too large, malformed): counted by reason.
  void ObserveFrameRefusal(protocol::ErrorCode code);
  // One audit-trail append (synced), and whether it succeeded.
  void ObserveAuditAppend(int64_t nanos, bool ok);
  // One SIGHUP reload, applied or refused.
  void ObserveReload(bool ok);

  // The exposition text: every counter and histogram, then the gauges in `g`.
  std::string Render(const ScrapeGauges& g) const;

 private:
  static constexpr size_t kTypes = static_cast<size_t>(protocol::Body::MAX) + 1;
  static constexpr size_t kCodes = static_cast<size_t>(protocol::ErrorCode::MAX) + 1;
  std::array<std::array<std::atomic<uint64_t>, 2>, kTypes> requests_{};  // [type][ok, error]
  std::array<LatencyHistogram, kTypes> latency_;
  std::array<std::atomic<uint64_t>, kCodes> refusals_{};
  LatencyHistogram audit_append_;
  std::atomic<uint64_t> audit_failures_{0};
  std::array<std::atomic<uint64_t>, 2> reloads_{};  // [ok, failed]
};

}  // namespace cp::server
