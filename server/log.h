// contactpointd's log: one line per event on stderr, "2026-11-28T20:15:04Z LEVEL text".
//
// What may be logged: events, counts, durations, error categories, configuration. What
// must never be: a name, a date of birth, an identifier, a reason, a criterion, a
// password, a code, a token, or a client's address.
//
// Thread safety: LogInfo and LogError may be called from many threads; lines never
// interleave.
#pragma once

#include <string_view>

namespace cp::server {

void LogInfo(std::string_view text);
void LogError(std::string_view text);

}  // namespace cp::server
