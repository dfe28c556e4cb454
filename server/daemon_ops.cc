#include "server/daemon_ops.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "server/handler.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/server.h"
#include "server/backup_job.h"
#include "storage/child_store.h"

namespace cp::server {

void LogEngineEvent(const EngineEvent& e) {
  const double ms = static_cast<double>(e.micros) / 1000.0;
  switch (e.kind) {
    case EngineEvent::Kind::kFlush:
      LogInfo("rocksdb flushed a memtable", {{"event", "rocksdb_flush"},
                                             {"family", e.family},
                                             {"reason", e.reason},
                                             {"ms", ms},
                                             {"bytes", e.bytes_written},
                                             {"entries", e.entries}});
      return;
    case EngineEvent::Kind::kCompaction:
      LogInfo("rocksdb finished a compaction", {{"event", "rocksdb_compaction"},
                                                {"family", e.family},
                                                {"reason", e.reason},
                                                {"ms", ms},
                                                {"bytes", e.bytes_written},
                                                {"output_level", e.output_level}});
      return;
    case EngineEvent::Kind::kStall: {
      const std::initializer_list<LogField> fields = {{"event", "rocksdb_write_stall"},
                                                      {"family", e.family},
                                                      {"condition", e.condition},
                                                      {"previous", e.previous}};
      if (e.condition == "stopped") {
        LogError("rocksdb stopped writes: flushes or compactions fell behind", fields);
      } else {
        LogInfo("rocksdb write condition changed", fields);
      }
      return;
    }
  }
}

DaemonOps::DaemonOps(std::string config_path, const ServerConfig& config)
    : config_path_(std::move(config_path)), running_(config) {
  SetLogFormat(config.log_json ? LogFormat::kJson : LogFormat::kText);
}

DaemonOps::~DaemonOps() { endpoint_.reset(); }

Status DaemonOps::Start() {
  OpsEndpoint::Handlers h;
  h.metrics = [this] { return RenderMetrics(); };
  h.ready = [this] { return Ready(); };
  h.reload = [this] { ReloadNow(); };
  h.backup = [this] { BackupNow(); };
  auto endpoint = OpsEndpoint::Start(running_.metrics_address, running_.metrics_port, std::move(h));
  if (!endpoint.ok()) return endpoint.status();
  endpoint_ = std::move(*endpoint);
  if (endpoint_->port() != 0) {
    LogInfo("metrics on " + running_.metrics_address + ":" + std::to_string(endpoint_->port()),
            {{"event", "metrics_listening"}, {"port", uint32_t{endpoint_->port()}}});
  }
  return Status::OK();
}

uint16_t DaemonOps::port() const { return endpoint_ ? endpoint_->port() : 0; }

std::unique_ptr<DaemonOps::Attachment> DaemonOps::Attach(ChildStore* store, RequestHandler* handler,
                                                         Server* server, BackupJob* backups) {
  {
    std::lock_guard lock(mu_);
    store_ = store;
    backups_ = backups;
    handler_ = handler;
    server_ = server;
    handler_->ApplyLimits(running_);
    server_->ApplyLimits(running_);
  }
  NotifySystemd("READY=1");
  return std::unique_ptr<Attachment>(new Attachment(this));
}

DaemonOps::Attachment::~Attachment() {
  std::lock_guard lock(ops_->mu_);
  ops_->store_ = nullptr;
  ops_->handler_ = nullptr;
  ops_->server_ = nullptr;
  ops_->backups_ = nullptr;
}

bool DaemonOps::Ready() {
  std::lock_guard lock(mu_);
  return store_ != nullptr && server_ != nullptr && !handler_->draining();
}

std::string DaemonOps::RenderMetrics() {
  ScrapeGauges g;
  const int64_t now_unix = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  std::lock_guard lock(mu_);
  if (store_ != nullptr) {
    g.ready = !handler_->draining();
    g.draining = handler_->draining();
    g.connections = server_->connections();
    g.sessions = handler_->open_sessions();
    if (backups_ != nullptr) {
      g.backups = ScrapeGauges::Backups{backups_->succeeded(), backups_->failed(),
                                        backups_->last_success_unix_s()};
    }
    Status s = CollectStoreGauges(*store_, now_unix, &g);
    if (!s.ok()) {
      LogError("metrics: reading the database's figures failed: " + s.ToString(),
               {{"event", "metrics_store_failed"}});
    }
  }
  return ServerMetrics::Global().Render(g);
}

void DaemonOps::ReloadNow() {
  NotifySystemd("RELOADING=1");
  auto fresh = LoadConfig(config_path_);
  if (!fresh.ok()) {
    ServerMetrics::Global().ObserveReload(false);
    LogError("reload refused, the running configuration is kept: " + fresh.status().message(),
             {{"event", "reload_failed"}});
    NotifySystemd("READY=1");
    return;
  }
  std::lock_guard lock(mu_);
  for (const std::string& key : KeysNeedingRestart(running_, *fresh)) {
    LogError("reload: " + key + " changed and takes effect at the next restart",
             {{"event", "reload_needs_restart"}, {"key", key}});
  }
  ApplyReloadable(*fresh, &running_);
  SetLogFormat(running_.log_json ? LogFormat::kJson : LogFormat::kText);
  size_t closed = 0;
  if (handler_ != nullptr) {
    handler_->ApplyLimits(running_);
    closed = handler_->RefreshSessions();
  }
  if (server_ != nullptr) server_->ApplyLimits(running_);
  ServerMetrics::Global().ObserveReload(true);
  LogInfo("reloaded the configuration", {{"event", "reloaded"},
                                         {"max_connections", running_.max_connections},
                                         {"rate_per_second", running_.rate_per_second},
                                         {"rate_burst", running_.rate_burst},
                                         {"sessions_closed", uint64_t{closed}}});
  NotifySystemd("READY=1");
}

void DaemonOps::BackupNow() {
  std::lock_guard lock(mu_);
  if (backups_ == nullptr) {
    LogError(store_ == nullptr ? "backup requested (SIGUSR1) before the database is open; ignored"
                               : "backup requested (SIGUSR1) but [backup] dir is not configured; ignored",
             {{"event", "backup_refused"}});
    return;
  }
  backups_->RequestNow();
}

void NotifySystemd(const std::string& state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || (path[0] != '/' && path[0] != '@')) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const size_t len = std::strlen(path);
  if (len >= sizeof addr.sun_path) return;
  std::memcpy(addr.sun_path, path, len);
  if (path[0] == '@') addr.sun_path[0] = '\0';  // an abstract socket
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  const socklen_t addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  // Best effort: systemd's start timeout reports a daemon that never says READY.
  (void)sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
               reinterpret_cast<const sockaddr*>(&addr), addr_len);
  close(fd);
}

}  // namespace cp::server
