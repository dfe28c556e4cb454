#include "server/client.h"

#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>

namespace cp::server {

namespace asio = boost::asio;
namespace fb = protocol;
using asio::ip::tcp;
using boost::system::error_code;

Response::Response(std::vector<uint8_t> bytes)
    : bytes_(std::move(bytes)), env_(fb::GetEnvelope(bytes_.data())) {}

struct Client::Impl {
  asio::io_context io;
  asio::ssl::context tls{asio::ssl::context::tls_client};
  std::unique_ptr<asio::ssl::stream<tcp::socket>> stream;
  ClientOptions options;
  bool broken = false;

  // Runs one asynchronous operation to completion or the timeout; on timeout the
  // connection is closed and the client is broken.
  template <typename Start>
  error_code Run(Start start) {
    error_code result = asio::error::would_block;
    start([&result](const error_code& ec, auto&&...) { result = ec; });
    io.restart();
    io.run_for(std::chrono::milliseconds(options.timeout_ms));
    if (result == asio::error::would_block) {
      error_code ignored;
      stream->lowest_layer().close(ignored);
      io.restart();
      io.run();
      result = asio::error::timed_out;
    }
    if (result) broken = true;
    return result;
  }
  template <typename Buffers>
  error_code Write(const Buffers& b) {
    return Run([&](auto done) {
      if (options.plain)
        asio::async_write(stream->next_layer(), b, done);
      else
        asio::async_write(*stream, b, done);
    });
  }
  template <typename Buffers>
  error_code Read(const Buffers& b) {
    return Run([&](auto done) {
      if (options.plain)
        asio::async_read(stream->next_layer(), b, done);
      else
        asio::async_read(*stream, b, done);
    });
  }
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Connect(const ClientOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  const std::string where = options.host + ":" + std::to_string(options.port);
  try {
    if (!options.plain) {
      SSL_CTX_set_min_proto_version(impl->tls.native_handle(), TLS1_3_VERSION);
      impl->tls.set_verify_mode(asio::ssl::verify_peer);
      if (options.ca_file.empty())
        impl->tls.set_default_verify_paths();
      else
        impl->tls.load_verify_file(options.ca_file);
    }
  } catch (const boost::system::system_error& e) {
    return Status::InvalidArgument("CA file " + options.ca_file + ": " + e.code().message());
  }
  impl->stream = std::make_unique<asio::ssl::stream<tcp::socket>>(impl->io, impl->tls);
  tcp::resolver resolver(impl->io);
  error_code ec;
  auto endpoints = resolver.resolve(options.host, std::to_string(options.port), ec);
  if (ec) return Status::IOError("cannot resolve " + where + ": " + ec.message());
  ec = impl->Run(
      [&](auto done) { asio::async_connect(impl->stream->lowest_layer(), endpoints, done); });
  if (ec) return Status::IOError("cannot connect to " + where + ": " + ec.message());
  error_code ignored;
  impl->stream->lowest_layer().set_option(tcp::no_delay(true), ignored);
  if (!options.plain) {
    impl->stream->set_verify_callback(asio::ssl::host_name_verification(options.host));
    SSL_set_tlsext_host_name(impl->stream->native_handle(), options.host.c_str());
    ec = impl->Run(
        [&](auto done) { impl->stream->async_handshake(asio::ssl::stream_base::client, done); });
    if (ec) return Status::IOError("TLS handshake with " + where + " failed: " + ec.message());
  }
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Status Client::SendRaw(const std::string& bytes) {
  if (impl_->broken) return Status::IOError("the connection is closed");
  error_code ec = impl_->Write(asio::buffer(bytes));
  if (ec) return Status::IOError("sending to the server failed: " + ec.message());
  return Status::OK();
}

Result<Response> Client::ReadResponse() {
  if (impl_->broken) return Status::IOError("the connection is closed");
  uint8_t header[kFrameHeaderBytes];
  error_code ec = impl_->Read(asio::buffer(header));
  if (ec) return Status::IOError("reading from the server failed: " + ec.message());
  const uint32_t length = DecodeFrameLength(std::span<const uint8_t, kFrameHeaderBytes>(header));
  if (CheckFrameLength(length, kMaxResponseBytes) != FrameLength::kOk) {
    impl_->broken = true;
    return Status::IOError("the server sent a frame of " + std::to_string(length) + " bytes");
  }
  std::vector<uint8_t> body(length);
  ec = impl_->Read(asio::buffer(body));
  if (ec) return Status::IOError("reading from the server failed: " + ec.message());
  if (VerifyEnvelope(body) == nullptr) {
    impl_->broken = true;
    return Status::IOError("the server's response did not verify");
  }
  return Response(std::move(body));
}

Result<Response> Client::Call(flatbuffers::FlatBufferBuilder& fbb, fb::Body type,
                              flatbuffers::Offset<void> body) {
  const uint64_t id = next_id_++;
  Status s = SendRaw(FinishFrame(fbb, id, type, body, session_));
  if (!s.ok()) return s;
  auto r = ReadResponse();
  if (r.ok() && r->envelope().id() != id && r->envelope().id() != 0) {
    impl_->broken = true;
    return Status::IOError("the server answered request " + std::to_string(r->envelope().id()) +
                           ", expected " + std::to_string(id));
  }
  return r;
}

Result<Response> Client::Hello() {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<uint16_t> versions{kProtocolVersion};
  auto body = fb::CreateHelloDirect(fbb, &versions, "contactpoint-client 0.1");
  return Call(fbb, fb::Body::Hello, body.Union());
}

Result<Response> Client::Login(const std::string& user, const std::string& password) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = fb::CreateLoginDirect(fbb, user.c_str(), password.c_str());
  return Call(fbb, fb::Body::Login, body.Union());
}

Result<Response> Client::SecondFactor(const std::string& ticket, const std::string& code) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = fb::CreateSecondFactorDirect(fbb, ticket.c_str(), code.c_str());
  return Call(fbb, fb::Body::SecondFactor, body.Union());
}

Result<Response> Client::LogIn(const std::string& user, const std::string& password,
                               const std::string& code) {
  auto challenge = Login(user, password);
  if (!challenge.ok() || challenge->error()) return challenge;
  const auto* c = challenge->envelope().body_as_LoginChallenge();
  if (c == nullptr || c->ticket() == nullptr)
    return Status::IOError("the server sent no login ticket");
  auto session = SecondFactor(c->ticket()->str(), code);
  if (!session.ok() || session->error()) return session;
  const auto* s = session->envelope().body_as_SessionResult();
  if (s == nullptr || s->token() == nullptr) return Status::IOError("the server sent no session");
  session_ = s->token()->str();
  return session;
}

namespace {

flatbuffers::Offset<void> SearchBody(flatbuffers::FlatBufferBuilder& fbb, const SearchRequest& q,
                                     const std::string& reason) {
  auto criteria = fb::CreateCriteriaDirect(fbb, q.given_name.c_str(), q.family_name.c_str(),
                                           q.date_of_birth.c_str(), q.dob_from.c_str(),
                                           q.dob_to.c_str(), q.gender.c_str(), q.postcode.c_str(),
                                           q.nhs_number.c_str(), q.pupil_number.c_str(), q.limit);
  return fb::CreateSearchDirect(fbb, criteria, reason.c_str()).Union();
}

flatbuffers::Offset<void> GetRecordBody(flatbuffers::FlatBufferBuilder& fbb, uint64_t child_id,
                                        const std::string& reason) {
  return fb::CreateGetRecordDirect(fbb, child_id, reason.c_str()).Union();
}

}  // namespace

std::string SearchFrame(uint64_t id, std::string_view session, const SearchRequest& criteria,
                        const std::string& reason) {
  flatbuffers::FlatBufferBuilder fbb(512);
  auto body = SearchBody(fbb, criteria, reason);
  return FinishFrame(fbb, id, fb::Body::Search, body, session);
}

std::string GetRecordFrame(uint64_t id, std::string_view session, uint64_t child_id,
                           const std::string& reason) {
  flatbuffers::FlatBufferBuilder fbb(256);
  auto body = GetRecordBody(fbb, child_id, reason);
  return FinishFrame(fbb, id, fb::Body::GetRecord, body, session);
}

Result<Response> Client::Search(const SearchRequest& q, const std::string& reason) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = SearchBody(fbb, q, reason);
  return Call(fbb, fb::Body::Search, body);
}

Result<Response> Client::GetRecord(uint64_t child_id, const std::string& reason) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = GetRecordBody(fbb, child_id, reason);
  return Call(fbb, fb::Body::GetRecord, body);
}

Result<Response> Client::SetShield(uint64_t child_id, bool shield, const std::string& reason) {
  flatbuffers::FlatBufferBuilder fbb;
  if (shield) {
    auto body = fb::CreateShieldDirect(fbb, child_id, reason.c_str());
    return Call(fbb, fb::Body::Shield, body.Union());
  }
  auto body = fb::CreateUnshieldDirect(fbb, child_id, reason.c_str());
  return Call(fbb, fb::Body::Unshield, body.Union());
}

Result<Response> Client::BreakGlass(const std::string& reason) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = fb::CreateBreakGlassDirect(fbb, reason.c_str());
  return Call(fbb, fb::Body::BreakGlass, body.Union());
}

Result<Response> Client::FeedBatch(const std::string& source, uint64_t batch,
                                   std::string_view csv) {
  flatbuffers::FlatBufferBuilder fbb(csv.size() + 256);
  auto bytes = fbb.CreateVector(reinterpret_cast<const uint8_t*>(csv.data()), csv.size());
  auto body = fb::CreateFeedBatch(fbb, fbb.CreateString(source), batch, bytes);
  return Call(fbb, fb::Body::FeedBatch, body.Union());
}

Result<Response> Client::ReviewList(uint32_t max) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = fb::CreateReviewList(fbb, max);
  return Call(fbb, fb::Body::ReviewList, body.Union());
}

Result<Response> Client::ReviewResolve(uint64_t review_id, uint64_t child_id,
                                       const std::string& reason) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = fb::CreateReviewResolveDirect(fbb, review_id, child_id, reason.c_str());
  return Call(fbb, fb::Body::ReviewResolve, body.Union());
}

Result<Response> Client::CreateOrganisation(const std::string& id, const std::string& display_name,
                                            const std::vector<std::string>& ranges) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<flatbuffers::String>> r;
  for (const auto& range : ranges) r.push_back(fbb.CreateString(range));
  auto body = fb::CreateCreateOrganisationDirect(fbb, id.c_str(), &r, display_name.c_str());
  return Call(fbb, fb::Body::CreateOrganisation, body.Union());
}

Result<Response> Client::AddAddressRange(const std::string& organisation, const std::string& cidr) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = fb::CreateAddAddressRangeDirect(fbb, organisation.c_str(), cidr.c_str());
  return Call(fbb, fb::Body::AddAddressRange, body.Union());
}

Result<Response> Client::CreateUser(const std::string& user, const std::string& organisation,
                                    const std::string& role, const std::string& password) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = fb::CreateCreateUserDirect(fbb, user.c_str(), organisation.c_str(), role.c_str(),
                                         password.c_str());
  return Call(fbb, fb::Body::CreateUser, body.Union());
}

Result<Response> Client::SetUserRole(const std::string& user, const std::string& role) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = fb::CreateSetUserRoleDirect(fbb, user.c_str(), role.c_str());
  return Call(fbb, fb::Body::SetUserRole, body.Union());
}

Result<Response> Client::UnlockUser(const std::string& user) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = fb::CreateUnlockUserDirect(fbb, user.c_str());
  return Call(fbb, fb::Body::UnlockUser, body.Union());
}

Result<Response> Client::LockUser(const std::string& user) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = fb::CreateLockUserDirect(fbb, user.c_str());
  return Call(fbb, fb::Body::LockUser, body.Union());
}

Result<Response> Client::Logout() {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = fb::CreateLogout(fbb);
  auto r = Call(fbb, fb::Body::Logout, body.Union());
  session_.clear();
  return r;
}

Result<Response> Client::Health() {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = fb::CreateHealth(fbb);
  return Call(fbb, fb::Body::Health, body.Union());
}

}  // namespace cp::server
