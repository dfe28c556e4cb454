#include "server/log.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

namespace cp::server {

namespace {

std::atomic<LogFormat> g_format{LogFormat::kJson};

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char esc[8];
          std::snprintf(esc, sizeof esc, "\\u%04x", c);
          *out += esc;
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

// A text-format value: as is, unless it holds a space, a quote or a control character.
void AppendTextValue(std::string* out, std::string_view s) {
  bool plain = !s.empty();
  for (unsigned char c : s) plain = plain && c > 0x20 && c != '"' && c != 0x7f;
  if (plain) {
    *out += s;
  } else {
    AppendJsonString(out, s);
  }
}

void AppendValue(std::string* out, LogFormat format, const LogField& f) {
  if (const auto* s = std::get_if<std::string_view>(&f.value)) {
    if (format == LogFormat::kJson) {
      AppendJsonString(out, *s);
    } else {
      AppendTextValue(out, *s);
    }
  } else if (const auto* i = std::get_if<int64_t>(&f.value)) {
    *out += std::to_string(*i);
  } else if (const auto* d = std::get_if<double>(&f.value)) {
    if (!std::isfinite(*d)) {
      *out += "null";  // JSON has no NaN or infinity
    } else {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6g", *d);
      *out += buf;
    }
  } else {
    *out += std::get<bool>(f.value) ? "true" : "false";
  }
}

std::string Timestamp(int64_t unix_ms) {
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm;
  gmtime_r(&secs, &tm);
  char stamp[40];
  const size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ", static_cast<int>(unix_ms % 1000));
  return stamp;
}

void Write(std::string_view level, std::string_view msg, std::initializer_list<LogField> fields) {
  static std::mutex mu;
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  std::string line =
      FormatLogLine(g_format.load(std::memory_order_relaxed), now_ms, level, msg, fields);
  line.push_back('\n');
  std::lock_guard lock(mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

void SetLogFormat(LogFormat format) { g_format.store(format, std::memory_order_relaxed); }
LogFormat GetLogFormat() { return g_format.load(std::memory_order_relaxed); }

std::string FormatLogLine(LogFormat format, int64_t unix_ms, std::string_view level,
                          std::string_view msg, std::initializer_list<LogField> fields) {
  std::string line;
  line.reserve(96 + msg.size());
  if (format == LogFormat::kJson) {
    line += "{\"ts\":\"" + Timestamp(unix_ms) + "\",\"level\":";
    AppendJsonString(&line, level);
    line += ",\"msg\":";
    AppendJsonString(&line, msg);
    for (const LogField& f : fields) {
      line.push_back(',');
      AppendJsonString(&line, f.key);
      line.push_back(':');
      AppendValue(&line, format, f);
    }
    line.push_back('}');
    return line;
  }
  line += Timestamp(unix_ms);
  line.push_back(' ');
  for (char c : level) line.push_back(static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c));
  line.push_back(' ');
  // One line per event: a message never breaks the line.
  for (char c : msg) line.push_back(c == '\n' || c == '\r' ? ' ' : c);
  for (const LogField& f : fields) {
    line.push_back(' ');
    line += f.key;
    line.push_back('=');
    AppendValue(&line, format, f);
  }
  return line;
}

void LogInfo(std::string_view msg, std::initializer_list<LogField> fields) {
  Write("info", msg, fields);
}
void LogError(std::string_view msg, std::initializer_list<LogField> fields) {
  Write("error", msg, fields);
}

}  // namespace cp::server
