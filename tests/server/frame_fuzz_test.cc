// The frame fuzz target's entry point (server/frame_check.h) replayed with GCC in CI, also
// under ASan/UBSan: every seed in server/fuzz_corpus, then 20,000 inputs made from them by a
// seeded PRNG (bit flips, truncations, corrupted length fields, random bytes, bodies that
// carry the file identifier). Each must be judged without a crash and, when malformed,
// with the verdict its bytes call for and the typed error the server answers with.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "server/frame_check.h"

namespace cp::server {
namespace {

using Bytes = std::vector<uint8_t>;
constexpr uint32_t kMax = kDefaultMaxRequestBytes;

std::vector<std::pair<std::string, Bytes>> Corpus() {
  std::vector<std::pair<std::string, Bytes>> out;
  const std::filesystem::path dir =
      std::filesystem::path(CP_TEST_DATA_DIR) / "../../server/fuzz_corpus";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    out.emplace_back(entry.path().filename().string(),
                     Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
  }
  std::sort(out.begin(), out.end());  // directory order is not stable; the PRNG's use is
  return out;
}

void SetLength(Bytes* frame, uint32_t n) {
  for (size_t i = 0; i < kFrameHeaderBytes; ++i) (*frame)[i] = static_cast<uint8_t>(n >> (8 * i));
}

// What the length field alone decides, before the verifier looks at the body.
FrameVerdict FromLength(size_t size, uint32_t length) {
  if (size < kFrameHeaderBytes) return FrameVerdict::kShortHeader;
  if (length == 0) return FrameVerdict::kEmpty;
  if (length > kMax) return FrameVerdict::kTooLarge;
  if (size - kFrameHeaderBytes < length) return FrameVerdict::kTruncated;
  return FrameVerdict::kUnverifiable;  // or verified: the body decides
}

uint32_t LengthOf(const Bytes& frame) {
  if (frame.size() < kFrameHeaderBytes) return 0;
  return DecodeFrameLength(
      std::span<const uint8_t, kFrameHeaderBytes>(frame.data(), kFrameHeaderBytes));
}

// The check's verdict agrees with its bytes, and its error is the typed error the server
// sends: an Error frame that itself verifies and carries the same code.
void ExpectTyped(const Bytes& frame, const FrameCheck& check, const std::string& what) {
  SCOPED_TRACE(what + ": " + FrameVerdictName(check.verdict));
  const FrameVerdict by_length = FromLength(frame.size(), LengthOf(frame));
  if (by_length == FrameVerdict::kUnverifiable) {
    EXPECT_TRUE(check.verdict == FrameVerdict::kUnverifiable ||
                check.verdict == FrameVerdict::kNotARequest ||
                check.verdict == FrameVerdict::kRequest);
  } else {
    EXPECT_EQ(check.verdict, by_length);
  }
  using protocol::ErrorCode;
  static const std::map<FrameVerdict, ErrorCode> kError = {
      {FrameVerdict::kShortHeader, ErrorCode::None},
      {FrameVerdict::kEmpty, ErrorCode::MalformedFrame},
      {FrameVerdict::kTooLarge, ErrorCode::FrameTooLarge},
      {FrameVerdict::kTruncated, ErrorCode::None},
      {FrameVerdict::kUnverifiable, ErrorCode::MalformedFrame},
      {FrameVerdict::kNotARequest, ErrorCode::UnknownMessage},
      {FrameVerdict::kRequest, ErrorCode::None}};
  EXPECT_EQ(check.error, kError.at(check.verdict));
  if (check.error != ErrorCode::None) {
    const std::string reply = ErrorFrame(0, check.error, FrameVerdictName(check.verdict));
    const Bytes body(reply.begin() + kFrameHeaderBytes, reply.end());
    const protocol::Envelope* env = VerifyEnvelope(body);
    ASSERT_NE(env, nullptr);
    ASSERT_NE(env->body_as_Error(), nullptr);
    EXPECT_EQ(env->body_as_Error()->code(), check.error);
  }
}

TEST(FrameFuzzTest, EverySeedIsAVerifiedEnvelope) {
  const auto corpus = Corpus();
  ASSERT_GE(corpus.size(), 10u);
  for (const auto& [name, frame] : corpus) {
    const FrameCheck check = CheckRequestFrame(frame, kMax);
    ExpectTyped(frame, check, name);
    // The "error" seed is a response a client sent back: verified, but no request.
    EXPECT_EQ(check.verdict, name == "error" ? FrameVerdict::kNotARequest : FrameVerdict::kRequest)
        << name;
  }
}

TEST(FrameFuzzTest, SeededMutationsYieldTypedErrors) {
  const auto corpus = Corpus();
  ASSERT_FALSE(corpus.empty());
  std::mt19937_64 rng(20261128);
  auto below = [&rng](size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng() % n); };
  enum Kind { kBitFlips, kTruncation, kLengthField, kRandomBytes, kIdentifiedJunk, kKinds };
  const std::array<const char*, kKinds> kNames = {"bit flips", "truncation", "length field",
                                                  "random bytes", "identified junk"};
  std::array<std::map<FrameVerdict, int>, kKinds> seen;
  constexpr int kInputs = 20000;
  for (int i = 0; i < kInputs; ++i) {
    const Kind kind = static_cast<Kind>(i % kKinds);
    Bytes frame = corpus[below(corpus.size())].second;
    switch (kind) {
      case kBitFlips: {  // in the body only: the length field has a kind of its own
        const size_t flips = 1 + below(8);
        for (size_t f = 0; f < flips; ++f) {
          const size_t at = kFrameHeaderBytes + below(frame.size() - kFrameHeaderBytes);
          frame[at] ^= static_cast<uint8_t>(1u << below(8));
        }
        break;
      }
      case kTruncation:
        frame.resize(below(frame.size()));
        break;
      case kLengthField: {
        const uint32_t body = static_cast<uint32_t>(frame.size() - kFrameHeaderBytes);
        const uint32_t choices[] = {0,
                                    body - 1 - static_cast<uint32_t>(below(body - 1)),
                                    body + 1 + static_cast<uint32_t>(below(64)),
                                    kMax + 1,
                                    static_cast<uint32_t>(rng()),
                                    0xffffffffu};
        SetLength(&frame, choices[below(std::size(choices))]);
        break;
      }
      case kRandomBytes: {
        frame.resize(below(300));
        for (auto& b : frame) b = static_cast<uint8_t>(rng());
        if (frame.size() > kFrameHeaderBytes && below(2) == 0) {
          SetLength(&frame, static_cast<uint32_t>(frame.size() - kFrameHeaderBytes));
        }
        break;
      }
      case kIdentifiedJunk: {  // past the identifier check, into the verifier proper
        const size_t body = 8 + below(200);
        frame.assign(kFrameHeaderBytes + body, 0);
        for (size_t b = kFrameHeaderBytes; b < frame.size(); ++b)
          frame[b] = static_cast<uint8_t>(rng());
        SetLength(&frame, static_cast<uint32_t>(body));
        const uint32_t root = static_cast<uint32_t>(below(body));  // the root table's offset
        for (size_t k = 0; k < 4; ++k)
          frame[kFrameHeaderBytes + k] = static_cast<uint8_t>(root >> (8 * k));
        const char id[] = "CPD1";
        for (size_t k = 0; k < 4; ++k)
          frame[kFrameHeaderBytes + 4 + k] = static_cast<uint8_t>(id[k]);
        break;
      }
      case kKinds:
        break;
    }
    const FrameCheck check = CheckRequestFrame(frame, kMax);
    ExpectTyped(frame, check, std::string(kNames[kind]) + " #" + std::to_string(i));
    ++seen[kind][check.verdict];
    if (::testing::Test::HasFailure()) break;  // one input's trace is enough to debug
  }
  // Each kind reached the outcomes it exists to reach (a test that cannot fail is none).
  EXPECT_GT(seen[kBitFlips][FrameVerdict::kUnverifiable], 0);
  EXPECT_GT(seen[kTruncation][FrameVerdict::kTruncated], 0);
  EXPECT_GT(seen[kTruncation][FrameVerdict::kShortHeader], 0);
  EXPECT_GT(seen[kLengthField][FrameVerdict::kEmpty], 0);
  EXPECT_GT(seen[kLengthField][FrameVerdict::kTooLarge], 0);
  EXPECT_GT(seen[kLengthField][FrameVerdict::kTruncated], 0);
  EXPECT_GT(seen[kLengthField][FrameVerdict::kUnverifiable], 0);
  EXPECT_GT(seen[kRandomBytes][FrameVerdict::kUnverifiable], 0);
  EXPECT_GT(seen[kIdentifiedJunk][FrameVerdict::kUnverifiable], 0);
  for (int k = 0; k < kKinds; ++k) {
    std::string counts;
    for (const auto& [verdict, n] : seen[k])
      counts += std::string(" ") + FrameVerdictName(verdict) + "=" + std::to_string(n);
    std::printf("%-16s%s\n", kNames[k], counts.c_str());
  }
}

}  // namespace
}  // namespace cp::server
