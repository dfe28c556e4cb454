// One request frame's bytes judged as contactpointd judges them (server/server.cc reads a
// header, refuses a bad length, reads the body, verifies it, and hands a verified request
// to the handler), as a pure function: the frame fuzz target (server/fuzz/frame_fuzzer.cc,
// clang + libFuzzer) and its bounded replay in CI (tests/server/frame_fuzz_test.cc, GCC,
// also under ASan/UBSan) share it as their entry point.
//
// After a verdict of kRequest or kNotARequest every field a request handler may read has
// been read once (the verified envelope's strings, vectors and nested tables), so that a
// sanitizer sees any read the verifier should have refused.
//
// Thread safety: a pure function; safe from many threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "server/frame.h"

namespace cp::server {

enum class FrameVerdict {
  kShortHeader,   // fewer than 4 bytes: the server waits for more, then the idle timeout
  kEmpty,         // a zero length: answered MalformedFrame, connection closed
  kTooLarge,      // a length above the maximum: FrameTooLarge before any body byte is read
  kTruncated,     // fewer body bytes than the length: the server waits, then the read timeout
  kUnverifiable,  // the verifier refused the body: answered MalformedFrame, connection closed
  kNotARequest,   // verified, but no request body (none, a result, an Error): UnknownMessage
  kRequest,       // a verified request: the handler answers it
};

struct FrameCheck {
  FrameVerdict verdict = FrameVerdict::kShortHeader;
  // The error the server answers with; None when the handler decides (kRequest) or no
  // answer is sent before the connection times out (kShortHeader, kTruncated).
  protocol::ErrorCode error = protocol::ErrorCode::None;
  size_t body_bytes = 0;  // the length the header announced
  size_t touched = 0;     // a sum over the fields read, so that the reads stay in the code
};

// Judges the frame at the start of `bytes` (header and body; bytes after the body belong
// to the next frame and are ignored) under a largest body of `max_body`.
FrameCheck CheckRequestFrame(std::span<const uint8_t> bytes, uint32_t max_body);

const char* FrameVerdictName(FrameVerdict verdict);

}  // namespace cp::server
