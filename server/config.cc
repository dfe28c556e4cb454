#include "server/config.h"

#include <arpa/inet.h>
#include <toml++/toml.h>

#include <fstream>
#include <sstream>

namespace cp::server {

namespace {

template <typename T>
Status Read(const toml::table& t, const char* section, const char* key, T* out) {
  const toml::node* node = t.at_path(std::string(section) + "." + key).node();
  if (node == nullptr) return Status::OK();
  auto v = node->value<T>();
  if (!v) return Status::InvalidArgument(std::string(section) + "." + key + " has the wrong type");
  *out = *v;
  return Status::OK();
}

template <typename T>
Status ReadPositive(const toml::table& t, const char* section, const char* key, T* out) {
  int64_t v = static_cast<int64_t>(*out);
  Status s = Read(t, section, key, &v);
  if (s.ok() && (v <= 0 || v > int64_t{1} << 31)) {
    s = Status::InvalidArgument(std::string(section) + "." + key + " must be a positive number");
  }
  if (s.ok()) *out = static_cast<T>(v);
  return s;
}

// "127.0.0.1:9464" or "[::1]:9464": a loopback address only, since the endpoint is plain
// HTTP without authentication (metrics name no person, but they are the service's own).
Status ParseListen(const std::string& listen, std::string* address, uint16_t* port) {
  const size_t colon = listen.rfind(':');
  const std::string bad = "metrics.listen '" + listen + "' must be ADDRESS:PORT";
  if (colon == std::string::npos || colon + 1 == listen.size()) return Status::InvalidArgument(bad);
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string digits = listen.substr(colon + 1);
  if (digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(digits) > 65535) {
    return Status::InvalidArgument(bad + " (port 0..65535)");
  }
  if (!IsLoopbackAddress(host)) {
    return Status::InvalidArgument(
        "metrics.listen must be a loopback address (127.0.0.1 or "
        "::1): the endpoint is plain HTTP without authentication; "
        "not " +
        host);
  }
  *address = host;
  *port = static_cast<uint16_t>(std::stoi(digits));
  return Status::OK();
}

// "HH:MM", 00:00..23:59, as minutes after midnight.
Status ReadTimeOfDay(const toml::table& t, const char* section, const char* key, int* minutes) {
  const std::string absent(1, '\0');
  std::string text = absent;
  Status s = Read(t, section, key, &text);
  if (!s.ok() || text == absent) return s;
  auto digit = [](char ch) { return ch >= '0' && ch <= '9'; };
  const bool shaped = text.size() == 5 && text[2] == ':' && digit(text[0]) && digit(text[1]) &&
                      digit(text[3]) && digit(text[4]);
  const int h = shaped ? (text[0] - '0') * 10 + (text[1] - '0') : -1;
  const int m = shaped ? (text[3] - '0') * 10 + (text[4] - '0') : -1;
  if (h < 0 || h > 23 || m < 0 || m > 59) {
    return Status::InvalidArgument(std::string(section) + "." + key +
                                   " must be a time of day HH:MM, 00:00 to 23:59");
  }
  *minutes = h * 60 + m;
  return Status::OK();
}

Status ReadAll(const toml::table& t, ServerConfig* c) {
  Status s;
  int64_t port = c->listen_port, io = c->io_threads, workers = c->workers, cache = c->cache_mb;
  if (s.ok()) s = Read(t, "server", "listen_address", &c->listen_address);
  if (s.ok()) s = Read(t, "server", "port", &port);
  if (s.ok()) s = Read(t, "server", "plain_tcp", &c->plain_tcp);
  if (s.ok()) s = Read(t, "server", "io_threads", &io);
  if (s.ok()) s = Read(t, "server", "workers", &workers);
  if (s.ok()) s = ReadPositive(t, "server", "max_connections", &c->max_connections);
  if (s.ok()) s = ReadPositive(t, "server", "max_frame_bytes", &c->max_frame_bytes);
  if (s.ok()) s = ReadPositive(t, "server", "idle_timeout_ms", &c->idle_timeout_ms);
  if (s.ok()) s = ReadPositive(t, "server", "read_timeout_ms", &c->read_timeout_ms);
  if (s.ok()) s = ReadPositive(t, "server", "write_timeout_ms", &c->write_timeout_ms);
  if (s.ok()) s = ReadPositive(t, "server", "drain_timeout_ms", &c->drain_timeout_ms);
  if (s.ok()) s = Read(t, "tls", "certificate", &c->certificate_file);
  if (s.ok()) s = Read(t, "tls", "private_key", &c->private_key_file);
  if (s.ok()) s = Read(t, "database", "dir", &c->db_dir);
  if (s.ok()) s = Read(t, "database", "key_file", &c->key_file);
  if (s.ok()) s = Read(t, "database", "cache_mb", &cache);
  if (s.ok()) s = ReadPositive(t, "sessions", "lifetime_s", &c->session_lifetime_s);
  if (s.ok()) s = ReadPositive(t, "sessions", "idle_timeout_s", &c->session_idle_s);
  if (s.ok()) s = ReadPositive(t, "sessions", "login_ticket_s", &c->login_ticket_s);
  if (s.ok()) s = Read(t, "limits", "rate_per_second", &c->rate_per_second);
  if (s.ok()) s = Read(t, "limits", "rate_burst", &c->rate_burst);
  if (s.ok()) s = Read(t, "bench", "unmetered_daily_quota", &c->bench_unmetered_quota);
  std::string log_format = "json", metrics_listen;
  if (s.ok()) s = Read(t, "log", "format", &log_format);
  int64_t slow_ms = c->slow_request_ms;
  if (s.ok()) s = Read(t, "log", "slow_request_ms", &slow_ms);
  if (s.ok() && (slow_ms < 0 || slow_ms > 600000))
    s = Status::InvalidArgument("log.slow_request_ms must be 0..600000 (0: no request is logged)");
  if (s.ok()) c->slow_request_ms = static_cast<int>(slow_ms);
  if (s.ok()) s = Read(t, "metrics", "listen", &metrics_listen);
  if (s.ok()) s = Read(t, "retention", "enabled", &c->retention_enabled);
  if (s.ok()) s = ReadTimeOfDay(t, "retention", "at", &c->retention_at_minute);
  int64_t backup_keep = c->backup_keep;
  if (s.ok()) s = Read(t, "backup", "dir", &c->backup_dir);
  if (s.ok()) s = ReadTimeOfDay(t, "backup", "at", &c->backup_at_minute);
  if (s.ok()) s = Read(t, "backup", "keep", &backup_keep);
  if (s.ok()) s = Read(t, "backup", "verify", &c->backup_verify);
  if (!s.ok()) return s;
  if (backup_keep < 1 || backup_keep > 1000) return Status::InvalidArgument("backup.keep must be 1..1000");
  c->backup_keep = static_cast<int>(backup_keep);
  if (c->backup_at_minute >= 0 && c->backup_dir.empty()) {
    return Status::InvalidArgument("backup.at needs backup.dir: where the daily backup goes");
  }
  if (log_format != "json" && log_format != "text")
    return Status::InvalidArgument("log.format must be \"json\" or \"text\"");
  c->log_json = log_format == "json";
  if (!metrics_listen.empty()) {
    s = ParseListen(metrics_listen, &c->metrics_address, &c->metrics_port);
    if (!s.ok()) return s;
  }
  if (port < 0 || port > 65535) return Status::InvalidArgument("server.port must be 0..65535");
  if (io < 0 || io > 256) return Status::InvalidArgument("server.io_threads must be 0..256");
  if (workers < 0 || workers > 256) return Status::InvalidArgument("server.workers must be 0..256");
  if (cache < 1 || cache > (int64_t{1} << 20))
    return Status::InvalidArgument("database.cache_mb must be positive");
  if (c->max_frame_bytes > kMaxResponseBytes) {
    return Status::InvalidArgument("server.max_frame_bytes must be at most " +
                                   std::to_string(kMaxResponseBytes));
  }
  if (!(c->rate_per_second > 0) || !(c->rate_burst >= 1)) {
    return Status::InvalidArgument("limits.rate_per_second must be > 0 and limits.rate_burst >= 1");
  }
  c->listen_port = static_cast<uint16_t>(port);
  c->io_threads = static_cast<int>(io);
  c->workers = static_cast<int>(workers);
  c->cache_mb = static_cast<size_t>(cache);
  return Status::OK();
}

Status CheckSafe(ServerConfig* c) {
  in6_addr v6;
  in_addr v4;
  if (inet_pton(AF_INET, c->listen_address.c_str(), &v4) != 1 &&
      inet_pton(AF_INET6, c->listen_address.c_str(), &v6) != 1) {
    return Status::InvalidArgument("server.listen_address '" + c->listen_address +
                                   "' is not an IP address");
  }
  if (c->plain_tcp && !IsLoopbackAddress(c->listen_address)) {
    return Status::InvalidArgument(
        "server.plain_tcp is allowed only on a loopback listen_address (development); "
        "use TLS on " +
        c->listen_address);
  }
  if (c->bench_unmetered_quota && !IsLoopbackAddress(c->listen_address)) {
    return Status::InvalidArgument(
        "bench.unmetered_daily_quota is allowed only on a loopback listen_address (load "
        "tests); not on " +
        c->listen_address);
  }
  if (!c->plain_tcp && (c->certificate_file.empty() || c->private_key_file.empty())) {
    return Status::InvalidArgument("tls.certificate and tls.private_key are required (TLS 1.3)");
  }
  if (c->db_dir.empty()) return Status::InvalidArgument("database.dir is required");
  while (c->db_dir.size() > 1 && c->db_dir.back() == '/') c->db_dir.pop_back();
  if (c->key_file.empty()) c->key_file = c->db_dir + ".key";
  while (c->backup_dir.size() > 1 && c->backup_dir.back() == '/') c->backup_dir.pop_back();
  if (!c->backup_dir.empty() &&
      (c->backup_dir == c->db_dir || c->backup_dir.starts_with(c->db_dir + "/"))) {
    return Status::InvalidArgument("backup.dir must be outside database.dir (" + c->db_dir + ")");
  }
  return Status::OK();
}

}  // namespace

bool IsLoopbackAddress(const std::string& address) {
  in_addr v4;
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, address.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

std::vector<std::string> KeysNeedingRestart(const ServerConfig& a, const ServerConfig& b) {
  std::vector<std::string> keys;
  auto check = [&keys](bool same, const char* key) {
    if (!same) keys.push_back(key);
  };
  check(a.listen_address == b.listen_address, "server.listen_address");
  check(a.listen_port == b.listen_port, "server.port");
  check(a.plain_tcp == b.plain_tcp, "server.plain_tcp");
  check(a.io_threads == b.io_threads, "server.io_threads");
  check(a.workers == b.workers, "server.workers");
  check(a.certificate_file == b.certificate_file, "tls.certificate");
  check(a.private_key_file == b.private_key_file, "tls.private_key");
  check(a.db_dir == b.db_dir, "database.dir");
  check(a.key_file == b.key_file, "database.key_file");
  check(a.cache_mb == b.cache_mb, "database.cache_mb");
  check(a.bench_unmetered_quota == b.bench_unmetered_quota, "bench.unmetered_daily_quota");
  check(a.metrics_address == b.metrics_address && a.metrics_port == b.metrics_port,
        "metrics.listen");
  check(a.retention_enabled == b.retention_enabled, "retention.enabled");
  check(a.retention_at_minute == b.retention_at_minute, "retention.at");
  check(a.backup_dir == b.backup_dir, "backup.dir");
  check(a.backup_at_minute == b.backup_at_minute, "backup.at");
  check(a.backup_keep == b.backup_keep, "backup.keep");
  check(a.backup_verify == b.backup_verify, "backup.verify");
  return keys;
}

void ApplyReloadable(const ServerConfig& r, ServerConfig* c) {
  c->max_connections = r.max_connections;
  c->max_frame_bytes = r.max_frame_bytes;
  c->idle_timeout_ms = r.idle_timeout_ms;
  c->read_timeout_ms = r.read_timeout_ms;
  c->write_timeout_ms = r.write_timeout_ms;
  c->drain_timeout_ms = r.drain_timeout_ms;
  c->session_lifetime_s = r.session_lifetime_s;
  c->session_idle_s = r.session_idle_s;
  c->login_ticket_s = r.login_ticket_s;
  c->rate_per_second = r.rate_per_second;
  c->rate_burst = r.rate_burst;
  c->log_json = r.log_json;
  c->slow_request_ms = r.slow_request_ms;
}

Result<ServerConfig> ParseConfig(std::string_view text) {
  ServerConfig c;
  try {
    toml::table t = toml::parse(text);
    Status s = ReadAll(t, &c);
    if (s.ok()) s = CheckSafe(&c);
    if (!s.ok()) return s;
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << "config line " << e.source().begin.line << ": " << e.description();
    return Status::InvalidArgument(msg.str());
  }
  return c;
}

Result<ServerConfig> LoadConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read config file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str());
}

}  // namespace cp::server
