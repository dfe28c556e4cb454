// contactpointd: the query server. `contactpointd --config FILE` (keys documented in
// docs/contactpointd.toml.example).
//
// Exit codes: 0 stopped cleanly after a drain (SIGTERM, SIGINT); 2 usage or configuration
// error; 3 the database, accounts store or audit log could not be opened; 4 cannot
// listen (server or metrics port) or load the TLS certificate; 5 the drain timed out with
// requests in flight. SIGHUP reloads the configuration (server/daemon_ops.h).
#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>

#include "index/index_policy.h"
#include "server/accounts_adapter.h"
#include "server/backup_job.h"
#include "server/config.h"
#include "server/daemon_ops.h"
#include "server/log.h"
#include "server/retention_job.h"
#include "server/server.h"

namespace {

constexpr int kExitOk = 0, kExitUsage = 2, kExitStore = 3, kExitListen = 4, kExitDrain = 5;

int Serve(const cp::server::ServerConfig& config, cp::server::DaemonOps* ops) {
  using namespace cp;
  using namespace cp::server;
  ChildStore::Options options;
  options.db_dir = config.db_dir;
  options.key_file = config.key_file;
  options.policy = &NameIndexPolicy::Instance();
  options.block_cache_bytes = config.cache_mb << 20;
  options.statistics = true;  // block-cache hits for the metrics
  options.engine_events = LogEngineEvent;
  auto store = ChildStore::Open(options);
  if (!store.ok()) {
    LogError("cannot open the database: " + store.status().ToString(),
             {{"event", "database_open_failed"}});
    return kExitStore;
  }
  auto services = AccountServices::Open(store->get(), AccountServices::Options());
  if (!services.ok()) {
    LogError(
        "cannot open the accounts store and audit log (`contactpoint audit verify` "
        "checks the log): " +
        services.status().ToString());
    return kExitStore;
  }
  RequestHandler::Deps deps;
  deps.store = store->get();
  deps.accounts = (*services)->accounts_port();
  UnmeteredQuotaAccounts unmetered(deps.accounts);
  if (config.bench_unmetered_quota) {
    LogInfo(
        "LOAD-TEST CONFIGURATION: bench.unmetered_daily_quota is set; daily search quotas "
        "are counted but not enforced (loopback only)");
    deps.accounts = &unmetered;
  }
  deps.audit = (*services)->audit_port();
  RequestHandler handler(config, deps);
  auto server = Server::Start(config, &handler);
  if (!server.ok()) {
    LogError(server.status().ToString());
    return kExitListen;
  }
  // The daily lifecycle run, on its own thread; stopped (between children) after the drain.
  RetentionJob retention(config.retention_at_minute, {store->get(), deps.audit, SystemNowMs});
  if (config.retention_enabled) retention.Start();
  // Backups on the daemon's own thread: daily at [backup] at, and on SIGUSR1.
  std::unique_ptr<BackupJob> backups;
  if (!config.backup_dir.empty()) {
    BackupJob::Options bo;
    bo.dir = config.backup_dir;
    bo.at_minute = config.backup_at_minute;
    bo.keep = static_cast<uint32_t>(config.backup_keep);
    bo.verify = config.backup_verify;
    backups = std::make_unique<BackupJob>(bo, BackupJob::Deps{store->get(), deps.audit, config.key_file, SystemNowMs});
    backups->Start();
  }
  auto attached = ops->Attach(store->get(), &handler, server->get(), backups.get());
  Status s = (*server)->Run(/*handle_signals=*/true);
  attached.reset();
  if (backups) backups->Stop();
  retention.Stop();
  const AuditLog::Counts audit = (*services)->audit_log()->counts();
  LogInfo("audit trail: " + std::to_string(audit.entries) + " entries in " +
              std::to_string(audit.commits) + " synced writes since start",
          {{"event", "audit_summary"}, {"entries", audit.entries}, {"commits", audit.commits}});
  if (!s.ok()) {
    LogError(s.ToString());
    return kExitDrain;
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"contactpointd: the ContactPoint query server"};
  std::string config_path;
  bool check_only = false;
  app.add_option("--config", config_path, "TOML configuration file")->required();
  app.add_flag("--check-config", check_only, "check the configuration and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  auto config = cp::server::LoadConfig(config_path);
  if (!config.ok()) {
    cp::server::LogError("configuration: " + config.status().message(),
                         {{"event", "config_invalid"}});
    return kExitUsage;
  }
  if (check_only) {
    std::cout << "configuration OK\n";
    return kExitOk;
  }
  std::signal(SIGPIPE, SIG_IGN);
  cp::server::DaemonOps ops(config_path, *config);
  if (cp::Status s = ops.Start(); !s.ok()) {
    cp::server::LogError(s.ToString(), {{"event", "metrics_listen_failed"}});
    return kExitListen;
  }
  return Serve(*config, &ops);
}
