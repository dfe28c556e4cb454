#include "util/totp.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>

namespace cp {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int Base32Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

}  // namespace

std::string Base32Encode(std::string_view bytes, bool pad) {
  std::string out;
  out.reserve((bytes.size() + 4) / 5 * 8);
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  if (pad) {
    while (out.size() % 8 != 0) out.push_back('=');
  }
  return out;
}

Result<std::string> Base32Decode(std::string_view text) {
  size_t end = text.size();
  while (end > 0 && text[end - 1] == '=') --end;
  size_t padding = text.size() - end;
  if (padding > 0 && text.size() % 8 != 0) {
    return Status::InvalidArgument("base32 text has incomplete padding");
  }
  // Characters in the last group: 2, 4, 5 or 7 come from 1..4 whole bytes; 1, 3, 6 cannot.
  size_t tail = end % 8;
  if (tail == 1 || tail == 3 || tail == 6) {
    return Status::InvalidArgument("base32 text has a length that no byte string encodes to");
  }
  if (padding > 0 && (tail == 0 || 8 - tail != padding)) {
    return Status::InvalidArgument("base32 text has the wrong amount of padding");
  }
  std::string out;
  out.reserve(end * 5 / 8);
  uint32_t buffer = 0;
  int bits = 0;
  for (size_t i = 0; i < end; ++i) {
    int v = Base32Value(text[i]);
    if (v < 0) return Status::InvalidArgument("base32 text holds a character outside A-Z, 2-7");
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<char>((buffer >> (bits - 8)) & 0xff));
      bits -= 8;
    }
  }
  // Leftover bits must be zero: otherwise two texts would decode to the same bytes.
  if ((buffer & ((1u << bits) - 1)) != 0) {
    return Status::InvalidArgument("base32 text has non-zero bits after its last byte");
  }
  return out;
}

uint32_t HotpValue(std::string_view key, uint64_t counter, int digits) {
  unsigned char msg[8];
  for (int i = 7; i >= 0; --i) {
    msg[i] = static_cast<unsigned char>(counter);
    counter >>= 8;
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), msg, sizeof(msg), mac, &mac_len) ==
          nullptr ||
      mac_len != 20) {
    // Only a broken OpenSSL fails here; a wrong code would lock users out silently.
    std::fprintf(stderr, "contactpoint: fatal: HMAC-SHA1 failed\n");
    std::abort();
  }
  int offset = mac[19] & 0x0f;
  uint32_t binary = (static_cast<uint32_t>(mac[offset] & 0x7f) << 24) |
                    (static_cast<uint32_t>(mac[offset + 1]) << 16) |
                    (static_cast<uint32_t>(mac[offset + 2]) << 8) | mac[offset + 3];
  uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  return binary % modulus;
}

std::string TotpCodeAt(std::string_view key, uint64_t step, int digits) {
  std::string code = std::to_string(HotpValue(key, step, digits));
  if (code.size() < static_cast<size_t>(digits)) code.insert(0, digits - code.size(), '0');
  return code;
}

std::string TotpProvisioningUri(std::string_view user, std::string_view secret_base32) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string label;
  for (unsigned char c : user) {
    if (std::isalnum(c) || c == '.' || c == '_' || c == '-') {
      label.push_back(static_cast<char>(c));
    } else {
      label += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return "otpauth://totp/ContactPoint:" + label + "?secret=" + std::string(secret_base32) +
         "&issuer=ContactPoint&algorithm=SHA1&digits=6&period=30";
}

}  // namespace cp
