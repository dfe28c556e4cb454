// Test helpers for the operations endpoint: a blocking HTTP GET, and a checker for
// Prometheus' text exposition format 0.0.4.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace cp::server::testing {

struct HttpReply {
  int status = 0;  // 0: no reply
  std::string headers;
  std::string body;
};

// `request` is sent as is when given; otherwise "GET path HTTP/1.1".
inline HttpReply HttpGet(uint16_t port, const std::string& path, const std::string& request = "") {
  HttpReply r;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return r;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return r;
  }
  const std::string req =
      request.empty() ? "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n" : request;
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return r;
  }
  std::string all;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) all.append(buf, static_cast<size_t>(n));
  close(fd);
  const size_t end = all.find("\r\n\r\n");
  if (all.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return r;
  r.status = std::atoi(all.c_str() + 9);
  r.headers = all.substr(0, end);
  r.body = all.substr(end + 4);
  return r;
}

// The samples of a valid exposition, keyed "name{labels}" (labels as written), or the
// problems found. Checks: every line is a HELP, a TYPE or a sample `name{labels} value`;
// every sample belongs to a family with a TYPE given before it; a histogram's buckets per
// label set are cumulative, end with le="+Inf", and +Inf equals _count.
struct Exposition {
  std::map<std::string, double> samples;
  std::vector<std::string> problems;
  double Get(const std::string& key) const {
    auto it = samples.find(key);
    return it == samples.end() ? -1 : it->second;
  }
};

inline bool ValidName(const std::string& n) {
  if (n.empty() || std::isdigit(static_cast<unsigned char>(n[0]))) return false;
  for (char c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != ':') return false;
  }
  return true;
}

inline Exposition ParseExposition(const std::string& text) {
  Exposition e;
  std::map<std::string, std::string> types;  // family -> type
  // Histogram state per (family, labels without le).
  struct Hist {
    double last = -1;
    bool inf_seen = false;
    double inf = -1;
  };
  std::map<std::string, Hist> hists;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  auto problem = [&](const std::string& what) {
    e.problems.push_back("line " + std::to_string(n) + ": " + what + ": " + line);
  };
  if (text.empty() || text.back() != '\n') e.problems.push_back("text does not end in a newline");
  while (std::getline(in, line)) {
    ++n;
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream t(line.substr(7));
      std::string name, type;
      t >> name >> type;
      if (!ValidName(name) || (type != "counter" && type != "gauge" && type != "histogram"))
        problem("bad TYPE");
      if (types.count(name)) problem("TYPE twice");
      types[name] = type;
      continue;
    }
    if (line.empty() || line[0] == '#') {
      problem("unexpected line");
      continue;
    }
    const size_t brace = line.find('{');
    const size_t space = line.rfind(' ');
    if (space == std::string::npos) {
      problem("no value");
      continue;
    }
    std::string name, labels;
    if (brace != std::string::npos && brace < space) {
      const size_t close = line.rfind('}', space);
      if (close == std::string::npos || close + 1 != space) {
        problem("bad labels");
        continue;
      }
      name = line.substr(0, brace);
      labels = line.substr(brace + 1, close - brace - 1);
    } else {
      name = line.substr(0, space);
    }
    const std::string value_text = line.substr(space + 1);
    char* end = nullptr;
    const double value = value_text == "+Inf" ? 1e300 : std::strtod(value_text.c_str(), &end);
    if (value_text != "+Inf" && (end == nullptr || *end != '\0' || value_text.empty())) {
      problem("bad value");
      continue;
    }
    if (!ValidName(name)) problem("bad name");
    std::string family = name;
    std::string suffix;
    for (const char* s : {"_bucket", "_sum", "_count"}) {
      const std::string sfx = s;
      if (name.size() > sfx.size() &&
          name.compare(name.size() - sfx.size(), sfx.size(), sfx) == 0 &&
          types.count(name.substr(0, name.size() - sfx.size())) &&
          types[name.substr(0, name.size() - sfx.size())] == "histogram") {
        family = name.substr(0, name.size() - sfx.size());
        suffix = sfx;
      }
    }
    if (!types.count(family)) problem("sample before its TYPE");
    e.samples[name + (labels.empty() ? "" : "{" + labels + "}")] = value;
    if (types.count(family) && types[family] == "histogram") {
      if (suffix.empty()) problem("histogram sample without _bucket/_sum/_count");
      std::string rest = labels;
      std::string le;
      const size_t at = rest.find("le=\"");
      if (at != std::string::npos) {
        const size_t q = rest.find('"', at + 4);
        le = rest.substr(at + 4, q - at - 4);
        rest.erase(at, q + 1 - at);
        if (!rest.empty() && rest.back() == ',') rest.pop_back();
      }
      Hist& h = hists[family + "{" + rest + "}"];
      if (suffix == "_bucket") {
        if (le.empty()) problem("bucket without le");
        if (value < h.last) problem("buckets not cumulative");
        h.last = value;
        if (le == "+Inf") {
          h.inf_seen = true;
          h.inf = value;
        }
      } else if (suffix == "_count") {
        if (!h.inf_seen) problem("_count before the +Inf bucket");
        if (value != h.inf) problem("_count differs from the +Inf bucket");
      }
    }
  }
  for (const auto& [key, h] : hists) {
    if (!h.inf_seen) e.problems.push_back(key + ": no +Inf bucket");
  }
  return e;
}

}  // namespace cp::server::testing
