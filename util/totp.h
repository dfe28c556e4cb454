// One-time passwords for the second login factor: RFC 4648 base32 (how authenticator apps
// take a secret) and RFC 6238 TOTP over RFC 4226 HOTP with HMAC-SHA1, 6 digits, 30-second
// steps — the parameters every common authenticator app uses by default.
//
// Thread safety: every function is pure and may be called from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace cp {

inline constexpr int kTotpDigits = 6;
inline constexpr int64_t kTotpStepSeconds = 30;

// RFC 4648 section 6 base32, upper case. With `pad`, '=' fills the last group to 8
// characters as the RFC's test vectors show; authenticator URIs (otpauth://) take it
// without padding.
std::string Base32Encode(std::string_view bytes, bool pad = true);
// Accepts upper or lower case, with or without the padding '=' (but padding, if present,
// must be complete and last). Spaces, other characters, a trailing group that cannot
// come from whole bytes, or non-zero bits after the last byte are InvalidArgument. The message
// never echoes the input: it may be a secret.
Result<std::string> Base32Decode(std::string_view text);

// RFC 4226 HOTP: HMAC-SHA1(key, counter as 8 big-endian bytes), dynamic truncation,
// modulo 10^digits. `digits` is 6..8.
uint32_t HotpValue(std::string_view key, uint64_t counter, int digits = kTotpDigits);

// The RFC 6238 time step of a Unix time: floor(unix_seconds / 30). Negative times are
// step 0's predecessors and have no valid code; callers pass real clocks.
inline uint64_t TotpStep(int64_t unix_seconds) {
  return unix_seconds < 0 ? 0 : static_cast<uint64_t>(unix_seconds / kTotpStepSeconds);
}

// The code for one step, zero-padded to `digits` characters ("000123").
std::string TotpCodeAt(std::string_view key, uint64_t step, int digits = kTotpDigits);

// The otpauth:// URI an authenticator app reads (as a QR code) for `user` and a base32
// secret: issuer ContactPoint, SHA-1, 6 digits, 30-second steps. It holds the secret:
// show it once, never log it.
std::string TotpProvisioningUri(std::string_view user, std::string_view secret_base32);

}  // namespace cp
