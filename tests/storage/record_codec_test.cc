// Tests for storage/record_codec.h: FlatBuffers round trips, and stored bytes that do not
// verify are Corruption, never a crash.

#include "storage/record_codec.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "storage/record.h"
#include "util/status.h"

namespace cp {
namespace {

ChildRecord FullRecord() {
  ChildRecord r;
  r.id = 0x0102030405060708ull;
  r.given_name = "Zoë";
  r.middle_names = "Anne Marie";
  r.family_name = "Smith-Jones";
  r.former_family_names = {"Smith", "O'Brien"};
  r.date_of_birth = Date{2015, 3, 2};
  r.gender = Gender::kFemale;
  r.nhs_number = "9434765919";
  r.pupil_number = "A123456789012";
  r.shield = ShieldState{true, "Leeds City Council", "court order", 1700000000};
  r.sources = {{"births", "B-1"}, {"school_census", "SC-77"}};
  r.provenance = {{"date_of_birth", "births"}, {"family_name", "school_census"}};
  return r;
}

HiddenFields FullHidden() {
  HiddenFields h;
  h.address = "1 Acacia Avenue, Leeds";
  h.postcode = "LS1 4AP";
  h.parent_name = "Jane Smith";
  h.parent_phone = "0113 496 0000";
  h.services = {{ServiceKind::kSchool, "Hillside Primary School", "0113 496 0001"},
                {ServiceKind::kGpPractice, "Park Surgery", ""},
                {ServiceKind::kSocialCare, "Leeds Children's Services", "duty desk"},
                {ServiceKind::kOther, "Speech therapy", "clinic 4"}};
  return h;
}

TEST(RecordCodecTest, FullChildRecordRoundTrips) {
  const ChildRecord r = FullRecord();
  auto decoded = DecodeChildRecord(EncodeChildRecord(r));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, r);
}

// Encoders reuse one builder a thread: what they give must not depend on what the thread
// encoded before (a fresh thread is a fresh builder), including after a huge record.
TEST(RecordCodecTest, EncodingDoesNotDependOnWhatTheThreadEncodedBefore) {
  ChildRecord huge = FullRecord();
  huge.former_family_names.assign(5000, "Featherstonehaugh");
  const std::vector<ChildRecord> records = {FullRecord(), ChildRecord(), huge, FullRecord()};
  std::vector<std::string> fresh_children, fresh_hidden;
  for (const auto& r : records) {
    std::thread([&] {
      fresh_children.push_back(EncodeChildRecord(r));
      fresh_hidden.push_back(EncodeHiddenFields(FullHidden()));
    }).join();
  }
  for (int round = 0; round < 2; ++round) {
    for (size_t i = 0; i < records.size(); ++i) {
      EXPECT_EQ(EncodeChildRecord(records[i]), fresh_children[i]) << i;
      EXPECT_EQ(EncodeHiddenFields(FullHidden()), fresh_hidden[i]) << i;
    }
  }
  auto decoded = DecodeChildRecord(EncodeChildRecord(huge));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, huge);
}

TEST(RecordCodecTest, EmptyChildRecordRoundTrips) {
  const ChildRecord r;
  auto decoded = DecodeChildRecord(EncodeChildRecord(r));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, r);
}

TEST(RecordCodecTest, EveryGenderRoundTrips) {
  for (Gender g : {Gender::kUnknown, Gender::kMale, Gender::kFemale}) {
    ChildRecord r = FullRecord();
    r.gender = g;
    auto decoded = DecodeChildRecord(EncodeChildRecord(r));
    ASSERT_TRUE(decoded.ok()) << GenderCode(g);
    EXPECT_EQ(decoded->gender, g);
  }
}

TEST(RecordCodecTest, FullHiddenFieldsRoundTrip) {
  const HiddenFields h = FullHidden();
  auto decoded = DecodeHiddenFields(EncodeHiddenFields(h));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, h);
}

TEST(RecordCodecTest, EmptyHiddenFieldsRoundTrip) {
  const HiddenFields h;
  auto decoded = DecodeHiddenFields(EncodeHiddenFields(h));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, h);
  EXPECT_TRUE(decoded->empty());
}

TEST(RecordCodecTest, StringsWithEmbeddedNulBytesRoundTrip) {
  ChildRecord r;
  r.given_name = std::string("a\0b", 3);
  HiddenFields h;
  h.address = std::string("x\0\0y", 4);
  auto record = DecodeChildRecord(EncodeChildRecord(r));
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->given_name, r.given_name);
  auto hidden = DecodeHiddenFields(EncodeHiddenFields(h));
  ASSERT_TRUE(hidden.ok());
  EXPECT_EQ(hidden->address, h.address);
}

TEST(RecordCodecTest, UnknownGenderCodeIsCorruption) {
  for (uint8_t code : {uint8_t{3}, uint8_t{77}, uint8_t{255}}) {
    ChildRecord r = FullRecord();
    r.gender = static_cast<Gender>(code);
    auto decoded = DecodeChildRecord(EncodeChildRecord(r));
    ASSERT_FALSE(decoded.ok()) << "gender code " << int{code};
    EXPECT_EQ(decoded.status().code(), Status::Code::kCorruption);
  }
}

TEST(RecordCodecTest, UnknownServiceKindIsCorruption) {
  HiddenFields h = FullHidden();
  h.services[1].kind = static_cast<ServiceKind>(9);
  auto decoded = DecodeHiddenFields(EncodeHiddenFields(h));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), Status::Code::kCorruption);
}

TEST(RecordCodecTest, EmptyAndTinyInputsAreCorruption) {
  for (const std::string& bytes :
       {std::string(), std::string(1, '\0'), std::string(4, '\0'), std::string(8, '\xff')}) {
    auto record = DecodeChildRecord(bytes);
    ASSERT_FALSE(record.ok()) << bytes.size() << " bytes";
    EXPECT_EQ(record.status().code(), Status::Code::kCorruption);
    auto hidden = DecodeHiddenFields(bytes);
    ASSERT_FALSE(hidden.ok()) << bytes.size() << " bytes";
    EXPECT_EQ(hidden.status().code(), Status::Code::kCorruption);
  }
}

// FlatBuffers may pad the end of a buffer, so a cut that removes only padding can still
// verify; what must never happen is a crash or a record that differs from the original.
TEST(RecordCodecTest, TruncatedChildRecordIsCorruptionOrUnchanged) {
  const ChildRecord r = FullRecord();
  const std::string bytes = EncodeChildRecord(r);
  int corruptions = 0;
  for (size_t len = 0; len < bytes.size(); ++len) {
    // A heap copy of exactly `len` bytes, so that ASan sees any read past the end.
    std::unique_ptr<char[]> copy(new char[len == 0 ? 1 : len]);
    std::memcpy(copy.get(), bytes.data(), len);
    auto decoded = DecodeChildRecord(std::string_view(copy.get(), len));
    if (decoded.ok()) {
      EXPECT_EQ(*decoded, r) << "cut to " << len << " of " << bytes.size();
    } else {
      EXPECT_EQ(decoded.status().code(), Status::Code::kCorruption);
      ++corruptions;
    }
  }
  EXPECT_GE(corruptions, static_cast<int>(bytes.size()) - 8);
}

TEST(RecordCodecTest, TruncatedHiddenFieldsAreCorruptionOrUnchanged) {
  const HiddenFields h = FullHidden();
  const std::string bytes = EncodeHiddenFields(h);
  int corruptions = 0;
  for (size_t len = 0; len < bytes.size(); ++len) {
    std::unique_ptr<char[]> copy(new char[len == 0 ? 1 : len]);
    std::memcpy(copy.get(), bytes.data(), len);
    auto decoded = DecodeHiddenFields(std::string_view(copy.get(), len));
    if (decoded.ok()) {
      EXPECT_EQ(*decoded, h) << "cut to " << len << " of " << bytes.size();
    } else {
      EXPECT_EQ(decoded.status().code(), Status::Code::kCorruption);
      ++corruptions;
    }
  }
  EXPECT_GE(corruptions, static_cast<int>(bytes.size()) - 8);
}

TEST(RecordCodecTest, RandomBytesNeverCrash) {
  std::mt19937_64 rng(20240611);
  int corruptions = 0;
  constexpr int kTrials = 2000;
  for (int trial = 0; trial < kTrials; ++trial) {
    const size_t len = rng() % 300;
    std::unique_ptr<char[]> bytes(new char[len == 0 ? 1 : len]);
    for (size_t i = 0; i < len; ++i) bytes[i] = static_cast<char>(rng());
    std::string_view view(bytes.get(), len);
    auto record = DecodeChildRecord(view);
    if (!record.ok()) {
      EXPECT_EQ(record.status().code(), Status::Code::kCorruption);
      ++corruptions;
    }
    auto hidden = DecodeHiddenFields(view);
    if (!hidden.ok()) {
      EXPECT_EQ(hidden.status().code(), Status::Code::kCorruption);
    }
  }
  // Random bytes essentially never form a verifiable buffer.
  EXPECT_GE(corruptions, kTrials * 99 / 100);
}

// Flipping bytes of a valid encoding exercises the verifier on almost-valid input.
TEST(RecordCodecTest, BitFlippedEncodingsNeverCrash) {
  std::mt19937_64 rng(7);
  const std::string record_bytes = EncodeChildRecord(FullRecord());
  const std::string hidden_bytes = EncodeHiddenFields(FullHidden());
  for (int trial = 0; trial < 3000; ++trial) {
    std::string r = record_bytes;
    std::string h = hidden_bytes;
    for (int flips = 1 + static_cast<int>(rng() % 3); flips > 0; --flips) {
      r[rng() % r.size()] ^= static_cast<char>(1u << (rng() % 8));
      h[rng() % h.size()] ^= static_cast<char>(1u << (rng() % 8));
    }
    auto record = DecodeChildRecord(r);
    if (!record.ok()) {
      EXPECT_EQ(record.status().code(), Status::Code::kCorruption);
    }
    auto hidden = DecodeHiddenFields(h);
    if (!hidden.ok()) {
      EXPECT_EQ(hidden.status().code(), Status::Code::kCorruption);
    }
  }
}

// Stored values reach the decoder straight from RocksDB blocks (PinnableSlice, iterator
// values), at whatever address they happen to sit. Decoding must not depend on the
// buffer's alignment (the sanitizer build checks the loads).
TEST(RecordCodecTest, DecodesFromUnalignedBuffers) {
  const ChildRecord r = FullRecord();
  const HiddenFields h = FullHidden();
  const std::string record_bytes = EncodeChildRecord(r);
  const std::string hidden_bytes = EncodeHiddenFields(h);
  for (size_t offset = 1; offset < 8; ++offset) {
    std::string padded_record = std::string(offset, 'x') + record_bytes;
    std::string padded_hidden = std::string(offset, 'x') + hidden_bytes;
    auto record = DecodeChildRecord(std::string_view(padded_record).substr(offset));
    ASSERT_TRUE(record.ok()) << "offset " << offset << ": " << record.status().ToString();
    EXPECT_EQ(*record, r);
    auto hidden = DecodeHiddenFields(std::string_view(padded_hidden).substr(offset));
    ASSERT_TRUE(hidden.ok()) << "offset " << offset << ": " << hidden.status().ToString();
    EXPECT_EQ(*hidden, h);
  }
}

}  // namespace
}  // namespace cp
