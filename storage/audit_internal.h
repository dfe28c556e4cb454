// Internals shared by audit_log.cc and audit_reader.cc: key and entry encodings
// (docs/key_format.md, "audit", "audit_index", "meta").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/audit_log.h"
#include "storage/crypto.h"

namespace cp::audit {

inline constexpr size_t kHashBytes = 32;
inline constexpr std::string_view kMetaHead = "audit_head";  // seq (8) | hash (32)
inline constexpr char kChildTag = 'c';
inline constexpr char kUserTag = 'u';

std::string EntryKey(uint64_t sequence);  // 8 bytes big-endian

// audit_index keys: c | child (8) | time (8) | seq (8), u | len (1) | user | time | seq.
// Times are stored as unsigned (Append refuses negative ones).
std::string ChildIndexPrefix(ChildId child);
std::string UserIndexPrefix(std::string_view user);
std::string IndexKey(std::string_view prefix, int64_t time_micros, uint64_t sequence);
// The (time, seq) tail of an index key with a known prefix length; false if malformed.
bool DecodeIndexTail(std::string_view key, size_t prefix_len, int64_t* time_micros,
                     uint64_t* sequence);

// InvalidArgument when the entry breaks a rule of AuditLog::Append.
Status ValidateEntry(const AuditEntry& entry);

// The stored body of an entry (everything but the trailing hash), sealing reason and
// criteria under the sequence number.
std::string EncodeBody(const AuditEntry& entry, uint64_t sequence, const Crypto& crypto);
// SHA-256(previous hash | key | body).
std::string ChainHash(std::string_view previous, std::string_view key, std::string_view body);
// Decodes a stored value (body | hash). With `crypto`, also unseals reason and criteria;
// without, leaves them empty. Corruption for bytes that do not decode or do not open.
Status DecodeValue(std::string_view value, uint64_t sequence, const Crypto* crypto,
                   AuditEntry* entry, std::string_view* body, std::string_view* hash);

}  // namespace cp::audit
