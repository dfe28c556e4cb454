// JSON shapes of the CLI's output (the same shapes the server's clients will see).
#pragma once

#include <nlohmann/json.hpp>

#include "query/searcher.h"
#include "storage/record.h"

namespace cp {

// {"given_name": ..., ..., "shielded": bool, and only when the view holds them:
//  "address", "postcode", "parent_name", "parent_phone", "school", "gp_practice",
//  "services": [...]}. A shielded child seen without clearance has no location key at all.
nlohmann::json RecordJson(const ChildView& view);

// {"child_id": ..., "shielded": ..., "record": {...}, "sources": [{"source", "key"}]}
// plus "score" when `score` >= 0.
nlohmann::json ChildJson(const ChildView& view, double score = -1);

// {"status": "ok"|"too_many_matches", "message"?: ..., "results": [...]}
nlohmann::json SearchJson(const SearchResponse& response);
// {"status": "invalid_criteria", "message": ..., "results": []}
nlohmann::json InvalidCriteriaJson(const std::string& message);

}  // namespace cp
