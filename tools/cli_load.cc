// `contactpoint load`: searches and record views against a running contactpointd from N
// concurrent authenticated sessions, with throughput and latency percentiles per message
// type (tools/load_client.h); or, with --answers, one pass over a query file with each
// answer written as a JSON line in the format of `contactpoint search --queries`.
//
// A server under load needs a configuration that lets one user search thousands of times
// a second: `[limits] rate_per_second` and `rate_burst`, and `[bench]
// unmetered_daily_quota = true` (loopback only); see docs/contactpointd.toml.example.
//
// Exit codes: 0 every request answered (ok, too many matches, or invalid criteria); 1 some
// requests failed or were refused otherwise; 2 usage, or an unreadable or malformed
// credentials or query file (nothing is sent); 3 could not connect or log in.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "tools/cli_common.h"
#include "tools/json_output.h"
#include "tools/load_client.h"
#include "util/csv.h"

namespace cp {
namespace {

using nlohmann::json;

constexpr int kExitSetup = 3;

struct LoadFlags {
  std::string server = "127.0.0.1:7443";
  std::string credentials, user, password_file, totp_secret_file;
  std::string queries, answers;
  bool json = false;
  double duration_s = 10;
};

int Usage(const std::string& message) {
  std::cerr << "contactpoint load: " << message << "\n";
  return kExitUsage;
}

// The first line of a file (a password or a TOTP secret), without its line ending.
Result<std::string> FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return Status::InvalidArgument("cannot read " + path);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

Result<std::vector<LoadCredential>> Credentials(const LoadFlags& f) {
  if (!f.credentials.empty()) return ReadLoadCredentials(f.credentials);
  auto password = FirstLine(f.password_file);
  if (!password.ok()) return password.status();
  auto secret = FirstLine(f.totp_secret_file);
  if (!secret.ok()) return secret.status();
  return std::vector<LoadCredential>{{f.user, *secret, *password}};
}

Status ParseServer(const std::string& where, server::ClientOptions* o) {
  const size_t colon = where.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::InvalidArgument("--server must be HOST:PORT, not '" + where + "'");
  }
  o->host = where.substr(0, colon);
  if (o->host.size() > 2 && o->host.front() == '[' && o->host.back() == ']') {
    o->host = o->host.substr(1, o->host.size() - 2);
  }
  char* end = nullptr;
  const unsigned long port = std::strtoul(where.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || port == 0 || port > 65535) {
    return Status::InvalidArgument("bad port in --server " + where);
  }
  o->port = static_cast<uint16_t>(port);
  return Status::OK();
}

json TallyJson(const LoadTally& t, double seconds) {
  json refused = json::object();
  for (const auto& [code, n] : t.refused) refused[code] = n;
  if (t.transport) refused["transport"] = t.transport;
  return {{"requests", t.micros.size()},
          {"per_second", seconds > 0 ? static_cast<double>(t.micros.size()) / seconds : 0.0},
          {"p50_us", Quantile(t.micros, 0.50)},
          {"p99_us", Quantile(t.micros, 0.99)},
          {"p999_us", Quantile(t.micros, 0.999)},
          {"max_us", t.micros.empty() ? 0.0 : t.micros.back()},
          {"ok", t.ok},
          {"too_many_matches", t.too_many},
          {"invalid_criteria", t.invalid},
          {"errors", refused}};
}

LoadTally Total(const LoadReport& r) {
  LoadTally all = r.search;
  all.Add(r.view);
  std::sort(all.micros.begin(), all.micros.end());
  return all;
}

void PrintJson(const LoadReport& r, std::ostream& out) {
  out << json{{"connections", r.connections},
              {"users", r.users},
              {"transport", r.tls ? "tls" : "plain"},
              {"measured_s", r.measured_s},
              {"warmup_s", r.warmup_s},
              {"search", TallyJson(r.search, r.measured_s)},
              {"view", TallyJson(r.view, r.measured_s)},
              {"total", TallyJson(Total(r), r.measured_s)},
              {"errors", r.errors()},
              {"client_cpu_s", {{"user", r.cpu_user_s}, {"sys", r.cpu_sys_s}}},
              {"stopped_early", r.stopped_early}}
             .dump(2)
      << "\n";
}

void PrintTally(const char* name, const LoadTally& t, double seconds, bool search, FILE* out) {
  std::fprintf(out, "%-7s %8zu  %8.0f/s  p50 %7.0f  p99 %7.0f  p99.9 %7.0f  max %7.0f us  ok %llu",
               name, t.micros.size(),
               seconds > 0 ? static_cast<double>(t.micros.size()) / seconds : 0.0,
               Quantile(t.micros, 0.50), Quantile(t.micros, 0.99), Quantile(t.micros, 0.999),
               t.micros.empty() ? 0.0 : t.micros.back(), static_cast<unsigned long long>(t.ok));
  if (search) {
    std::fprintf(out, "  too_many_matches %llu  invalid_criteria %llu",
                 static_cast<unsigned long long>(t.too_many),
                 static_cast<unsigned long long>(t.invalid));
  }
  if (t.transport)
    std::fprintf(out, "  transport %llu", static_cast<unsigned long long>(t.transport));
  for (const auto& [code, n] : t.refused) {
    std::fprintf(out, "  %s %llu", code.c_str(), static_cast<unsigned long long>(n));
  }
  std::fprintf(out, "\n");
}

void PrintText(const LoadReport& r, FILE* out) {
  std::fprintf(out, "connections %d (%s), users %zu, measured %.2f s (after %.1f s warm-up)\n",
               r.connections, r.tls ? "TLS 1.3" : "plain TCP", r.users, r.measured_s, r.warmup_s);
  PrintTally("search", r.search, r.measured_s, true, out);
  PrintTally("view", r.view, r.measured_s, false, out);
  PrintTally("total", Total(r), r.measured_s, false, out);
  std::fprintf(out, "client CPU: user %.2f s, sys %.2f s\n", r.cpu_user_s, r.cpu_sys_s);
  if (!r.stopped_early.empty()) std::fprintf(out, "stopped early: %s\n", r.stopped_early.c_str());
  // One line for scripts.
  std::fprintf(out, "summary: searches=%zu views=%zu ok=%llu too_many_matches=%llu errors=%llu\n",
               r.search.micros.size(), r.view.micros.size(),
               static_cast<unsigned long long>(r.search.ok + r.view.ok),
               static_cast<unsigned long long>(r.search.too_many),
               static_cast<unsigned long long>(r.errors()));
}

}  // namespace

void AddLoadCommand(CLI::App& app, std::function<int()>* run) {
  static LoadFlags f;
  static LoadOptions o;
  auto* cmd = app.add_subcommand(
      "load",
      "load a running contactpointd: N sessions, searches and record views, latency "
      "percentiles; or one pass over a query file with every answer as a JSON line");
  cmd->add_option("--server", f.server, "HOST:PORT of the server")->capture_default_str();
  cmd->add_option(
      "--tls-ca,--ca-file", o.client.ca_file,
      "PEM file of the CA that signed the server's certificate (default: the system's)");
  cmd->add_flag("--plain", o.client.plain, "plain TCP (a loopback development server only)");
  auto* creds = cmd->add_option("--credentials", f.credentials,
                                "file of users, one a line: user<TAB>TOTP secret<TAB>password "
                                "(mode 0600)");
  auto* user = cmd->add_option("--user", f.user, "one user (instead of --credentials)");
  auto* pw = cmd->add_option("--password-file", f.password_file,
                             "with --user: file whose first line is the password");
  auto* secret = cmd->add_option("--totp-secret-file", f.totp_secret_file,
                                 "with --user: file whose first line is the base32 TOTP secret");
  creds->excludes(user)->excludes(pw)->excludes(secret);
  user->needs(pw)->needs(secret);
  pw->needs(user);
  secret->needs(user);
  cmd->add_option("--queries", f.queries,
                  "query CSV, the format of `contactpoint search --queries` (gen-queries writes "
                  "one)")
      ->required();
  auto* answers = cmd->add_option(
      "--answers", f.answers,
      "one pass: send every query once and write its answer as a JSON line, in file order, "
      "to this file ('-': stdout; the report then goes to stderr)");
  cmd->add_option("--connections", o.connections, "concurrent connections (sessions)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  auto* duration = cmd->add_option("--duration", f.duration_s,
                                   "seconds to measure (default 10, or no limit with --requests)")
                       ->check(CLI::Range(0.0, 86400.0));
  auto* warmup = cmd->add_option("--warmup", o.warmup_s, "seconds of requests before measuring")
                     ->check(CLI::Range(0.0, 3600.0));
  auto* requests = cmd->add_option("--requests,--count", o.requests,
                                   "stop after this many measured requests in all");
  cmd->add_option("--mix", o.view_share,
                  "share of record views among requests (a view fetches a child an earlier "
                  "search returned); default 0.2, one view per four searches")
      ->check(CLI::Range(0.0, 0.9))
      ->capture_default_str();
  cmd->add_option("--reason", o.reason, "the stated reason sent with each request (audited)")
      ->capture_default_str();
  cmd->add_option("--limit", o.limit, "result cap asked for (0: the role's)")
      ->check(CLI::Range(0, 50));
  cmd->add_option("--seed", o.seed, "seed of each connection's choice of search or view");
  cmd->add_option("--timeout-ms", o.client.timeout_ms, "per request")
      ->check(CLI::Range(1, 600000))
      ->capture_default_str();
  cmd->add_option("--threads", o.threads,
                  "client threads (each runs its share of the connections asynchronously)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_flag("--json", f.json, "print the report as one JSON object");
  answers->excludes(duration)->excludes(warmup)->excludes(requests);
  cmd->callback([run, duration] {
    *run = [duration] {
      if (f.credentials.empty() && f.user.empty()) {
        return Usage(
            "give --credentials FILE, or --user with --password-file and "
            "--totp-secret-file");
      }
      if (Status s = ParseServer(f.server, &o.client); !s.ok()) return Usage(s.message());
      auto users = Credentials(f);
      if (!users.ok()) return Usage(users.status().message());
      o.users = std::move(*users);
      std::ifstream in(f.queries, std::ios::binary);
      if (!in) return Usage("cannot read the query file " + f.queries);
      auto rows = ReadQueryFile(in, kDefaultResultCap);
      if (!rows.ok()) return Usage(f.queries + ": " + rows.status().message());
      o.queries = std::move(*rows);
      if (auto wire = WireQueries(o.queries); !wire.ok()) {
        return Usage(f.queries + ": " + wire.status().message());
      }
      o.duration_s = duration->count() == 0 && o.requests > 0 ? 0 : f.duration_s;
      o.answers = !f.answers.empty();
      std::ofstream answers_file;
      std::ostream* answers_out = &std::cout;
      if (o.answers && f.answers != "-") {
        answers_file.open(f.answers, std::ios::binary | std::ios::trunc);
        if (!answers_file) return Usage("cannot write " + f.answers);
        answers_out = &answers_file;
      }
      std::signal(SIGPIPE, SIG_IGN);
      auto report = RunLoad(o);
      if (!report.ok()) {
        std::cerr << "contactpoint load: " << report.status().message() << "\n";
        return report.status().IsInvalidArgument() ? kExitUsage : kExitSetup;
      }
      if (o.answers) {
        for (const auto& line : report->answers) *answers_out << line << '\n';
        answers_out->flush();
        if (!*answers_out) {
          std::cerr << "contactpoint load: writing the answers to " << f.answers << " failed\n";
          return kExitFailure;
        }
      }
      const bool report_to_stderr = f.answers == "-";
      if (f.json) {
        PrintJson(*report, report_to_stderr ? std::cerr : std::cout);
      } else {
        PrintText(*report, report_to_stderr ? stderr : stdout);
      }
      return report->errors() == 0 && report->stopped_early.empty() ? kExitOk : kExitFailure;
    };
  });
}

}  // namespace cp
