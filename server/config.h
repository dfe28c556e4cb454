// contactpointd's configuration: a TOML file (every key is documented in
// docs/contactpointd.toml.example).
//
// Loading is the edge where toml++'s exceptions are caught: LoadConfig returns a Status
// naming the key and what is wrong with it, and refuses a configuration that would be
// unsafe to run (plain TCP on a non-loopback address, TLS without a certificate).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "server/frame.h"
#include "util/status.h"

namespace cp::server {

// Default worker threads per core. A request's worker spends most of its time waiting for
// the audit trail's synced write, and group commit writes the entries of all the workers
// waiting in one sync: workers are sized to the requests in flight, not to the cores
// (docs/performance.md, "Server at 1M children": one per core capped 16 connections at
// the rate of two syncs at a time).
inline constexpr int kWorkersPerCore = 16;

struct ServerConfig {
  // [server]
  std::string listen_address = "127.0.0.1";
  uint16_t listen_port = 7443;  // 0: an ephemeral port (tests)
  bool plain_tcp = false;       // only with a loopback listen address
  int io_threads = 0;           // 0: one per core
  int workers = 0;              // search/storage threads; 0: kWorkersPerCore per core
  int max_connections = 256;
  uint32_t max_frame_bytes = kDefaultMaxRequestBytes;
  int idle_timeout_ms = 60000;   // waiting for the next request's first byte
  int read_timeout_ms = 10000;   // from a frame's first byte to its last
  int write_timeout_ms = 10000;  // writing one response
  int drain_timeout_ms = 30000;  // SIGTERM: how long in-flight requests may take
  // [tls]
  std::string certificate_file;  // PEM chain
  std::string private_key_file;  // PEM
  // [database]
  std::string db_dir;
  std::string key_file;  // default: <db_dir>.key
  size_t cache_mb = 256;
  // [sessions]
  int session_lifetime_s = 8 * 3600;
  int session_idle_s = 15 * 60;
  int login_ticket_s = 120;
  // [limits]
  double rate_per_second = 5;  // token bucket refill, per user
  double rate_burst = 20;      // token bucket size
  // [bench] Load tests only, and refused unless listen_address is a loopback address: a
  // search beyond the role's daily quota is still counted but no longer refused
  // (`contactpoint load`; docs/performance.md). Rate limits stay as [limits] sets them.
  bool bench_unmetered_quota = false;
  // [log]
  bool log_json = true;  // format = "json" (JSON lines) or "text"
  // slow_request_ms: a request that takes at least this long (read to answer, its audit
  // append included) is logged with its type and duration, to set beside the RocksDB
  // flush, compaction and stall lines when a latency percentile moves. 0: none logged.
  int slow_request_ms = 1000;
  // [metrics] listen = "127.0.0.1:9464": plain HTTP for /metrics, /health and /ready, on a
  // loopback address only (a non-loopback one is refused). Empty: no endpoint.
  std::string metrics_address;
  uint16_t metrics_port = 0;  // 0 with an address: an ephemeral port (tests)
  // [retention] The daily lifecycle run (server/retention_job.h): on, and the local time
  // in Europe/London it starts at, in minutes after midnight ("02:30" -> 150).
  bool retention_enabled = true;
  int retention_at_minute = 150;
  // [backup] Backups taken by the daemon (server/backup_job.h), which holds the database
  // (the CLI's `backup create` cannot while it runs): `dir` (empty: none), a daily time in
  // Europe/London (`at`, "HH:MM"; absent: only on SIGUSR1), how many to keep (`keep`, 1..1000:
  // older ones are purged after each new one) and whether each new backup is verified
  // (`verify`, reading every file back against its checksum).
  std::string backup_dir;
  int backup_at_minute = -1;  // -1: no daily backup
  int backup_keep = 7;
  bool backup_verify = true;
};

// Reloading (SIGHUP) applies these keys to the running server without dropping a
// connection: [server] max_connections, max_frame_bytes, idle/read/write/drain_timeout_ms;
// [sessions] *; [limits] *; [log] format, slow_request_ms. Every other key needs a restart: this
// returns the names of those that differ between `running` and `reloaded` (empty: all applied).
std::vector<std::string> KeysNeedingRestart(const ServerConfig& running,
                                            const ServerConfig& reloaded);
// Copies the reloadable keys (above) of `reloaded` into *running.
void ApplyReloadable(const ServerConfig& reloaded, ServerConfig* running);

// Reads and checks the file. InvalidArgument with the key's name for a bad value;
// IOError when the file cannot be read.
Result<ServerConfig> LoadConfig(const std::string& path);
// The same from TOML text (tests).
Result<ServerConfig> ParseConfig(std::string_view toml_text);

// Whether `address` is an IPv4 or IPv6 loopback address.
bool IsLoopbackAddress(const std::string& address);

}  // namespace cp::server
