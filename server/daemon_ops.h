// contactpointd's operations glue: what the metrics endpoint and SIGHUP see of the running
// daemon (docs/operations.md: "Monitoring", "Reloading").
//
// The endpoint starts before the database opens, so /health answers while a large
// database opens and /ready says 503 until the server accepts. The daemon attaches the
// store, handler and server once they run (Attach) and detaches them before tearing them
// down (the Attachment's destructor).
//
// Backup (SIGUSR1, BackupNow): the attached BackupJob makes a backup on its own thread.
//
// Reload (SIGHUP, ReloadNow): the config file is read again. One that fails to load is
// logged and the running config kept. Otherwise the reloadable keys (config.h:
// KeysNeedingRestart) apply at once without dropping a connection, every other changed
// key is logged as needing a restart, and every open session's user is re-read from the
// accounts store (the only in-memory copy of account data; the store itself is read on
// every login and request).
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "server/config.h"
#include "server/http_endpoint.h"

namespace cp {
class ChildStore;
struct EngineEvent;
}

namespace cp::server {

class BackupJob;
class RequestHandler;
class Server;

// One log line for RocksDB's background work (ChildStore::Options::engine_events): events
// "rocksdb_flush", "rocksdb_compaction" (family, reason, ms, bytes; a flush's entries, a
// compaction's output level) and "rocksdb_write_stall" (family, condition, previous; an
// error line when writes stop). Column family names only: no key, no value.
void LogEngineEvent(const EngineEvent& e);

class DaemonOps {
 public:
  DaemonOps(std::string config_path, const ServerConfig& config);
  // Stops the endpoint's thread first: it calls into this object.
  ~DaemonOps();
  DaemonOps(const DaemonOps&) = delete;
  DaemonOps& operator=(const DaemonOps&) = delete;

  // Starts the endpoint (when the config has [metrics] listen) and the SIGHUP handler.
  // The endpoint's errors (OpsEndpoint::Start).
  Status Start();
  // The metrics port (0 without an endpoint).
  uint16_t port() const;

  // While it lives, scrapes and reloads reach the three (which must outlive it).
  class Attachment {
   public:
    ~Attachment();
    Attachment(const Attachment&) = delete;
    Attachment& operator=(const Attachment&) = delete;

   private:
    friend class DaemonOps;
    explicit Attachment(DaemonOps* ops) : ops_(ops) {}
    DaemonOps* ops_;
  };
  // Also applies the running config's limits to `handler` and `server` (a reload may have
  // come while the database was opening) and tells systemd the daemon is ready.
  // `backups` (may be null: no [backup] dir) takes SIGUSR1's backup requests.
  std::unique_ptr<Attachment> Attach(ChildStore* store, RequestHandler* handler, Server* server,
                                     BackupJob* backups = nullptr);

  std::string RenderMetrics();
  bool Ready();
  void ReloadNow();
  // SIGUSR1: asks the backup job for a backup now (logged and ignored without one).
  void BackupNow();

 private:
  const std::string config_path_;
  std::unique_ptr<OpsEndpoint> endpoint_;
  std::mutex mu_;  // guards everything below; held while a scrape or reload uses them
  ServerConfig running_;
  ChildStore* store_ = nullptr;
  RequestHandler* handler_ = nullptr;
  Server* server_ = nullptr;
  BackupJob* backups_ = nullptr;
};

// sd_notify(3) without libsystemd: sends `state` ("READY=1", ...) to $NOTIFY_SOCKET when
// systemd started the daemon with Type=notify; does nothing otherwise.
void NotifySystemd(const std::string& state);

}  // namespace cp::server
