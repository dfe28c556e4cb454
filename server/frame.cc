#include "server/frame.h"

#include <cstring>

namespace cp::server {

using protocol::Body;
using protocol::ErrorCode;

namespace {
// A request holds a few dozen tables at most; a response 50 children of ~20 tables each.
constexpr flatbuffers::uoffset_t kMaxDepth = 16;
constexpr flatbuffers::uoffset_t kMaxTables = 20000;
}  // namespace

uint32_t DecodeFrameLength(std::span<const uint8_t, kFrameHeaderBytes> h) {
  return uint32_t{h[0]} | uint32_t{h[1]} << 8 | uint32_t{h[2]} << 16 | uint32_t{h[3]} << 24;
}

FrameLength CheckFrameLength(uint32_t length, uint32_t max_body) {
  if (length == 0) return FrameLength::kEmpty;
  if (length > max_body) return FrameLength::kTooLarge;
  return FrameLength::kOk;
}

const protocol::Envelope* VerifyEnvelope(std::span<const uint8_t> body) {
  // The identifier check is part of VerifyEnvelopeBuffer, but a buffer too short to hold
  // the root offset and the identifier is refused before the verifier looks at it.
  if (body.size() < sizeof(flatbuffers::uoffset_t) + flatbuffers::kFileIdentifierLength) {
    return nullptr;
  }
  flatbuffers::Verifier verifier(body.data(), body.size(), kMaxDepth, kMaxTables);
  if (!protocol::VerifyEnvelopeBuffer(verifier)) return nullptr;
  return protocol::GetEnvelope(body.data());
}

std::string FinishFrame(flatbuffers::FlatBufferBuilder& fbb, uint64_t id, Body type,
                        flatbuffers::Offset<void> body, std::string_view session) {
  flatbuffers::Offset<flatbuffers::String> token;
  if (!session.empty()) token = fbb.CreateString(session.data(), session.size());
  protocol::EnvelopeBuilder env(fbb);
  env.add_id(id);
  if (!session.empty()) env.add_session(token);
  env.add_body_type(type);
  env.add_body(body);
  fbb.Finish(env.Finish(), protocol::EnvelopeIdentifier());
  const uint32_t n = fbb.GetSize();
  std::string frame(kFrameHeaderBytes + n, '\0');
  for (size_t i = 0; i < kFrameHeaderBytes; ++i)
    frame[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  std::memcpy(frame.data() + kFrameHeaderBytes, fbb.GetBufferPointer(), n);
  return frame;
}

std::string ErrorFrame(uint64_t id, ErrorCode code, std::string_view message,
                       uint32_t retry_after_ms) {
  flatbuffers::FlatBufferBuilder fbb(256);
  auto msg = fbb.CreateString(message.data(), message.size());
  auto err = protocol::CreateError(fbb, code, msg, retry_after_ms);
  return FinishFrame(fbb, id, Body::Error, err.Union());
}

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::None:
      return "none";
    case ErrorCode::InvalidCriteria:
      return "invalid_criteria";
    case ErrorCode::TooManyMatches:
      return "too_many_matches";
    case ErrorCode::NotAuthenticated:
      return "not_authenticated";
    case ErrorCode::NotAuthorised:
      return "not_authorised";
    case ErrorCode::UnregisteredAddress:
      return "unregistered_address";
    case ErrorCode::BadCredentials:
      return "bad_credentials";
    case ErrorCode::Locked:
      return "locked";
    case ErrorCode::BadCode:
      return "bad_code";
    case ErrorCode::MissingReason:
      return "missing_reason";
    case ErrorCode::RateLimited:
      return "rate_limited";
    case ErrorCode::QuotaExceeded:
      return "quota_exceeded";
    case ErrorCode::FrameTooLarge:
      return "frame_too_large";
    case ErrorCode::MalformedFrame:
      return "malformed_frame";
    case ErrorCode::Internal:
      return "internal";
    case ErrorCode::Unavailable:
      return "unavailable";
    case ErrorCode::NotImplemented:
      return "not_implemented";
    case ErrorCode::UnknownMessage:
      return "unknown_message";
    case ErrorCode::NotFound:
      return "not_found";
    case ErrorCode::UnsupportedVersion:
      return "unsupported_version";
    case ErrorCode::InvalidRequest:
      return "invalid_request";
    case ErrorCode::AlreadyExists:
      return "already_exists";
    case ErrorCode::BatchOutOfSequence:
      return "batch_out_of_sequence";
    case ErrorCode::SourcePaused:
      return "source_paused";
    case ErrorCode::ShieldConflict:
      return "shield_conflict";
  }
  return "unknown_error";
}

bool IsRequest(Body type) {
  switch (type) {
    case Body::Hello:
    case Body::Login:
    case Body::SecondFactor:
    case Body::Search:
    case Body::GetRecord:
    case Body::Shield:
    case Body::Unshield:
    case Body::BreakGlass:
    case Body::FeedBatch:
    case Body::ReviewList:
    case Body::ReviewResolve:
    case Body::CreateOrganisation:
    case Body::AddAddressRange:
    case Body::CreateUser:
    case Body::SetUserRole:
    case Body::UnlockUser:
    case Body::LockUser:
    case Body::Logout:
    case Body::Health:
      return true;
    default:
      return false;
  }
}

}  // namespace cp::server
