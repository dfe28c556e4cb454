// A blocking C++ client for contactpointd (the protocol is in docs/protocol.md).
//
// One Client is one connection: TLS 1.3 with the server's certificate verified against a
// CA file (or the system's trust store) and its name checked, or plain TCP to a loopback
// server that allows it. Each call sends one request and waits for its response, within
// the timeout; a transport failure (refused, closed, timed out, unverifiable frame) is an
// IOError and leaves the client unusable. A refusal by the server is not a transport
// failure: the call succeeds and the Response holds an Error.
//
// Thread safety: not thread safe; one client per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/frame.h"
#include "util/status.h"

namespace cp::server {

struct ClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 7443;
  bool plain = false;      // plain TCP (the server must allow it, on loopback only)
  std::string ca_file;     // PEM; empty: the system's trust store
  int timeout_ms = 30000;  // per call: connect, send and receive
};

// A verified response envelope and the bytes it lives in.
class Response {
 public:
  explicit Response(std::vector<uint8_t> bytes);
  const protocol::Envelope& envelope() const { return *env_; }
  // The Error, when the server refused the request; nullptr otherwise.
  const protocol::Error* error() const { return env_->body_as_Error(); }

 private:
  std::vector<uint8_t> bytes_;
  const protocol::Envelope* env_;
};

// Search criteria as text, as the CLI takes them; empty means "not a criterion".
struct SearchRequest {
  std::string given_name, family_name, date_of_birth, dob_from, dob_to, gender, postcode,
      nhs_number, pupil_number;
  uint16_t limit = 0;  // 0: the role's cap
};

// The whole frames (header included) that Client::Search and Client::GetRecord send, for
// clients that do their own I/O (the asynchronous load client).
std::string SearchFrame(uint64_t id, std::string_view session, const SearchRequest& criteria,
                        const std::string& reason);
std::string GetRecordFrame(uint64_t id, std::string_view session, uint64_t child_id,
                           const std::string& reason);

class Client {
 public:
  static Result<std::unique_ptr<Client>> Connect(const ClientOptions& options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends `body` of `type` (built in `fbb`, which is consumed) with the next request id
  // and the current session token; returns the verified response with the same id.
  Result<Response> Call(flatbuffers::FlatBufferBuilder& fbb, protocol::Body type,
                        flatbuffers::Offset<void> body);
  // Sends raw bytes as they are and reads one frame back (tests of malformed input).
  Status SendRaw(const std::string& bytes);
  Result<Response> ReadResponse();

  // Convenience calls; each is Call with one message.
  Result<Response> Hello();
  Result<Response> Login(const std::string& user, const std::string& password);
  Result<Response> SecondFactor(const std::string& ticket, const std::string& code);
  // Login then SecondFactor; on success the session token is kept for later calls. A
  // refusal comes back as the refusing Response.
  Result<Response> LogIn(const std::string& user, const std::string& password,
                         const std::string& code);
  Result<Response> Search(const SearchRequest& criteria, const std::string& reason);
  Result<Response> GetRecord(uint64_t child_id, const std::string& reason);
  Result<Response> SetShield(uint64_t child_id, bool shield, const std::string& reason);
  Result<Response> BreakGlass(const std::string& reason);
  // Batch `batch` of `source`, the CSV as it is in the file. The whole request must fit in
  // the server's max_request_bytes (HelloResult): split a bigger file into batches.
  Result<Response> FeedBatch(const std::string& source, uint64_t batch, std::string_view csv);
  // Up to `max` waiting items (0: the server's default).
  Result<Response> ReviewList(uint32_t max);
  // Links the item to `child_id`, or makes it a new child when `child_id` is 0.
  Result<Response> ReviewResolve(uint64_t review_id, uint64_t child_id, const std::string& reason);
  Result<Response> CreateOrganisation(const std::string& id, const std::string& display_name,
                                      const std::vector<std::string>& ranges);
  Result<Response> AddAddressRange(const std::string& organisation, const std::string& cidr);
  Result<Response> CreateUser(const std::string& user, const std::string& organisation,
                              const std::string& role, const std::string& password);
  Result<Response> SetUserRole(const std::string& user, const std::string& role);
  Result<Response> UnlockUser(const std::string& user);
  Result<Response> LockUser(const std::string& user);
  Result<Response> Logout();
  Result<Response> Health();

  void set_session(std::string token) { session_ = std::move(token); }
  const std::string& session() const { return session_; }

  struct Impl;

 private:
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::string session_;
  uint64_t next_id_ = 1;
};

}  // namespace cp::server
