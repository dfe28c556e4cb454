// What the parts of RequestHandler share (handler.cc: sessions, search and records;
// handler_feed.cc: feed batches and the review queue; handler_admin.cc: account
// administration). Not part of the server's interface.
#pragma once

#include <string>

#include "server/handler.h"
#include "server/records.h"

namespace cp::server {

struct RequestHandler::Call {
  const protocol::Envelope& req;
  uint64_t id;
  std::string address;
  std::string token;
  int64_t now_ms;
  std::vector<AuditEvent>* deferred = nullptr;  // see Handle
};

inline bool Blank(const std::string& s) {
  return s.find_first_not_of(" \t\r\n") == std::string::npos;
}

// The audit trail's text for a feed, review or administration request: what was asked,
// never a password, a secret or a feed's content. Empty for other requests.
std::string RequestDetail(const protocol::Envelope& req);

}  // namespace cp::server
