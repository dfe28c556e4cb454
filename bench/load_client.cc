// load_client: search load against a running contactpointd, over TLS 1.3 (or plain TCP to
// a loopback server that allows it), as practitioners' clients would send it.
//
//   load_client --server 127.0.0.1:7443 --ca-file cert.pem --credentials creds.tsv
//               --queries queries.csv --connections 16 --duration 20
//
// Each connection is one thread with one blocking server::Client. Before the clock starts
// every connection logs in: password, then the TOTP code computed from the user's secret.
// Connection i uses line i % lines of the credentials file; connections that share a user
// share its session (a session is bound to the client's address, not to a connection), so
// one login per user suffices, and a user's codes are never reused. Then each connection
// sends Search requests (criteria from the next row of the queries file, `--reason` as the
// stated reason) until `--duration` seconds have passed or `--count` searches have been
// sent in all. A connection that breaks (an I/O error) reconnects and goes on; the break
// is counted as an error.
//
// Credentials file: one user a line, `user<TAB>base32 TOTP secret<TAB>password` (the rest
// of the line is the password); blank lines and lines starting with '#' are skipped. Keep
// it mode 0600: it holds passwords and second factors.
// Queries file: `contactpoint gen-queries` output; the columns given_name, family_name,
// date_of_birth, dob_from, dob_to, gender, postcode, nhs_number, pupil_number are sent
// (any may be missing), every other column is ignored.
//
// A server under load test needs a configuration that lets one user search thousands of
// times a second: `[limits] rate_per_second` and `rate_burst`, and `[bench]
// unmetered_daily_quota = true` (loopback only); see docs/contactpointd.toml.example.
//
// Prints throughput, latency percentiles and outcome counts; the last line is
// `summary: searches=N ok=N too_many_matches=N errors=N` for scripts. Exit codes: 0 no
// errors, 1 some searches failed or were refused (other than too many matches), 2 usage,
// 3 could not connect or log in.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/client.h"
#include "util/csv.h"
#include "util/totp.h"

namespace cp::bench {
namespace {

namespace fb = protocol;
using server::Client;
using server::ClientOptions;
using server::SearchRequest;
using Steady = std::chrono::steady_clock;

constexpr int kExitOk = 0, kExitErrors = 1, kExitUsage = 2, kExitSetup = 3;

struct Credential {
  std::string user, secret, password;
};

Result<std::vector<Credential>> ReadCredentials(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot read " + path);
  std::vector<Credential> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const size_t a = line.find('\t');
    const size_t b = a == std::string::npos ? a : line.find('\t', a + 1);
    if (b == std::string::npos) {
      return Status::InvalidArgument(path + ": a line is not user<TAB>secret<TAB>password");
    }
    out.push_back({line.substr(0, a), line.substr(a + 1, b - a - 1), line.substr(b + 1)});
  }
  if (out.empty()) return Status::InvalidArgument(path + " names no user");
  return out;
}

Result<std::vector<SearchRequest>> ReadQueries(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read " + path);
  CsvReader csv(&in);
  std::vector<std::string> header, row;
  std::string error;
  if (!csv.Next(&header, &error) || !error.empty()) {
    return Status::InvalidArgument(path + ": no header row " + error);
  }
  using Field = std::string SearchRequest::*;
  const std::map<std::string, Field> known = {{"given_name", &SearchRequest::given_name},
                                              {"family_name", &SearchRequest::family_name},
                                              {"date_of_birth", &SearchRequest::date_of_birth},
                                              {"dob_from", &SearchRequest::dob_from},
                                              {"dob_to", &SearchRequest::dob_to},
                                              {"gender", &SearchRequest::gender},
                                              {"postcode", &SearchRequest::postcode},
                                              {"nhs_number", &SearchRequest::nhs_number},
                                              {"pupil_number", &SearchRequest::pupil_number}};
  std::vector<std::pair<size_t, Field>> columns;
  for (size_t i = 0; i < header.size(); ++i) {
    if (auto it = known.find(header[i]); it != known.end()) columns.emplace_back(i, it->second);
  }
  if (columns.empty()) return Status::InvalidArgument(path + " has no criteria columns");
  std::vector<SearchRequest> out;
  while (csv.Next(&row, &error)) {
    if (!error.empty()) return Status::InvalidArgument(path + ": " + error);
    SearchRequest q;
    for (const auto& [i, field] : columns) {
      if (i < row.size()) q.*field = row[i];
    }
    out.push_back(std::move(q));
  }
  if (out.empty()) return Status::InvalidArgument(path + " holds no query");
  return out;
}

struct Options {
  ClientOptions client;
  std::string credentials, queries, reason = "load test";
  int connections = 1;
  double duration_s = 10;
  double warmup_s = 0;
  uint64_t count = 0;  // 0: until the duration has passed
  uint16_t limit = 0;
};

// One session token per user, logged in by whichever connection asks first.
class Sessions {
 public:
  explicit Sessions(const std::vector<Credential>& users) : users_(users) {}

  // Logs `client` in as user `u`, or gives it that user's existing session.
  Status Join(Client* client, size_t u) {
    std::lock_guard lock(mu_);
    auto it = tokens_.find(u);
    if (it != tokens_.end()) {
      client->set_session(it->second);
      return Status::OK();
    }
    Status s = LogIn(client, users_[u]);
    if (s.ok()) tokens_[u] = client->session();
    return s;
  }

 private:
  // The code of the current step, else of the next (the server accepts one step either
  // side), else of the one after that once the next has come: a user logged in a moment
  // ago (the previous run of a bench) has used the current step's code or the next one's,
  // and a step's code is accepted once. Each refused code counts towards lockout; a success resets
  // the count.
  static Status LogIn(Client* client, const Credential& c) {
    auto secret = Base32Decode(c.secret);
    if (!secret.ok())
      return Status::InvalidArgument("the TOTP secret of " + c.user + " is not base32");
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    for (int attempt = 0; attempt < 3; ++attempt) {
      // 0: the current step; 1: the next; 2: the one after, once the next is current.
      const uint64_t step = TotpStep(now) + attempt;
      if (attempt == 2) {
        const int64_t wait_s = (TotpStep(now) + 1) * kTotpStepSeconds - now + 1;
        std::this_thread::sleep_for(std::chrono::seconds(wait_s));
      }
      auto r = client->LogIn(c.user, c.password, TotpCodeAt(*secret, step));
      if (!r.ok()) return r.status();
      const fb::Error* e = r->error();
      if (e == nullptr) return Status::OK();
      if (e->code() != fb::ErrorCode::BadCode) {
        return Status::PermissionDenied("login of " + c.user +
                                        " refused: " + server::ErrorCodeName(e->code()));
      }
    }
    return Status::PermissionDenied("login of " + c.user + " refused: bad_code three times");
  }

  const std::vector<Credential>& users_;
  std::mutex mu_;
  std::map<size_t, std::string> tokens_;
};

// What one connection saw while the clock ran.
struct Tally {
  std::vector<uint32_t> micros;  // one per completed search
  uint64_t ok = 0, too_many = 0, transport = 0;
  std::map<std::string, uint64_t> refused;  // by error code name
};

struct Shared {
  const Options* options;
  const std::vector<SearchRequest>* queries;
  Sessions* sessions;
  size_t users = 1;
  std::atomic<uint64_t> next{0};  // the next query to send, over all connections
  std::atomic<int> ready{0};
  std::atomic<bool> failed{false};
  Steady::time_point start, measure_from, stop;
  std::mutex mu;
  std::condition_variable go;
  bool started = false;
  std::string setup_error;
};

void Connection(Shared* sh, int index, Tally* tally) {
  const Options& o = *sh->options;
  auto fail = [&](const std::string& what) {
    std::lock_guard lock(sh->mu);
    if (sh->setup_error.empty()) sh->setup_error = what;
    sh->failed = true;
  };
  std::unique_ptr<Client> client;
  if (auto c = Client::Connect(o.client); c.ok()) {
    client = std::move(*c);
  } else {
    fail("connection " + std::to_string(index) + ": " + c.status().ToString());
  }
  if (client) {
    if (Status s = sh->sessions->Join(client.get(), index % sh->users); !s.ok()) fail(s.ToString());
  }
  sh->ready.fetch_add(1);
  {
    std::unique_lock lock(sh->mu);
    sh->go.wait(lock, [sh] { return sh->started; });
  }
  if (sh->failed) return;
  const std::string session = client->session();
  for (;;) {
    const uint64_t n = sh->next.fetch_add(1);
    if (o.count > 0 && n >= o.count) break;
    const Steady::time_point t0 = Steady::now();
    if (t0 >= sh->stop) break;
    SearchRequest q = (*sh->queries)[n % sh->queries->size()];
    q.limit = o.limit;
    auto r = client->Search(q, o.reason);
    const Steady::time_point t1 = Steady::now();
    const bool counted = t0 >= sh->measure_from;
    if (!r.ok()) {
      if (counted) ++tally->transport;
      auto c = Client::Connect(o.client);
      if (!c.ok()) {
        fail("reconnect: " + c.status().ToString());
        return;
      }
      client = std::move(*c);
      client->set_session(session);
      continue;
    }
    if (!counted) continue;
    tally->micros.push_back(static_cast<uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count()));
    if (const fb::Error* e = r->error()) {
      if (e->code() == fb::ErrorCode::TooManyMatches) {
        ++tally->too_many;
      } else {
        ++tally->refused[server::ErrorCodeName(e->code())];
      }
    } else {
      ++tally->ok;
    }
  }
}

double Quantile(const std::vector<uint32_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(q * static_cast<double>(sorted.size()));
  return sorted[std::min(rank, sorted.size() - 1)];
}

double CpuSeconds(const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; }

int Run(const Options& o) {
  auto users = ReadCredentials(o.credentials);
  if (!users.ok()) {
    std::fprintf(stderr, "load_client: %s\n", users.status().ToString().c_str());
    return kExitUsage;
  }
  auto queries = ReadQueries(o.queries);
  if (!queries.ok()) {
    std::fprintf(stderr, "load_client: %s\n", queries.status().ToString().c_str());
    return kExitUsage;
  }
  Sessions sessions(*users);
  Shared sh;
  sh.options = &o;
  sh.queries = &*queries;
  sh.sessions = &sessions;
  sh.users = users->size();
  std::vector<Tally> tallies(o.connections);
  std::vector<std::thread> threads;
  for (int i = 0; i < o.connections; ++i) threads.emplace_back(Connection, &sh, i, &tallies[i]);
  while (sh.ready.load() < o.connections) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  {
    std::lock_guard lock(sh.mu);
    sh.start = Steady::now();
    sh.measure_from = sh.start + std::chrono::duration_cast<Steady::duration>(
                                     std::chrono::duration<double>(o.warmup_s));
    sh.stop = o.duration_s > 0 ? sh.measure_from + std::chrono::duration_cast<Steady::duration>(
                                                       std::chrono::duration<double>(o.duration_s))
                               : Steady::time_point::max();
    sh.started = true;
  }
  sh.go.notify_all();
  for (auto& t : threads) t.join();
  const Steady::time_point end = Steady::now();
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  if (sh.failed && !sh.setup_error.empty() && sh.next.load() == 0) {
    std::fprintf(stderr, "load_client: %s\n", sh.setup_error.c_str());
    return kExitSetup;
  }
  Tally all;
  for (auto& t : tallies) {
    all.micros.insert(all.micros.end(), t.micros.begin(), t.micros.end());
    all.ok += t.ok;
    all.too_many += t.too_many;
    all.transport += t.transport;
    for (const auto& [code, n] : t.refused) all.refused[code] += n;
  }
  std::sort(all.micros.begin(), all.micros.end());
  const double wall =
      std::chrono::duration<double>(end - std::max(sh.measure_from, sh.start)).count();
  uint64_t errors = all.transport;
  for (const auto& [code, n] : all.refused) errors += n;
  std::printf("connections %d (%s), users %zu, measured %.2f s (after %.1f s warm-up)\n",
              o.connections, o.client.plain ? "plain TCP" : "TLS 1.3", users->size(), wall,
              o.warmup_s);
  std::printf("searches %zu, throughput %.0f searches/s\n", all.micros.size(),
              wall > 0 ? all.micros.size() / wall : 0.0);
  std::printf("latency us: p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  max %.0f\n",
              Quantile(all.micros, 0.50), Quantile(all.micros, 0.90), Quantile(all.micros, 0.99),
              Quantile(all.micros, 0.999), all.micros.empty() ? 0.0 : all.micros.back());
  std::printf(
      "ok %llu  too_many_matches %llu  errors %llu", static_cast<unsigned long long>(all.ok),
      static_cast<unsigned long long>(all.too_many), static_cast<unsigned long long>(errors));
  if (all.transport)
    std::printf("  transport %llu", static_cast<unsigned long long>(all.transport));
  for (const auto& [code, n] : all.refused)
    std::printf("  %s %llu", code.c_str(), static_cast<unsigned long long>(n));
  std::printf("\nclient CPU: user %.2f s, sys %.2f s\n",
              CpuSeconds(after.ru_utime) - CpuSeconds(before.ru_utime),
              CpuSeconds(after.ru_stime) - CpuSeconds(before.ru_stime));
  if (sh.failed) std::printf("stopped early: %s\n", sh.setup_error.c_str());
  std::printf("summary: searches=%zu ok=%llu too_many_matches=%llu errors=%llu\n",
              all.micros.size(), static_cast<unsigned long long>(all.ok),
              static_cast<unsigned long long>(all.too_many),
              static_cast<unsigned long long>(errors));
  return errors == 0 && !sh.failed ? kExitOk : kExitErrors;
}

}  // namespace
}  // namespace cp::bench

int main(int argc, char** argv) {
  cp::bench::Options o;
  std::string server = "127.0.0.1:7443";
  CLI::App app{"load_client: search load against a running contactpointd (see the file's header)"};
  app.add_option("--server", server, "HOST:PORT")->capture_default_str();
  app.add_flag("--plain", o.client.plain, "plain TCP (a loopback server that allows it)");
  app.add_option("--ca-file", o.client.ca_file, "PEM file to verify the server's certificate");
  app.add_option("--credentials", o.credentials, "user<TAB>totp secret<TAB>password lines")
      ->required();
  app.add_option("--queries", o.queries, "queries CSV (contactpoint gen-queries)")->required();
  app.add_option("--connections", o.connections, "concurrent connections")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  auto* duration = app.add_option("--duration", o.duration_s,
                                  "seconds to measure (default 10, or no limit with --count)")
                       ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--warmup", o.warmup_s, "seconds of searches before measuring")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  app.add_option("--count", o.count, "stop after this many searches in all (0: no limit)");
  app.add_option("--reason", o.reason, "the stated reason sent with each search")
      ->capture_default_str();
  app.add_option("--limit", o.limit, "result cap asked for (0: the role's)");
  app.add_option("--timeout-ms", o.client.timeout_ms, "per call")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (duration->count() == 0 && o.count > 0) o.duration_s = 0;
  if (o.duration_s == 0 && o.count == 0) {
    std::fprintf(stderr, "load_client: give --duration or --count (or both)\n");
    return 2;
  }
  const size_t colon = server.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    std::fprintf(stderr, "load_client: --server must be HOST:PORT\n");
    return 2;
  }
  o.client.host = server.substr(0, colon);
  o.client.port = static_cast<uint16_t>(std::atoi(server.c_str() + colon + 1));
  std::signal(SIGPIPE, SIG_IGN);
  return cp::bench::Run(o);
}
