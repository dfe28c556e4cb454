// Framing and verification of the wire protocol (server/protocol.fbs, docs/protocol.md).
//
// A frame is a 4-byte little-endian length N, then N bytes holding one FlatBuffer whose
// root is a protocol::Envelope with file identifier "CPD1". These are pure functions over
// bytes: the server, the client, the tests and the fuzz target share them, and none of
// them touches a socket.
//
// Thread safety: every function here is safe to call from many threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "server/protocol_generated.h"

namespace cp::server {

inline constexpr size_t kFrameHeaderBytes = 4;
inline constexpr uint16_t kProtocolVersion = 1;
// Default largest request body a server reads; a Search frame is a few hundred bytes.
inline constexpr uint32_t kDefaultMaxRequestBytes = 64 * 1024;
// Largest response body a client accepts: 50 full records fit many times over.
inline constexpr uint32_t kMaxResponseBytes = 16 * 1024 * 1024;

enum class FrameLength {
  kOk,
  kEmpty,     // a zero length: no FlatBuffer can be that short
  kTooLarge,  // above the maximum: refused before any byte of the body is read
};

// The body length announced by a frame header.
uint32_t DecodeFrameLength(std::span<const uint8_t, kFrameHeaderBytes> header);
// Whether a body of `length` bytes may be read under `max_body`.
FrameLength CheckFrameLength(uint32_t length, uint32_t max_body);

// The envelope in `body` after the FlatBuffers verifier has accepted it (bounds, offsets,
// nesting depth, table count, file identifier); nullptr when it does not. The pointer
// refers into `body` and is valid as long as `body` is. `body` must be aligned to 8 bytes
// for the verifier's alignment checks to pass on well-formed input (std::string and
// std::vector<uint8_t> storage are).
const protocol::Envelope* VerifyEnvelope(std::span<const uint8_t> body);

// Finishes `fbb` with an Envelope {id, session, body} and returns the whole frame,
// header included. `fbb` is consumed.
std::string FinishFrame(flatbuffers::FlatBufferBuilder& fbb, uint64_t id, protocol::Body type,
                        flatbuffers::Offset<void> body, std::string_view session = {});

// A frame holding only an Error.
std::string ErrorFrame(uint64_t id, protocol::ErrorCode code, std::string_view message,
                       uint32_t retry_after_ms = 0);

// "invalid_criteria", "too_many_matches", ... : the stable snake_case name of a code, as
// the CLI prints it.
const char* ErrorCodeName(protocol::ErrorCode code);

// Whether a body type is a request a client may send (as opposed to a result or Error).
bool IsRequest(protocol::Body type);

}  // namespace cp::server
