#include "server/metrics.h"

#include <charconv>
#include <cmath>

#include "server/frame.h"

namespace cp::server {

namespace fb = protocol;

namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

// A label value: backslash, double quote and newline escaped (format 0.0.4).
std::string LabelValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// The shortest text that reads back as `v` ("0.0005", not "0.00050000000000000001").
std::string Number(double v) {
  char buf[64];
  const auto format = std::abs(v) < 1e15 ? std::chars_format::fixed : std::chars_format::general;
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, format);
  return std::string(buf, ec == std::errc() ? end : buf);
}

void Header(std::string* out, const char* name, const char* type, const char* help) {
  *out += "# HELP ";
  *out += name;
  *out += ' ';
  *out += help;
  *out += "\n# TYPE ";
  *out += name;
  *out += ' ';
  *out += type;
  *out += '\n';
}

void Sample(std::string* out, std::string_view name, std::string_view labels, uint64_t v) {
  *out += name;
  if (!labels.empty()) *out += "{" + std::string(labels) + "}";
  *out += ' ' + std::to_string(v) + '\n';
}

void Sample(std::string* out, std::string_view name, std::string_view labels, double v) {
  *out += name;
  if (!labels.empty()) *out += "{" + std::string(labels) + "}";
  *out += ' ' + Number(v) + '\n';
}

// `labels` are the series' own ("type=\"Search\"") or empty.
void Histogram(std::string* out, const std::string& name, const std::string& labels,
               const LatencyHistogram& h) {
  const auto counts = h.Cumulative();
  const std::string sep = labels.empty() ? "" : labels + ",";
  for (size_t i = 0; i < LatencyHistogram::kBounds.size(); ++i) {
    Sample(out, name + "_bucket", sep + "le=\"" + Number(LatencyHistogram::kBounds[i]) + "\"",
           counts[i]);
  }
  Sample(out, name + "_bucket", sep + "le=\"+Inf\"", counts.back());
  Sample(out, name + "_sum", labels, h.SumSeconds());
  Sample(out, name + "_count", labels, counts.back());
}

}  // namespace

void LatencyHistogram::Observe(int64_t nanos) {
  if (nanos < 0) nanos = 0;
  const double seconds = static_cast<double>(nanos) / 1e9;
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  counts_[i].fetch_add(1, kRelaxed);
  sum_nanos_.fetch_add(static_cast<uint64_t>(nanos), kRelaxed);
}

std::array<uint64_t, LatencyHistogram::kBounds.size() + 1> LatencyHistogram::Cumulative() const {
  std::array<uint64_t, kBounds.size() + 1> out{};
  uint64_t total = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    total += counts_[i].load(kRelaxed);
    out[i] = total;
  }
  return out;
}

double LatencyHistogram::SumSeconds() const {
  return static_cast<double>(sum_nanos_.load(kRelaxed)) / 1e9;
}

ServerMetrics& ServerMetrics::Global() {
  static ServerMetrics metrics;
  return metrics;
}

void ServerMetrics::ObserveRequest(fb::Body type, std::string_view frame, int64_t nanos) {
  const size_t t = static_cast<size_t>(type);
  if (t >= kTypes) return;
  bool error = false;
  if (frame.size() > kFrameHeaderBytes) {
    const auto* env = fb::GetEnvelope(frame.data() + kFrameHeaderBytes);
    if (const auto* e = env->body_as_Error()) {
      error = true;
      const size_t code = static_cast<size_t>(e->code());
      if (code < kCodes) refusals_[code].fetch_add(1, kRelaxed);
    }
  }
  requests_[t][error ? 1 : 0].fetch_add(1, kRelaxed);
  latency_[t].Observe(nanos);
}

void ServerMetrics::ObserveFrameRefusal(fb::ErrorCode code) {
  const size_t c = static_cast<size_t>(code);
  if (c < kCodes) refusals_[c].fetch_add(1, kRelaxed);
}

void ServerMetrics::ObserveAuditAppend(int64_t nanos, bool ok) {
  audit_append_.Observe(nanos);
  if (!ok) audit_failures_.fetch_add(1, kRelaxed);
}

void ServerMetrics::ObserveReload(bool ok) { reloads_[ok ? 0 : 1].fetch_add(1, kRelaxed); }

std::string ServerMetrics::Render(const ScrapeGauges& g) const {
  std::string out;
  out.reserve(32 << 10);
  Header(&out, "contactpointd_requests_total", "counter",
         "Requests answered, by message type and outcome (error: the response was an Error).");
  for (size_t t = 0; t < kTypes; ++t) {
    const auto type = static_cast<fb::Body>(t);
    if (!IsRequest(type)) continue;
    const std::string label = "type=\"" + LabelValue(fb::EnumNameBody(type)) + "\"";
    Sample(&out, "contactpointd_requests_total", label + ",outcome=\"ok\"",
           requests_[t][0].load(kRelaxed));
    Sample(&out, "contactpointd_requests_total", label + ",outcome=\"error\"",
           requests_[t][1].load(kRelaxed));
  }
  Header(&out, "contactpointd_request_duration_seconds", "histogram",
         "Time from a request read to its response ready, by message type.");
  for (size_t t = 0; t < kTypes; ++t) {
    const auto type = static_cast<fb::Body>(t);
    if (!IsRequest(type)) continue;
    Histogram(&out, "contactpointd_request_duration_seconds",
              "type=\"" + LabelValue(fb::EnumNameBody(type)) + "\"", latency_[t]);
  }
  Header(&out, "contactpointd_refusals_total", "counter",
         "Error responses by reason (the protocol's error code), frame refusals included.");
  for (size_t c = 1; c < kCodes; ++c) {
    Sample(&out, "contactpointd_refusals_total",
           "reason=\"" + LabelValue(ErrorCodeName(static_cast<fb::ErrorCode>(c))) + "\"",
           refusals_[c].load(kRelaxed));
  }
  Header(&out, "contactpointd_audit_append_duration_seconds", "histogram",
         "Audit-trail appends, each synced (group commit: the wait for the shared sync).");
  Histogram(&out, "contactpointd_audit_append_duration_seconds", "", audit_append_);
  Header(&out, "contactpointd_audit_append_failures_total", "counter",
         "Audit-trail appends that failed (the request got Internal and no data).");
  Sample(&out, "contactpointd_audit_append_failures_total", "", audit_failures_.load(kRelaxed));
  Header(&out, "contactpointd_config_reloads_total", "counter",
         "SIGHUP reloads, applied (ok) or refused and the running config kept (failed).");
  Sample(&out, "contactpointd_config_reloads_total", "result=\"ok\"", reloads_[0].load(kRelaxed));
  Sample(&out, "contactpointd_config_reloads_total", "result=\"failed\"",
         reloads_[1].load(kRelaxed));

  Header(&out, "contactpointd_ready", "gauge",
         "1 when the database is open, the server accepts and is not draining.");
  Sample(&out, "contactpointd_ready", "", uint64_t{g.ready});
  Header(&out, "contactpointd_draining", "gauge", "1 while draining (SIGTERM).");
  Sample(&out, "contactpointd_draining", "", uint64_t{g.draining});
  Header(&out, "contactpointd_open_connections", "gauge", "Client connections open now.");
  Sample(&out, "contactpointd_open_connections", "", uint64_t{g.connections});
  Header(&out, "contactpointd_open_sessions", "gauge",
         "Sessions in memory (logged in and not yet found expired).");
  Sample(&out, "contactpointd_open_sessions", "", g.sessions);
  if (g.engine) {
    const auto& e = *g.engine;
    if (e.statistics) {
      Header(&out, "contactpointd_rocksdb_block_cache_hits_total", "counter",
             "RocksDB block-cache hits since the database was opened.");
      Sample(&out, "contactpointd_rocksdb_block_cache_hits_total", "", e.block_cache_hits);
      Header(&out, "contactpointd_rocksdb_block_cache_misses_total", "counter",
             "RocksDB block-cache misses since the database was opened.");
      Sample(&out, "contactpointd_rocksdb_block_cache_misses_total", "", e.block_cache_misses);
      const uint64_t lookups = e.block_cache_hits + e.block_cache_misses;
      Header(&out, "contactpointd_rocksdb_block_cache_hit_ratio", "gauge",
             "Hits over lookups since open (for a recent rate, use the two counters).");
      Sample(&out, "contactpointd_rocksdb_block_cache_hit_ratio", "",
             lookups == 0 ? 0.0 : static_cast<double>(e.block_cache_hits) / lookups);
      Header(&out, "contactpointd_rocksdb_write_stall_seconds_total", "counter",
             "Time writers waited on RocksDB's write stalls (slowed or stopped) since open.");
      Sample(&out, "contactpointd_rocksdb_write_stall_seconds_total", "", e.stall_micros / 1e6);
    }
    Header(&out, "contactpointd_rocksdb_flushes_total", "counter",
           "Memtables RocksDB flushed to files since the database was opened.");
    Sample(&out, "contactpointd_rocksdb_flushes_total", "", e.flushes);
    Header(&out, "contactpointd_rocksdb_flush_seconds_total", "counter",
           "Time those flushes took (background threads).");
    Sample(&out, "contactpointd_rocksdb_flush_seconds_total", "", e.flush_micros / 1e6);
    Header(&out, "contactpointd_rocksdb_compactions_total", "counter",
           "Compactions RocksDB finished since the database was opened.");
    Sample(&out, "contactpointd_rocksdb_compactions_total", "", e.compactions);
    Header(&out, "contactpointd_rocksdb_compaction_seconds_total", "counter",
           "Time those compactions took (background threads).");
    Sample(&out, "contactpointd_rocksdb_compaction_seconds_total", "", e.compaction_micros / 1e6);
    Header(&out, "contactpointd_rocksdb_write_stalls_total", "counter",
           "Times a column family's writes were slowed or stopped because flushes or "
           "compactions fell behind, since open.");
    Sample(&out, "contactpointd_rocksdb_write_stalls_total", "condition=\"delayed\"",
           e.stalls_delayed);
    Sample(&out, "contactpointd_rocksdb_write_stalls_total", "condition=\"stopped\"",
           e.stalls_stopped);
    Header(&out, "contactpointd_rocksdb_write_stopped", "gauge",
           "1 while RocksDB stops writes (every write waits, the audit appends included).");
    Sample(&out, "contactpointd_rocksdb_write_stopped", "", uint64_t{e.write_stopped});
    Header(&out, "contactpointd_rocksdb_level0_files", "gauge",
           "Level-0 files of the column family with the most (reads check each one).");
    Sample(&out, "contactpointd_rocksdb_level0_files", "", e.level0_files);
    Header(&out, "contactpointd_rocksdb_block_cache_usage_bytes", "gauge",
           "Bytes held in the block cache.");
    Sample(&out, "contactpointd_rocksdb_block_cache_usage_bytes", "", e.block_cache_usage_bytes);
    Header(&out, "contactpointd_rocksdb_block_cache_capacity_bytes", "gauge",
           "The block cache's capacity (database.cache_mb).");
    Sample(&out, "contactpointd_rocksdb_block_cache_capacity_bytes", "",
           e.block_cache_capacity_bytes);
    Header(&out, "contactpointd_rocksdb_pending_compaction_bytes", "gauge",
           "RocksDB's estimate of bytes compaction must rewrite (all column families).");
    Sample(&out, "contactpointd_rocksdb_pending_compaction_bytes", "", e.pending_compaction_bytes);
  }
  if (!g.feeds.empty()) {
    Header(&out, "contactpointd_feed_lag_seconds", "gauge",
           "Seconds since the source's last batch was applied in full (sources with one).");
    for (const auto& f : g.feeds) {
      if (f.last_unix <= 0) continue;
      Sample(&out, "contactpointd_feed_lag_seconds", "source=\"" + LabelValue(f.source) + "\"",
             static_cast<double>(std::max<int64_t>(0, g.now_unix - f.last_unix)));
    }
    Header(&out, "contactpointd_feed_last_batch", "gauge",
           "The number of the source's last batch applied in full (0: none yet).");
    for (const auto& f : g.feeds) {
      Sample(&out, "contactpointd_feed_last_batch", "source=\"" + LabelValue(f.source) + "\"",
             f.last_batch);
    }
    Header(&out, "contactpointd_feed_paused", "gauge", "1 when the source's batches are refused.");
    for (const auto& f : g.feeds) {
      Sample(&out, "contactpointd_feed_paused", "source=\"" + LabelValue(f.source) + "\"",
             uint64_t{f.paused});
    }
  }
  if (g.review_queue) {
    Header(&out, "contactpointd_review_queue_items", "gauge",
           "Feed records waiting for a reviewer's decision.");
    Sample(&out, "contactpointd_review_queue_items", "", *g.review_queue);
  }
  if (g.backups) {
    Header(&out, "contactpointd_backups_total", "counter",
           "Backups the daemon attempted since it started, by result.");
    Sample(&out, "contactpointd_backups_total", "result=\"ok\"", g.backups->succeeded);
    Sample(&out, "contactpointd_backups_total", "result=\"failed\"", g.backups->failed);
    Header(&out, "contactpointd_backup_last_success_timestamp_seconds", "gauge",
           "Unix time of the last backup made and verified since start (0: none yet).");
    Sample(&out, "contactpointd_backup_last_success_timestamp_seconds", "",
           static_cast<uint64_t>(g.backups->last_success_unix));
  }
  return out;
}

Status CollectStoreGauges(const ChildStore& store, int64_t now_unix, ScrapeGauges* g) {
  std::vector<FeedState> states;
  Status s = store.ListFeedStates(&states);
  std::vector<ReviewItem> review;
  if (s.ok()) s = store.ListReview(&review);
  if (!s.ok()) return s;
  g->engine = store.GetEngineStats();
  g->feeds.clear();
  for (const auto& f : states) g->feeds.push_back({f.source, f.last_batch, f.last_unix, f.paused});
  g->review_queue = review.size();
  g->now_unix = now_unix;
  return Status::OK();
}

}  // namespace cp::server
