#include "server/http_endpoint.h"

#include <signal.h>

#include <array>
#include <boost/asio.hpp>
#include <chrono>
#include <thread>

#include "server/config.h"
#include "server/log.h"

namespace cp::server {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr size_t kMaxRequestHead = 8192;
constexpr auto kRequestTimeout = std::chrono::seconds(5);

std::string Response(int status, const char* reason, const std::string& content_type,
                     const std::string& body, bool head_only) {
  std::string r = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n";
  r += "Content-Type: " + content_type + "\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  r += "Cache-Control: no-store\r\nConnection: close\r\n\r\n";
  if (!head_only) r += body;
  return r;
}

}  // namespace

struct OpsEndpoint::Impl {
  Handlers handlers;
  asio::io_context io{1};
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<asio::signal_set> hangup;
  std::thread thread;

  std::string Answer(const std::string& head);
  awaitable<void> Serve(tcp::socket socket);
  awaitable<void> Accept();
  void WaitForHangup();
};

std::string OpsEndpoint::Impl::Answer(const std::string& head) {
  const size_t line_end = head.find("\r\n");
  const std::string line = head.substr(0, line_end);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string::npos ? std::string::npos : line.find(' ', sp1 + 1);
  const std::string text = "text/plain; charset=utf-8";
  if (sp2 == std::string::npos || line.compare(sp2 + 1, 5, "HTTP/") != 0) {
    return Response(400, "Bad Request", text, "bad request\n", false);
  }
  const std::string method = line.substr(0, sp1);
  std::string path = line.substr(sp1 + 1, sp2 - sp1 - 1);
  path = path.substr(0, path.find('?'));
  const bool head_only = method == "HEAD";
  if (method != "GET" && !head_only) {
    return Response(405, "Method Not Allowed", text, "GET only\n", false);
  }
  if (path == "/metrics") {
    return Response(200, "OK", "text/plain; version=0.0.4; charset=utf-8", handlers.metrics(),
                    head_only);
  }
  if (path == "/health") return Response(200, "OK", text, "ok\n", head_only);
  if (path == "/ready") {
    return handlers.ready() ? Response(200, "OK", text, "ready\n", head_only)
                            : Response(503, "Service Unavailable", text, "not ready\n", head_only);
  }
  return Response(404, "Not Found", text, "not found: /metrics, /health, /ready\n", head_only);
}

awaitable<void> OpsEndpoint::Impl::Serve(tcp::socket socket) {
  asio::steady_timer timer(io, kRequestTimeout);
  timer.async_wait([&socket](const error_code& ec) {
    error_code ignored;
    if (!ec) socket.close(ignored);
  });
  std::string head;
  error_code ec;
  co_await asio::async_read_until(socket, asio::dynamic_buffer(head, kMaxRequestHead), "\r\n\r\n",
                                  asio::redirect_error(use_awaitable, ec));
  std::string response;
  if (!ec) {
    response = Answer(head);
  } else if (ec == asio::error::not_found) {  // the head outgrew kMaxRequestHead
    response =
        Response(400, "Bad Request", "text/plain; charset=utf-8", "request too large\n", false);
  }
  if (!response.empty() && socket.is_open()) {
    co_await asio::async_write(socket, asio::buffer(response),
                               asio::redirect_error(use_awaitable, ec));
  }
  // A lingering close: unread request bytes (a head that was too large) would make close()
  // send a reset that can destroy the response before the client reads it. So: end our
  // side, then discard what the client still sends until it closes (or the timer fires).
  error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  std::array<char, 1024> discard;
  while (!ec && socket.is_open()) {
    co_await socket.async_read_some(asio::buffer(discard), asio::redirect_error(use_awaitable, ec));
  }
  timer.cancel();
  socket.close(ignored);
}

awaitable<void> OpsEndpoint::Impl::Accept() {
  for (;;) {
    tcp::socket socket(io);
    error_code ec;
    co_await acceptor->async_accept(socket, asio::redirect_error(use_awaitable, ec));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;
    asio::co_spawn(io, Serve(std::move(socket)), asio::detached);
  }
}

void OpsEndpoint::Impl::WaitForHangup() {
  hangup->async_wait([this](const error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP && handlers.reload) handlers.reload();
    if (signal == SIGUSR1 && handlers.backup) handlers.backup();
    WaitForHangup();
  });
}

Result<std::unique_ptr<OpsEndpoint>> OpsEndpoint::Start(const std::string& address, uint16_t port,
                                                        Handlers handlers) {
  auto impl = std::make_unique<Impl>();
  impl->handlers = std::move(handlers);
  if (!address.empty()) {
    if (!IsLoopbackAddress(address)) {
      return Status::InvalidArgument(
          "the metrics endpoint listens on a loopback address only, not " + address);
    }
    error_code ec;
    tcp::endpoint endpoint(asio::ip::make_address(address, ec), port);
    impl->acceptor = std::make_unique<tcp::acceptor>(impl->io);
    if (!ec) impl->acceptor->open(endpoint.protocol(), ec);
    if (!ec) impl->acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) impl->acceptor->bind(endpoint, ec);
    if (!ec) impl->acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::IOError("cannot listen for metrics on " + address + ":" +
                             std::to_string(port) + ": " + ec.message());
    }
    asio::co_spawn(impl->io, impl->Accept(), asio::detached);
  }
  impl->hangup = std::make_unique<asio::signal_set>(impl->io, SIGHUP, SIGUSR1);
  impl->WaitForHangup();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->io.run(); });
  return std::unique_ptr<OpsEndpoint>(new OpsEndpoint(std::move(impl)));
}

OpsEndpoint::OpsEndpoint(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

OpsEndpoint::~OpsEndpoint() {
  impl_->io.stop();
  impl_->thread.join();
  // Asio restores SIGHUP's and SIGUSR1's default action (terminate) when the set goes:
  // ignore them instead, so that a reload or backup request sent while the daemon stops
  // does not kill it mid-drain.
  impl_->hangup.reset();
  std::signal(SIGHUP, SIG_IGN);
  std::signal(SIGUSR1, SIG_IGN);
}

uint16_t OpsEndpoint::port() const {
  if (!impl_->acceptor) return 0;
  error_code ec;
  return impl_->acceptor->local_endpoint(ec).port();
}

}  // namespace cp::server
