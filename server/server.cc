#include "server/server.h"

#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <algorithm>
#include <chrono>
#include <thread>
#include <unordered_set>
#include <vector>

#include "server/frame.h"
#include "server/log.h"
#include "server/metrics.h"

namespace cp::server {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using boost::system::error_code;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// One request's work for a worker thread.
struct WorkerJob {
  RequestHandler* handler;
  std::vector<uint8_t> body;  // verified
  std::string address;
  std::string response;
  bool admission = false;  // the job is AdmitConnection, not a request
  bool admitted = false;
};

// Runs the job on the worker pool and resumes the calling coroutine on its own executor,
// so that no search or storage call runs on an I/O thread. Not itself a coroutine, and
// the job travels by shared_ptr: GCC 12 mishandles lambdas moved into coroutine frames.
auto OnWorker(asio::thread_pool& pool, std::shared_ptr<WorkerJob> job) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
      [&pool, job](auto handler) {
        auto ex = asio::get_associated_executor(handler);
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        asio::post(pool, [job, shared, ex]() {
          if (job->admission) {
            job->admitted = job->handler->AdmitConnection(job->address);
          } else {
            job->response =
                job->handler->Handle(*protocol::GetEnvelope(job->body.data()), job->address);
          }
          asio::post(ex, [shared]() { (*shared)(); });
        });
      },
      use_awaitable);
}

// Appends a request's deferred audit events and resumes the calling coroutine on its own
// executor once they are durable (or failed); *status says which. The events and the
// status travel by shared_ptr, as in OnWorker.
auto AuditDurable(RequestHandler* handler, std::shared_ptr<std::vector<AuditEvent>> events,
                  std::shared_ptr<Status> status) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
      [handler, events, status](auto completion) {
        auto ex = asio::get_associated_executor(completion);
        auto shared = std::make_shared<decltype(completion)>(std::move(completion));
        handler->CommitDeferred(std::move(*events), [status, shared, ex](Status s) {
          *status = std::move(s);
          asio::post(ex, [shared]() { (*shared)(); });
        });
      },
      use_awaitable);
}

// A connection as the drain and the deadline sweep see it. Lives on one io_context and
// is touched only there.
struct ConnectionBase {
  virtual ~ConnectionBase() = default;
  virtual void CloseIfIdle() = 0;
  // Closes the connection if its deadline is before `now`.
  virtual void CloseIfLate(steady_clock::time_point now) = 0;
};

// The live connections of one io_context, and the timer that sweeps their deadlines.
struct Shard {
  explicit Shard(asio::io_context& io) : sweep(io) {}
  std::unordered_set<ConnectionBase*> connections;
  asio::steady_timer sweep;
};

// How often each I/O thread looks for missed deadlines: a quarter of the shortest timeout,
// between 5 and 250 ms. A deadline is enforced that much late at worst; in exchange,
// setting one is a store, not a timer re-armed (and a thread woken) several times a request.
milliseconds SweepInterval(const ServerConfig& c) {
  const int shortest = std::min({c.idle_timeout_ms, c.read_timeout_ms, c.write_timeout_ms});
  return milliseconds(std::clamp(shortest / 4, 5, 250));
}

}  // namespace

// The limits a reload may change (Server::ApplyLimits), read afresh for each use.
struct LiveLimits {
  std::atomic<int> max_connections, idle_timeout_ms, read_timeout_ms, write_timeout_ms,
      drain_timeout_ms, slow_request_ms;
  std::atomic<uint32_t> max_frame_bytes;
  void Set(const ServerConfig& c) {
    slow_request_ms = c.slow_request_ms;
    max_connections = c.max_connections;
    idle_timeout_ms = c.idle_timeout_ms;
    read_timeout_ms = c.read_timeout_ms;
    write_timeout_ms = c.write_timeout_ms;
    drain_timeout_ms = c.drain_timeout_ms;
    max_frame_bytes = c.max_frame_bytes;
  }
};

struct Server::Impl {
  ServerConfig config;  // as started; the reloadable limits are in `limits`
  LiveLimits limits;
  RequestHandler* handler;
  std::vector<std::unique_ptr<asio::io_context>> ios;
  std::vector<std::unique_ptr<Shard>> shards;
  std::unique_ptr<asio::thread_pool> workers;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<asio::ssl::context> tls;
  std::atomic<uint32_t> connections{0};
  std::atomic<bool> draining{false};
  std::mutex mu;
  std::condition_variable drain_cv;
  uint64_t accepted = 0;  // accept loop only

  awaitable<void> Accept();
  awaitable<void> Sweep(Shard* shard);
  template <typename Stream>
  awaitable<void> Serve(Stream stream, std::string address, Shard* shard);
  void StartDrain();
};

namespace {

template <typename Stream>
struct Connection : ConnectionBase {
  explicit Connection(Stream s) : stream(std::move(s)) {}
  Stream stream;
  steady_clock::time_point deadline = steady_clock::time_point::max();
  bool closed = false;
  bool busy = false;  // a request has been read and its response not yet written

  // Enforced by the shard's sweep (Server::Impl::Sweep).
  void SetDeadline(int ms) { deadline = steady_clock::now() + milliseconds(ms); }
  void ClearDeadline() { deadline = steady_clock::time_point::max(); }
  void Close() {
    if (closed) return;
    closed = true;
    error_code ec;
    stream.lowest_layer().shutdown(tcp::socket::shutdown_both, ec);
    stream.lowest_layer().close(ec);
  }
  void CloseIfIdle() override {
    if (!busy) Close();
  }
  void CloseIfLate(steady_clock::time_point now) override {
    if (deadline <= now) Close();
  }
};

template <typename Stream>
awaitable<error_code> WriteFrame(Connection<Stream>& c, const std::string& frame, int timeout_ms) {
  c.SetDeadline(timeout_ms);
  error_code ec;
  co_await asio::async_write(c.stream, asio::buffer(frame),
                             asio::redirect_error(use_awaitable, ec));
  co_return ec;
}

}  // namespace

template <typename Stream>
awaitable<void> Server::Impl::Serve(Stream stream, std::string address, Shard* shard) {
  auto c = std::make_shared<Connection<Stream>>(std::move(stream));
  shard->connections.insert(c.get());
  error_code ec;
  // An address outside every organisation's ranges is closed before any byte is read
  // (the check reads storage, so it runs on a worker).
  auto admission = std::make_shared<WorkerJob>();
  admission->handler = handler;
  admission->address = address;
  admission->admission = true;
  co_await OnWorker(*workers, admission);
  const bool admitted = admission->admitted;
  if constexpr (!std::is_same_v<Stream, tcp::socket>) {
    if (admitted) {
      c->SetDeadline(limits.read_timeout_ms);
      co_await c->stream.async_handshake(asio::ssl::stream_base::server,
                                         asio::redirect_error(use_awaitable, ec));
    }
  }
  while (admitted && !ec && !c->closed) {
    c->SetDeadline(limits.idle_timeout_ms);
    uint8_t header[kFrameHeaderBytes];
    co_await asio::async_read(c->stream, asio::buffer(header),
                              asio::redirect_error(use_awaitable, ec));
    if (ec) break;
    const uint32_t length = DecodeFrameLength(std::span<const uint8_t, kFrameHeaderBytes>(header));
    const uint32_t max_frame_bytes = limits.max_frame_bytes;
    const FrameLength check = CheckFrameLength(length, max_frame_bytes);
    if (check != FrameLength::kOk) {
      // Nothing of the body is read: the stream cannot be resynchronised, so it closes.
      // (Frames are built into named strings: GCC 12 destroys some temporaries inside a
      // co_await expression twice.)
      const bool too_large = check == FrameLength::kTooLarge;
      const std::string refusal =
          too_large
              ? ErrorFrame(0, protocol::ErrorCode::FrameTooLarge,
                           "frame of " + std::to_string(length) + " bytes exceeds the maximum of " +
                               std::to_string(max_frame_bytes))
              : ErrorFrame(0, protocol::ErrorCode::MalformedFrame, "empty frame");
      ServerMetrics::Global().ObserveFrameRefusal(too_large ? protocol::ErrorCode::FrameTooLarge
                                                            : protocol::ErrorCode::MalformedFrame);
      co_await WriteFrame(*c, refusal, limits.write_timeout_ms);
      break;
    }
    c->SetDeadline(limits.read_timeout_ms);
    std::vector<uint8_t> body(length);
    co_await asio::async_read(c->stream, asio::buffer(body),
                              asio::redirect_error(use_awaitable, ec));
    if (ec) break;
    const protocol::Envelope* env = VerifyEnvelope(body);
    if (env == nullptr) {
      const std::string refusal = ErrorFrame(0, protocol::ErrorCode::MalformedFrame,
                                             "the frame is not a verifiable CPD1 envelope");
      ServerMetrics::Global().ObserveFrameRefusal(protocol::ErrorCode::MalformedFrame);
      co_await WriteFrame(*c, refusal, limits.write_timeout_ms);
      break;
    }
    c->busy = true;
    c->ClearDeadline();  // the worker's time is the server's, not the client's
    const auto started = steady_clock::now();
    const protocol::Body type = env->body_type();  // `body` moves to the worker
    std::string response;
    if (draining.load()) {
      response = ErrorFrame(env->id(), protocol::ErrorCode::Unavailable,
                            "the server is shutting down; reconnect later");
    } else if (RequestHandler::RunsInline(env->body_type())) {
      // Searches and record views run here, on the I/O thread; only their audit append
      // is waited for, without holding the thread.
      auto events = std::make_shared<std::vector<AuditEvent>>();
      response = handler->Handle(*env, address, events.get());
      if (!events->empty()) {
        auto status = std::make_shared<Status>();
        co_await AuditDurable(handler, events, status);
        if (!status->ok()) {
          LogError("an audit append failed; the client is answered Internal");
          response = RequestHandler::AuditFailure(env->id());
        }
      }
    } else {
      auto job = std::make_shared<WorkerJob>();
      job->handler = handler;
      job->body = std::move(body);
      job->address = address;
      co_await OnWorker(*workers, job);
      response = std::move(job->response);
    }
    const int64_t took_ns = (steady_clock::now() - started) / 1ns;
    ServerMetrics::Global().ObserveRequest(type, response, took_ns);
    if (const int slow_ms = limits.slow_request_ms;
        slow_ms > 0 && took_ns >= int64_t{slow_ms} * 1000000) {
      LogInfo("a request took longer than log.slow_request_ms",
              {{"event", "slow_request"},
               {"type", protocol::EnumNameBody(type)},
               {"ms", static_cast<double>(took_ns) / 1e6}});
    }
    ec = co_await WriteFrame(*c, response, limits.write_timeout_ms);
    c->busy = false;
    if (draining.load()) break;
  }
  c->Close();
  shard->connections.erase(c.get());
  if (connections.fetch_sub(1) == 1 && draining.load()) {
    std::lock_guard lock(mu);
    drain_cv.notify_all();
  }
}

// Closes the shard's connections whose deadline has passed, every SweepInterval, until
// the I/O thread stops.
awaitable<void> Server::Impl::Sweep(Shard* shard) {
  const milliseconds interval = SweepInterval(config);
  for (;;) {
    shard->sweep.expires_after(interval);
    error_code ec;
    co_await shard->sweep.async_wait(asio::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    const auto now = steady_clock::now();
    // Copy: a closed connection's coroutine erases it from the set (later, not inline).
    std::vector<ConnectionBase*> open(shard->connections.begin(), shard->connections.end());
    for (ConnectionBase* c : open) c->CloseIfLate(now);
  }
}

awaitable<void> Server::Impl::Accept() {
  for (;;) {
    const size_t i = accepted++ % ios.size();
    tcp::socket socket(*ios[i]);
    error_code ec;
    co_await acceptor->async_accept(socket, asio::redirect_error(use_awaitable, ec));
    if (draining.load() || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      LogError("accept failed: " + ec.message(), {{"event", "accept_failed"}});
      asio::steady_timer pause(*ios[0], milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    if (const int max = limits.max_connections; connections.load() >= static_cast<uint32_t>(max)) {
      LogError(
          "connection refused: the limit of " + std::to_string(max) + " connections is reached",
          {{"event", "connection_limit"}, {"max_connections", max}});
      socket.close(ec);
      continue;
    }
    connections.fetch_add(1);
    error_code addr_ec;
    std::string address = socket.remote_endpoint(addr_ec).address().to_string();
    if (addr_ec) {
      connections.fetch_sub(1);
      socket.close(ec);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    Shard* shard = shards[i].get();
    if (tls) {
      asio::co_spawn(
          *ios[i],
          Serve(asio::ssl::stream<tcp::socket>(std::move(socket), *tls), std::move(address), shard),
          asio::detached);
    } else {
      asio::co_spawn(*ios[i], Serve(std::move(socket), std::move(address), shard), asio::detached);
    }
  }
}

void Server::Impl::StartDrain() {
  if (draining.exchange(true)) return;
  LogInfo("draining: no new connections or requests; in-flight requests finish",
          {{"event", "draining"}, {"connections", connections.load()}});
  handler->SetDraining();
  asio::post(*ios[0], [this] {
    error_code ec;
    acceptor->close(ec);
  });
  for (size_t i = 0; i < ios.size(); ++i) {
    asio::post(*ios[i], [shard = shards[i].get()] {
      // Copy: closing a connection ends its coroutine, which erases it from the set.
      std::vector<ConnectionBase*> open(shard->connections.begin(), shard->connections.end());
      for (ConnectionBase* c : open) c->CloseIfIdle();
    });
  }
  std::lock_guard lock(mu);
  drain_cv.notify_all();
}

Result<std::unique_ptr<Server>> Server::Start(const ServerConfig& config, RequestHandler* handler) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->limits.Set(config);
  impl->handler = handler;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const int n_io = config.io_threads > 0 ? config.io_threads : static_cast<int>(cores);
  const int n_workers =
      config.workers > 0 ? config.workers : kWorkersPerCore * static_cast<int>(cores);
  for (int i = 0; i < n_io; ++i) {
    impl->ios.push_back(std::make_unique<asio::io_context>(1));
    impl->shards.push_back(std::make_unique<Shard>(*impl->ios.back()));
  }
  impl->workers = std::make_unique<asio::thread_pool>(n_workers);
  try {
    if (!config.plain_tcp) {
      impl->tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
      SSL_CTX_set_min_proto_version(impl->tls->native_handle(), TLS1_3_VERSION);
      impl->tls->set_options(asio::ssl::context::default_workarounds |
                             asio::ssl::context::single_dh_use);
      impl->tls->use_certificate_chain_file(config.certificate_file);
      impl->tls->use_private_key_file(config.private_key_file, asio::ssl::context::pem);
    }
  } catch (const boost::system::system_error& e) {
    return Status::InvalidArgument("TLS certificate or key (" + config.certificate_file + ", " +
                                   config.private_key_file + "): " + e.code().message());
  }
  error_code ec;
  auto address = asio::ip::make_address(config.listen_address, ec);
  if (ec)
    return Status::InvalidArgument("listen address " + config.listen_address + ": " + ec.message());
  tcp::endpoint endpoint(address, config.listen_port);
  impl->acceptor = std::make_unique<tcp::acceptor>(*impl->ios[0]);
  impl->acceptor->open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor->bind(endpoint, ec);
  if (!ec) impl->acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::IOError("cannot listen on " + config.listen_address + ":" +
                           std::to_string(config.listen_port) + ": " + ec.message());
  }
  Impl* raw = impl.get();
  handler->SetConnectionCounter([raw] { return raw->connections.load(); });
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { impl_->handler->SetConnectionCounter(nullptr); }

uint16_t Server::port() const {
  error_code ec;
  return impl_->acceptor->local_endpoint(ec).port();
}

uint32_t Server::connections() const { return impl_->connections.load(); }

void Server::Drain() { impl_->StartDrain(); }

void Server::ApplyLimits(const ServerConfig& config) { impl_->limits.Set(config); }

Status Server::Run(bool handle_signals) {
  Impl& s = *impl_;
  std::unique_ptr<asio::signal_set> signals;
  if (handle_signals) {
    signals = std::make_unique<asio::signal_set>(*s.ios[0], SIGTERM, SIGINT);
    signals->async_wait([&s](const error_code& ec, int) {
      if (!ec) s.StartDrain();
    });
  }
  asio::co_spawn(*s.ios[0], s.Accept(), asio::detached);
  for (size_t i = 0; i < s.ios.size(); ++i) {
    asio::co_spawn(*s.ios[i], s.Sweep(s.shards[i].get()), asio::detached);
  }
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::thread> threads;
  for (auto& io : s.ios) {
    guards.push_back(asio::make_work_guard(*io));
    threads.emplace_back([&io] { io->run(); });
  }
  LogInfo(std::string("serving on ") + s.config.listen_address + ":" + std::to_string(port()) +
              (s.tls ? " (TLS 1.3)" : " (plain TCP, loopback only)"),
          {{"event", "serving"}, {"port", uint32_t{port()}}, {"tls", s.tls != nullptr}});
  bool clean = true;
  {
    std::unique_lock lock(s.mu);
    s.drain_cv.wait(lock, [&s] { return s.draining.load(); });
    clean = s.drain_cv.wait_for(lock, milliseconds(s.limits.drain_timeout_ms.load()),
                                [&s] { return s.connections.load() == 0; });
  }
  if (signals) {
    asio::post(*s.ios[0], [&signals] {
      error_code ec;
      signals->cancel(ec);
    });
  }
  // Deferred audit appends still queued are written (and their coroutines resumed) while
  // the I/O threads still run.
  s.handler->FlushAudit();
  for (auto& g : guards) g.reset();
  for (auto& io : s.ios) io->stop();
  for (auto& t : threads) t.join();
  s.workers->join();
  if (!clean) return Status::FailedPrecondition("the drain timed out with connections still open");
  LogInfo("drained and stopped", {{"event", "stopped"}});
  return Status::OK();
}

}  // namespace cp::server
