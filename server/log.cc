#include "server/log.h"

#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

namespace cp::server {

namespace {

void Write(const char* level, std::string_view text) {
  static std::mutex mu;
  char stamp[32];
  std::time_t now = std::time(nullptr);
  std::tm tm;
  gmtime_r(&now, &tm);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::string line = std::string(stamp) + " " + level + " " + std::string(text) + "\n";
  std::lock_guard lock(mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

void LogInfo(std::string_view text) { Write("INFO", text); }
void LogError(std::string_view text) { Write("ERROR", text); }

}  // namespace cp::server
