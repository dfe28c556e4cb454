#include "tools/load_client.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "server/records.h"
#include "tools/json_output.h"
#include "util/totp.h"

namespace cp {

namespace {

namespace fb = protocol;
using server::Client;
using Steady = std::chrono::steady_clock;

// One session token per user, logged in by whichever connection asks first.
class Sessions {
 public:
  explicit Sessions(const std::vector<LoadCredential>& users) : users_(users) {}

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
  // and a step's code is accepted once. Each refused code counts towards lockout; a
  // success resets the count.
  static Status LogIn(Client* client, const LoadCredential& c) {
    auto secret = Base32Decode(c.totp_secret);
    if (!secret.ok()) {
      return Status::InvalidArgument("the TOTP secret of " + c.user + " is not base32");
    }
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    for (int attempt = 0; attempt < 3; ++attempt) {
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
                                        " refused: " + server::ErrorCodeName(e->code()) +
                                        (e->message() ? " (" + e->message()->str() + ")" : ""));
      }
    }
    return Status::PermissionDenied("login of " + c.user + " refused: bad_code three times");
  }

  const std::vector<LoadCredential>& users_;
  std::mutex mu_;
  std::map<size_t, std::string> tokens_;
};

struct Shared {
  const LoadOptions* options;
  const std::vector<server::SearchRequest>* queries;
  Sessions* sessions;
  std::atomic<uint64_t> next_query{0};  // over all connections
  std::atomic<uint64_t> measured{0};    // requests started after the warm-up
  std::atomic<int> ready{0};
  Steady::time_point measure_from, stop;
  std::mutex mu;
  std::condition_variable go;
  bool started = false;
  bool abort = false;  // a connection could not log in: nobody sends anything
  Status setup = Status::OK();
  std::string stopped_early;
  std::vector<std::string> answer_lines;  // answers mode: one per query, by index
};

nlohmann::json ErrorAnswer(const std::string& status, const std::string& message) {
  return {{"status", status}, {"message", message}, {"results", nlohmann::json::array()}};
}

// The answer line of one search, as `contactpoint search --queries` renders it locally.
nlohmann::json AnswerJson(const Result<server::Response>& r) {
  if (!r.ok()) return ErrorAnswer("error", "transport: " + r.status().ToString());
  if (const fb::Error* e = r->error()) {
    const std::string message = e->message() ? e->message()->str() : "";
    if (e->code() == fb::ErrorCode::InvalidCriteria) return InvalidCriteriaJson(message);
    return ErrorAnswer(server::ErrorCodeName(e->code()), message);
  }
  return SearchJson(SearchResponseFromWire(r->envelope().body_as_SearchResult()));
}

// What the connection's child ids are drawn from: ids its recent searches returned.
class RecentChildren {
 public:
  void Add(const fb::SearchResult* result) {
    if (result == nullptr || result->results() == nullptr) return;
    for (const auto* c : *result->results()) {
      if (ids_.size() < kKept) {
        ids_.push_back(c->child_id());
      } else {
        ids_[next_++ % kKept] = c->child_id();
      }
    }
  }
  bool empty() const { return ids_.empty(); }
  uint64_t Pick(std::mt19937_64& rng) const { return ids_[rng() % ids_.size()]; }

 private:
  static constexpr size_t kKept = 64;
  std::vector<uint64_t> ids_;
  size_t next_ = 0;
};

void Record(const Result<server::Response>& r, bool is_search, double micros, LoadTally* t) {
  if (!r.ok()) {
    ++t->transport;
    return;
  }
  t->micros.push_back(micros);
  const fb::Error* e = r->error();
  if (e == nullptr) {
    ++t->ok;
  } else if (is_search && e->code() == fb::ErrorCode::TooManyMatches) {
    ++t->too_many;
  } else if (is_search && e->code() == fb::ErrorCode::InvalidCriteria) {
    ++t->invalid;
  } else {
    ++t->refused[server::ErrorCodeName(e->code())];
  }
}

void Connection(Shared* sh, int index, LoadTally* search, LoadTally* view) {
  const LoadOptions& o = *sh->options;
  const bool answers = o.answers;
  auto fail_setup = [&](Status s) {
    std::lock_guard lock(sh->mu);
    if (sh->setup.ok()) sh->setup = std::move(s);
  };
  std::unique_ptr<Client> client;
  if (auto c = Client::Connect(o.client); c.ok()) {
    client = std::move(*c);
    Status s = sh->sessions->Join(client.get(), static_cast<size_t>(index) % o.users.size());
    if (!s.ok()) fail_setup(s);
  } else {
    fail_setup(c.status());
  }
  sh->ready.fetch_add(1);
  {
    std::unique_lock lock(sh->mu);
    sh->go.wait(lock, [sh] { return sh->started; });
    if (sh->abort) return;
  }
  const std::string session = client->session();
  std::mt19937_64 rng(o.seed * 1000003 + static_cast<uint64_t>(index));
  std::uniform_real_distribution<double> coin(0, 1);
  RecentChildren recent;
  for (;;) {
    const Steady::time_point t0 = Steady::now();
    if (!answers && t0 >= sh->stop) break;
    const bool counted = answers || t0 >= sh->measure_from;
    if (answers && sh->next_query.load() >= sh->queries->size()) break;
    if (counted && o.requests > 0 && sh->measured.fetch_add(1) >= o.requests) break;
    const bool is_view = !recent.empty() && coin(rng) < o.view_share;
    uint64_t n = 0;
    Result<server::Response> r = Status::IOError("not sent");
    if (is_view) {
      r = client->GetRecord(recent.Pick(rng), o.reason);
    } else {
      n = sh->next_query.fetch_add(1);
      if (answers && n >= sh->queries->size()) break;
      server::SearchRequest q = (*sh->queries)[n % sh->queries->size()];
      q.limit = o.limit;
      r = client->Search(q, o.reason);
    }
    const double micros = std::chrono::duration<double, std::micro>(Steady::now() - t0).count();
    if (!is_view && r.ok()) recent.Add(r->envelope().body_as_SearchResult());
    if (answers && !is_view) {
      nlohmann::json line = AnswerJson(r);
      line["query_id"] = o.queries[n].query_id;
      sh->answer_lines[n] = line.dump();
    }
    if (counted) Record(r, !is_view, micros, is_view ? view : search);
    if (!r.ok()) {
      auto c = Client::Connect(o.client);
      if (!c.ok()) {
        std::lock_guard lock(sh->mu);
        if (sh->stopped_early.empty()) {
          sh->stopped_early = "connection " + std::to_string(index) +
                              " could not reconnect: " + c.status().ToString();
        }
        return;
      }
      client = std::move(*c);
      client->set_session(session);
    }
  }
}

double CpuSeconds(const timeval& t) {
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
}

Steady::duration Seconds(double s) {
  return std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(s));
}

}  // namespace

SearchResponse SearchResponseFromWire(const protocol::SearchResult* result) {
  SearchResponse response;
  if (result == nullptr || result->results() == nullptr) return response;
  for (const auto* child : *result->results()) {
    SearchHit hit;
    hit.view = server::ChildFromFb(*child, &hit.score);
    hit.id = hit.view.record.id;
    response.hits.push_back(std::move(hit));
  }
  return response;
}

uint64_t LoadTally::errors() const {
  uint64_t n = transport;
  for (const auto& [code, count] : refused) n += count;
  return n;
}

void LoadTally::Add(const LoadTally& other) {
  micros.insert(micros.end(), other.micros.begin(), other.micros.end());
  ok += other.ok;
  too_many += other.too_many;
  invalid += other.invalid;
  transport += other.transport;
  for (const auto& [code, n] : other.refused) refused[code] += n;
}

Result<std::vector<LoadCredential>> ReadLoadCredentials(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot read the credentials file " + path);
  std::vector<LoadCredential> out;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const size_t a = line.find('\t');
    const size_t b = a == std::string::npos ? a : line.find('\t', a + 1);
    if (b == std::string::npos || a == 0 || b == a + 1 || b + 1 == line.size()) {
      return Status::InvalidArgument(path + " line " + std::to_string(number) +
                                     ": not user<TAB>TOTP secret<TAB>password");
    }
    out.push_back({line.substr(0, a), line.substr(a + 1, b - a - 1), line.substr(b + 1)});
  }
  if (out.empty()) return Status::InvalidArgument(path + " names no user");
  return out;
}

Result<std::vector<server::SearchRequest>> WireQueries(const std::vector<QueryRow>& rows) {
  if (rows.empty()) return Status::InvalidArgument("the query file holds no query");
  std::vector<server::SearchRequest> out;
  out.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!rows[i].criteria.ok()) {
      // Line i + 2: the header is line 1 (a quoted field may span lines; rare in queries).
      return Status::InvalidArgument("query file row " + std::to_string(i + 1) + " (line " +
                                     std::to_string(i + 2) + ", query_id '" + rows[i].query_id +
                                     "'): " + rows[i].criteria.status().message());
    }
    const SearchCriteria& c = *rows[i].criteria;
    server::SearchRequest q;
    q.given_name = c.given_name;
    q.family_name = c.family_name;
    if (c.date_of_birth) q.date_of_birth = c.date_of_birth->ToString();
    if (c.dob_from) q.dob_from = c.dob_from->ToString();
    if (c.dob_to) q.dob_to = c.dob_to->ToString();
    if (c.gender != Gender::kUnknown) q.gender = GenderCode(c.gender);
    q.postcode = c.postcode;
    q.nhs_number = c.nhs_number;
    q.pupil_number = c.pupil_number;
    out.push_back(std::move(q));
  }
  return out;
}

Result<LoadReport> RunLoad(const LoadOptions& o) {
  if (o.users.empty()) return Status::InvalidArgument("no user to log in as");
  if (o.connections < 1) return Status::InvalidArgument("at least one connection is needed");
  auto queries = WireQueries(o.queries);
  if (!queries.ok()) return queries.status();
  if (!o.answers && o.duration_s <= 0 && o.requests == 0) {
    return Status::InvalidArgument("give a duration or a request count (or both)");
  }
  Sessions sessions(o.users);
  Shared sh;
  sh.options = &o;
  sh.queries = &*queries;
  sh.sessions = &sessions;
  if (o.answers) sh.answer_lines.resize(queries->size());
  const size_t n = static_cast<size_t>(o.connections);
  std::vector<LoadTally> searches(n), views(n);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n; ++i) {
    threads.emplace_back(Connection, &sh, static_cast<int>(i), &searches[i], &views[i]);
  }
  while (sh.ready.load() < o.connections) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  Steady::time_point start;
  {
    std::lock_guard lock(sh.mu);
    start = Steady::now();
    const double warmup = o.answers ? 0 : o.warmup_s;
    sh.measure_from = start + Seconds(warmup);
    sh.stop =
        o.duration_s > 0 ? sh.measure_from + Seconds(o.duration_s) : Steady::time_point::max();
    sh.abort = !sh.setup.ok();
    sh.started = true;
  }
  sh.go.notify_all();
  for (auto& t : threads) t.join();
  const Steady::time_point end = Steady::now();
  if (sh.abort) return sh.setup;
  rusage after{};
  getrusage(RUSAGE_SELF, &after);

  LoadReport report;
  report.connections = o.connections;
  report.users = o.users.size();
  report.tls = !o.client.plain;
  report.warmup_s = o.answers ? 0 : o.warmup_s;
  report.measured_s = std::chrono::duration<double>(end - std::min(end, sh.measure_from)).count();
  for (size_t i = 0; i < n; ++i) {
    report.search.Add(searches[i]);
    report.view.Add(views[i]);
  }
  std::sort(report.search.micros.begin(), report.search.micros.end());
  std::sort(report.view.micros.begin(), report.view.micros.end());
  report.cpu_user_s = CpuSeconds(after.ru_utime) - CpuSeconds(before.ru_utime);
  report.cpu_sys_s = CpuSeconds(after.ru_stime) - CpuSeconds(before.ru_stime);
  report.stopped_early = sh.stopped_early;
  if (o.answers) {
    for (size_t i = 0; i < sh.answer_lines.size(); ++i) {
      if (sh.answer_lines[i].empty()) {  // never sent: every connection stopped early
        nlohmann::json line = ErrorAnswer("error", "not sent: " + sh.stopped_early);
        line["query_id"] = o.queries[i].query_id;
        sh.answer_lines[i] = line.dump();
        ++report.search.transport;
      }
    }
    report.answers = std::move(sh.answer_lines);
  }
  return report;
}

}  // namespace cp
