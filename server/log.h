// contactpointd's log: one line per event on stderr. By default each line is one JSON
// object (JSON lines), for a log shipper to parse:
//
//   {"ts":"2026-11-28T20:15:04.123Z","level":"info","msg":"serving on 127.0.0.1:7443
//   (TLS 1.3)","event":"serving","port":7443}
//
// "ts" (UTC, milliseconds), "level" ("info" or "error") and "msg" come first, then the
// event's fields in the order given. `[log] format = "text"` (SetLogFormat) writes the
// same as "2026-11-28T20:15:04.123Z INFO msg key=value ..." for a person at a terminal.
//
// What may be logged: operational facts — events, counts, durations, error categories,
// configuration keys, ports, file paths of the server's own files. What must never be: a
// name, a date of birth, an address or postcode, a reason, a criterion, a password, a
// code, a token or ticket, a client's IP address, a user id or an organisation id (the
// audit trail records who did what; the log is for operators). A child id on its own is
// not personal data, but the log has no need of one and holds none. Storage and config
// messages passed as "msg" name files, keys and categories, never a record's content.
//
// Thread safety: every function may be called from many threads; lines never interleave.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace cp::server {

enum class LogFormat { kJson, kText };

// Applies to every line written after it (the daemon sets it from the config, and again
// on reload). The default is kJson.
void SetLogFormat(LogFormat format);
LogFormat GetLogFormat();

// One structured field. Keys are fixed snake_case names chosen by the caller; string
// values are JSON-escaped.
struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, int64_t v) : key(k), value(v) {}
  LogField(std::string_view k, int v) : key(k), value(static_cast<int64_t>(v)) {}
  LogField(std::string_view k, uint32_t v) : key(k), value(static_cast<int64_t>(v)) {}
  LogField(std::string_view k, uint64_t v) : key(k), value(static_cast<int64_t>(v)) {}
  LogField(std::string_view k, double v) : key(k), value(v) {}
  LogField(std::string_view k, bool v) : key(k), value(v) {}
  std::string_view key;
  std::variant<std::string_view, int64_t, double, bool> value;
};

void LogInfo(std::string_view msg, std::initializer_list<LogField> fields = {});
void LogError(std::string_view msg, std::initializer_list<LogField> fields = {});

// The line LogInfo/LogError would write, without its newline (tests). `unix_ms` is the
// timestamp.
std::string FormatLogLine(LogFormat format, int64_t unix_ms, std::string_view level,
                          std::string_view msg, std::initializer_list<LogField> fields);

}  // namespace cp::server
