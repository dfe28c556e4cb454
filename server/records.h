// Conversions between the engine's types and the protocol's tables.
//
// A child is sent exactly as `contactpoint search --json` shows it: a shielded child seen
// without clearance carries no Hidden table at all, and the server never puts a hidden
// field anywhere else in a message.
//
// Thread safety: pure functions; safe from many threads.
#pragma once

#include <string>

#include "query/criteria.h"
#include "server/protocol_generated.h"
#include "storage/record.h"
#include "util/status.h"

namespace cp::server {

// A FlatBuffers string as a std::string; empty for one the message leaves out.
inline std::string Str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

// `score` < 0 means "not a search result" (GetRecord).
flatbuffers::Offset<protocol::Child> ChildToFb(flatbuffers::FlatBufferBuilder& fbb,
                                               const ChildView& view, double score);

// The view a Child table describes, and its score (-1 when it has none). Fields that do
// not parse (a malformed date) are left empty: a client shows what it can.
ChildView ChildFromFb(const protocol::Child& child, double* score);

// Search criteria from a request. InvalidArgument when a date or gender does not parse;
// the minimum-criteria rule itself is the Searcher's (ValidateCriteria). A limit of 0
// becomes `cap`; any limit is clamped to `cap`.
Result<SearchCriteria> CriteriaFromFb(const protocol::Criteria* criteria, size_t cap);

}  // namespace cp::server
