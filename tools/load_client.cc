#include "tools/load_client.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include "server/records.h"
#include "tools/json_output.h"
#include "util/totp.h"

namespace cp {

namespace {

namespace asio = boost::asio;
namespace fb = protocol;
using asio::ip::tcp;
using boost::system::error_code;
using server::Client;
using Steady = std::chrono::steady_clock;

// Logs `client` in as `c`, keeping the session token on the client. The code of the
// current step, else of the next (the server accepts one step either
// side), else of the one after that once the next has come: a user logged in a moment
// ago (the previous run of a bench) has used the current step's code or the next one's,
// and a step's code is accepted once. Each refused code counts towards lockout; a
// success resets the count.
Status LogIn(Client* client, const LoadCredential& c) {
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

struct Shared {
  const LoadOptions* options;
  const std::vector<server::SearchRequest>* queries;
  tcp::resolver::results_type endpoints;
  std::atomic<uint64_t> next_query{0};  // over all connections
  std::atomic<uint64_t> measured{0};    // requests started after the warm-up
  Steady::time_point measure_from, stop;
  std::mutex mu;
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

// One connection's TLS (or plain) stream on its thread's io_context. Only that thread
// touches it: the request loop and the watchdog that closes it when a call overruns.
struct Connection {
  Connection(asio::io_context& io, asio::ssl::context& tls) : stream(io, tls) {}
  asio::ssl::stream<tcp::socket> stream;
  int index = 0;
  std::string session;
  LoadTally* search = nullptr;
  LoadTally* view = nullptr;
  Steady::time_point call_deadline = Steady::time_point::max();  // max: no call running
  bool timed_out = false;
};

template <typename Buffers>
asio::awaitable<void> WriteAll(Connection& c, bool plain, const Buffers& b, error_code& ec) {
  if (plain)
    co_await asio::async_write(c.stream.next_layer(), b, asio::redirect_error(asio::use_awaitable, ec));
  else
    co_await asio::async_write(c.stream, b, asio::redirect_error(asio::use_awaitable, ec));
}

template <typename Buffers>
asio::awaitable<void> ReadAll(Connection& c, bool plain, const Buffers& b, error_code& ec) {
  if (plain)
    co_await asio::async_read(c.stream.next_layer(), b, asio::redirect_error(asio::use_awaitable, ec));
  else
    co_await asio::async_read(c.stream, b, asio::redirect_error(asio::use_awaitable, ec));
}

// Connects and, over TLS, verifies the server's certificate and name, as server::Client does.
asio::awaitable<Status> Open(Shared* sh, Connection& c) {
  const LoadOptions& o = *sh->options;
  const std::string where = o.client.host + ":" + std::to_string(o.client.port);
  error_code ec;
  c.call_deadline = Steady::now() + std::chrono::milliseconds(o.client.timeout_ms);
  co_await asio::async_connect(c.stream.lowest_layer(), sh->endpoints,
                               asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) {
    error_code ignored;
    c.stream.lowest_layer().set_option(tcp::no_delay(true), ignored);
    if (!o.client.plain) {
      c.stream.set_verify_callback(asio::ssl::host_name_verification(o.client.host));
      SSL_set_tlsext_host_name(c.stream.native_handle(), o.client.host.c_str());
      co_await c.stream.async_handshake(asio::ssl::stream_base::client,
                                        asio::redirect_error(asio::use_awaitable, ec));
      if (ec) ec = c.timed_out ? asio::error::timed_out : ec;
      c.call_deadline = Steady::time_point::max();
      if (ec) co_return Status::IOError("TLS handshake with " + where + " failed: " + ec.message());
      co_return Status::OK();
    }
  }
  c.call_deadline = Steady::time_point::max();
  if (ec) {
    co_return Status::IOError("cannot connect to " + where + ": " +
                              (c.timed_out ? std::string("timed out") : ec.message()));
  }
  co_return Status::OK();
}

// One request and its response, within the timeout (the watchdog closes the stream when it
// passes). A transport failure, an oversized or unverifiable frame or a wrong id is an
// IOError, as with server::Client.
asio::awaitable<Result<server::Response>> Exchange(Connection& c, bool plain, uint64_t id,
                                                   const std::string& frame, int timeout_ms) {
  c.call_deadline = Steady::now() + std::chrono::milliseconds(timeout_ms);
  struct Clear {
    Connection& c;
    ~Clear() { c.call_deadline = Steady::time_point::max(); }
  } clear{c};
  auto failed = [&c](const char* what, const error_code& ec) {
    return Status::IOError(std::string(what) + ": " + (c.timed_out ? "timed out" : ec.message()));
  };
  error_code ec;
  co_await WriteAll(c, plain, asio::buffer(frame), ec);
  if (ec) co_return failed("sending to the server failed", ec);
  uint8_t header[server::kFrameHeaderBytes];
  co_await ReadAll(c, plain, asio::buffer(header), ec);
  if (ec) co_return failed("reading from the server failed", ec);
  const uint32_t length =
      server::DecodeFrameLength(std::span<const uint8_t, server::kFrameHeaderBytes>(header));
  if (server::CheckFrameLength(length, server::kMaxResponseBytes) != server::FrameLength::kOk) {
    co_return Status::IOError("the server sent a frame of " + std::to_string(length) + " bytes");
  }
  std::vector<uint8_t> body(length);
  co_await ReadAll(c, plain, asio::buffer(body), ec);
  if (ec) co_return failed("reading from the server failed", ec);
  if (server::VerifyEnvelope(body) == nullptr) {
    co_return Status::IOError("the server's response did not verify");
  }
  server::Response r(std::move(body));
  if (r.envelope().id() != id && r.envelope().id() != 0) {
    co_return Status::IOError("the server answered request " + std::to_string(r.envelope().id()) +
                              ", expected " + std::to_string(id));
  }
  co_return r;
}

// A connection's requests, one at a time, until the duration, the request count or (with
// answers) the query file is done. A broken transport is counted and the connection
// reconnects with the same session.
asio::awaitable<void> Requests(Shared* sh, std::unique_ptr<Connection>* slot, asio::io_context& io,
                               asio::ssl::context& tls) {
  const LoadOptions& o = *sh->options;
  const bool answers = o.answers;
  Connection* c = slot->get();
  std::mt19937_64 rng(o.seed * 1000003 + static_cast<uint64_t>(c->index));
  std::uniform_real_distribution<double> coin(0, 1);
  RecentChildren recent;
  uint64_t next_id = 1;
  for (;;) {
    const Steady::time_point t0 = Steady::now();
    if (!answers && t0 >= sh->stop) break;
    const bool counted = answers || t0 >= sh->measure_from;
    if (answers && sh->next_query.load() >= sh->queries->size()) break;
    if (counted && o.requests > 0 && sh->measured.fetch_add(1) >= o.requests) break;
    const bool is_view = !recent.empty() && coin(rng) < o.view_share;
    uint64_t n = 0;
    const uint64_t id = next_id++;
    std::string frame;
    if (is_view) {
      frame = server::GetRecordFrame(id, c->session, recent.Pick(rng), o.reason);
    } else {
      n = sh->next_query.fetch_add(1);
      if (answers && n >= sh->queries->size()) break;
      server::SearchRequest q = (*sh->queries)[n % sh->queries->size()];
      q.limit = o.limit;
      frame = server::SearchFrame(id, c->session, q, o.reason);
    }
    Result<server::Response> r =
        co_await Exchange(*c, o.client.plain, id, frame, o.client.timeout_ms);
    const double micros = std::chrono::duration<double, std::micro>(Steady::now() - t0).count();
    if (!is_view && r.ok()) recent.Add(r->envelope().body_as_SearchResult());
    if (answers && !is_view) {
      nlohmann::json line = AnswerJson(r);
      line["query_id"] = o.queries[n].query_id;
      sh->answer_lines[n] = line.dump();
    }
    if (counted) Record(r, !is_view, micros, is_view ? c->view : c->search);
    if (!r.ok()) {
      // The new connection takes the slot before it opens, so that the watchdog sees it.
      auto fresh = std::make_unique<Connection>(io, tls);
      fresh->index = c->index;
      fresh->session = c->session;
      fresh->search = c->search;
      fresh->view = c->view;
      *slot = std::move(fresh);
      c = slot->get();
      Status s = co_await Open(sh, *c);
      if (!s.ok()) {
        std::lock_guard lock(sh->mu);
        if (sh->stopped_early.empty()) {
          sh->stopped_early =
              "connection " + std::to_string(c->index) + " could not reconnect: " + s.ToString();
        }
        co_return;
      }
    }
  }
}

// Closes the stream of every connection whose call has overrun its deadline, every 50 ms,
// until `done` is set.
asio::awaitable<void> Watchdog(std::vector<std::unique_ptr<Connection>>* conns, const bool* done) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!*done) {
    timer.expires_after(std::chrono::milliseconds(50));
    error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    const Steady::time_point now = Steady::now();
    for (auto& c : *conns) {
      if (c != nullptr && now >= c->call_deadline && !c->timed_out) {
        c->timed_out = true;
        error_code ignored;
        c->stream.lowest_layer().close(ignored);
      }
    }
  }
}

// One client thread: its io_context, its share of the connections (i % threads == t).
struct Worker {
  asio::io_context io{1};
  std::vector<std::unique_ptr<Connection>> conns;
  bool done = false;
};

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
  if (o.threads < 1) return Status::InvalidArgument("at least one client thread is needed");
  Shared sh;
  sh.options = &o;
  sh.queries = &*queries;
  if (o.answers) sh.answer_lines.resize(queries->size());
  const size_t n = static_cast<size_t>(o.connections);
  const std::string where = o.client.host + ":" + std::to_string(o.client.port);
  {
    asio::io_context io;
    tcp::resolver resolver(io);
    error_code ec;
    sh.endpoints = resolver.resolve(o.client.host, std::to_string(o.client.port), ec);
    if (ec) return Status::IOError("cannot resolve " + where + ": " + ec.message());
  }
  asio::ssl::context tls{asio::ssl::context::tls_client};
  if (!o.client.plain) {
    try {
      SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_3_VERSION);
      tls.set_verify_mode(asio::ssl::verify_peer);
      if (o.client.ca_file.empty())
        tls.set_default_verify_paths();
      else
        tls.load_verify_file(o.client.ca_file);
    } catch (const boost::system::system_error& e) {
      return Status::InvalidArgument("CA file " + o.client.ca_file + ": " + e.code().message());
    }
  }

  // Every user a connection will use logs in once, through the blocking client; the
  // connections then present its session (bound to the address, not to a connection).
  std::vector<std::string> tokens(std::min(n, o.users.size()));
  for (size_t u = 0; u < tokens.size(); ++u) {
    auto client = Client::Connect(o.client);
    if (!client.ok()) return client.status();
    Status s = LogIn(client->get(), o.users[u]);
    if (!s.ok()) return s;
    tokens[u] = (*client)->session();
  }

  std::vector<LoadTally> searches(n), views(n);
  const size_t thread_count = std::min(n, static_cast<size_t>(o.threads));
  std::vector<std::unique_ptr<Worker>> workers;
  for (size_t t = 0; t < thread_count; ++t) workers.push_back(std::make_unique<Worker>());
  for (size_t i = 0; i < n; ++i) {
    Worker& w = *workers[i % thread_count];
    auto c = std::make_unique<Connection>(w.io, tls);
    c->index = static_cast<int>(i);
    c->session = tokens[i % tokens.size()];
    c->search = &searches[i];
    c->view = &views[i];
    w.conns.push_back(std::move(c));
  }
  // Every connection opens before the clock starts; one that cannot fails the run.
  for (auto& w : workers) {
    Status opened = Status::OK();
    asio::co_spawn(
        w->io,
        [](Shared* sh, Worker* w, Status* opened) -> asio::awaitable<void> {
          for (auto& c : w->conns) {
            Status s = co_await Open(sh, *c);
            if (!s.ok() && opened->ok()) *opened = s;
          }
          w->done = true;
        }(&sh, w.get(), &opened),
        asio::detached);
    asio::co_spawn(w->io, Watchdog(&w->conns, &w->done), asio::detached);
    w->io.run();
    if (!opened.ok()) return opened;
    w->io.restart();
    w->done = false;
  }

  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  const Steady::time_point start = Steady::now();
  const double warmup = o.answers ? 0 : o.warmup_s;
  sh.measure_from = start + Seconds(warmup);
  sh.stop = o.duration_s > 0 ? sh.measure_from + Seconds(o.duration_s) : Steady::time_point::max();
  std::vector<std::thread> threads;
  for (auto& w : workers) {
    auto remaining = std::make_shared<size_t>(w->conns.size());
    for (auto& slot : w->conns) {
      asio::co_spawn(w->io, Requests(&sh, &slot, w->io, tls),
                     [&sh, w = w.get(), remaining](std::exception_ptr e) {
                       if (e) {
                         std::string what = "an unexpected error";
                         try {
                           std::rethrow_exception(e);
                         } catch (const std::exception& x) {
                           what = x.what();
                         } catch (...) {
                         }
                         std::lock_guard lock(sh.mu);
                         if (sh.stopped_early.empty()) sh.stopped_early = "a connection failed: " + what;
                       }
                       if (--*remaining == 0) w->done = true;
                     });
    }
    asio::co_spawn(w->io, Watchdog(&w->conns, &w->done), asio::detached);
    threads.emplace_back([w = w.get()] { w->io.run(); });
  }
  for (auto& t : threads) t.join();
  const Steady::time_point end = Steady::now();
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
