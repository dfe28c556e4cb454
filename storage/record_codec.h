// FlatBuffers encoding of records (storage/child_record.fbs). Decoding verifies the
// buffer first: stored bytes that do not verify are Corruption, never a crash.
#pragma once

#include <string>
#include <string_view>

#include "storage/record.h"
#include "util/status.h"

namespace cp {

std::string EncodeChildRecord(const ChildRecord& record);
Result<ChildRecord> DecodeChildRecord(std::string_view bytes);

std::string EncodeHiddenFields(const HiddenFields& hidden);
Result<HiddenFields> DecodeHiddenFields(std::string_view bytes);

}  // namespace cp
