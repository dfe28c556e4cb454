// contactpointd's network side: Boost.Asio, one io_context per I/O thread, TLS 1.3 or
// (loopback only) plain TCP, length-prefixed FlatBuffers frames (server/frame.h).
//
// A connection from an address outside every organisation's registered ranges is closed
// before the TLS handshake (RequestHandler::AdmitConnection). Otherwise it serves one
// request at a time: read the 4-byte header (within the idle timeout), refuse a length
// above max_frame_bytes before reading any of the body, read the body (within the read
// timeout), verify it, handle it, write the response (within the write timeout), repeat.
// Searches, record views, Hello and Health are handled on the I/O thread itself, and their
// audit append is awaited without holding the thread; logins, feeds, review and
// administration go to a worker thread (RequestHandler::RunsInline). A missed deadline
// closes the connection; a too-large or malformed frame is answered with an Error whose id
// is 0 and then closes it.
//
// Drain (SIGTERM, SIGINT or Drain()): the listener closes, idle connections close, a
// request already read finishes and its response is written, a request read after the
// drain began is answered Unavailable; Run returns when no connection is left or the
// drain timeout has passed.
//
// Thread safety: Drain may be called from any thread, also while Run runs; Run is called
// once. port() is safe after Start.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "server/config.h"
#include "server/handler.h"

namespace cp::server {

class Server {
 public:
  // Binds the listening socket (and loads the TLS certificate) so that failures show
  // before Run. InvalidArgument or IOError with a message naming the file or address.
  // `handler` must outlive the server.
  static Result<std::unique_ptr<Server>> Start(const ServerConfig& config, RequestHandler* handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound port (the ephemeral one when the config asked for 0).
  uint16_t port() const;
  // Serves until drained. With `handle_signals`, SIGTERM and SIGINT start the drain.
  // Returns OK after a clean drain, or a status saying the drain timed out.
  Status Run(bool handle_signals);
  void Drain();
  // Applies a reloaded config's connection limit, frame limit and timeouts (SIGHUP). Open
  // connections stay open; each limit applies from its next use (a deadline already set
  // runs out as set). Other keys of `config` are ignored (KeysNeedingRestart).
  void ApplyLimits(const ServerConfig& config);

  uint32_t connections() const;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cp::server
