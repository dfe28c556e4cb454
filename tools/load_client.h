// The load client behind `contactpoint load` (tools/cli_load.cc): N concurrent
// authenticated sessions against a running contactpointd, sending a mix of searches and
// record views as practitioners' clients would, timed one request at a time.
//
// Connections are asynchronous (Asio coroutines), spread over `threads` client threads
// (one by default): a thread per connection would cost the machine the server shares
// two wake-ups and context switches per request. Before the clock starts each user that
// a connection will use logs in once through a blocking server::Client (password, then
// the TOTP code computed from the user's secret), and every connection opens (TLS 1.3,
// the server's certificate and name verified); connection i uses user i % users, and
// connections that share a user share its session (a session is bound to the client's
// address, not to a connection). Each call has the client's timeout_ms: a watchdog closes
// a connection whose call overruns it, and that counts as a transport error. Then each connection
// sends requests until the duration has passed or the request count is reached: a record
// view with probability `view_share` once the connection holds a child id returned by one
// of its earlier searches, a search (the next query of the file) otherwise. A connection
// whose transport breaks reconnects and goes on; the break is counted as an error.
//
// With `answers`, the run is one pass over the query file instead: every query is sent
// exactly once and its answer written as one JSON line, in file order and in the shape of
// `contactpoint search --queries` (tools/batch_search.h), so that the same recall check
// reads both (bench/recall.sh).
//
// Thread safety: RunLoad may be called from one thread at a time per options object; it
// starts and joins its own threads.
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "server/client.h"
#include "tools/batch_search.h"

namespace cp {

struct LoadCredential {
  std::string user, totp_secret, password;
};

// A credentials file: one user a line, `user<TAB>base32 TOTP secret<TAB>password` (the
// rest of the line is the password); blank lines and lines starting with '#' are
// skipped. InvalidArgument naming the line when a line has fewer than three fields, or
// when the file names no user; IOError when it cannot be read.
Result<std::vector<LoadCredential>> ReadLoadCredentials(const std::string& path);

// The criteria of a query file's row as the wire protocol takes them (text). Every row
// must have parsed: InvalidArgument naming the row (its line and query_id) otherwise, so
// that a malformed file is refused before any request is sent.
Result<std::vector<server::SearchRequest>> WireQueries(const std::vector<QueryRow>& rows);

struct LoadOptions {
  server::ClientOptions client;
  std::vector<LoadCredential> users;  // at least one
  std::vector<QueryRow> queries;      // at least one; each row parsed (WireQueries)
  std::string reason = "load test";   // sent with every request (audited)
  int connections = 1;                // 1..1024
  double duration_s = 10;             // measured seconds; 0: no limit (needs requests)
  double warmup_s = 0;                // requests before the clock, not counted
  uint64_t requests = 0;              // measured requests in all; 0: no limit
  double view_share = 0.2;            // 0..1: record views among all requests
  uint16_t limit = 0;                 // result cap asked for; 0: the role's
  uint64_t seed = 1;                  // per-connection choice of search or view
  bool answers = false;               // one pass, one JSON line per query (above)
  int threads = 1;                    // client threads; connection i runs on i % threads
};

// A SearchResult from the wire as the engine's SearchResponse (outcome kOk, hits with
// their scores), so that it renders as the local commands render theirs. nullptr: no hits.
SearchResponse SearchResponseFromWire(const protocol::SearchResult* result);

// What one message type saw while the clock ran. Latencies are microseconds, one per
// answered request (refusals included, transport failures not).
struct LoadTally {
  std::vector<double> micros;
  uint64_t ok = 0;
  uint64_t too_many = 0;                    // searches: too many matches (an answer)
  uint64_t invalid = 0;                     // searches: invalid criteria (an answer)
  uint64_t transport = 0;                   // the connection broke; reconnected
  std::map<std::string, uint64_t> refused;  // other refusals, by error code name
  uint64_t errors() const;                  // transport + refused
  void Add(const LoadTally& other);
};

struct LoadReport {
  int connections = 0;
  size_t users = 0;
  bool tls = true;
  double measured_s = 0;
  double warmup_s = 0;
  LoadTally search, view;
  double cpu_user_s = 0, cpu_sys_s = 0;  // this process, while the clock ran
  std::string stopped_early;             // why a connection gave up (could not reconnect)
  // With LoadOptions::answers: one JSON line per query (no newline), in file order. A
  // query that could not be sent has a line with status "error", counted as transport.
  std::vector<std::string> answers;
  uint64_t errors() const { return search.errors() + view.errors(); }
};

// Logs every connection in, then runs. A connection or login that fails before the clock
// starts fails the whole run (IOError: could not connect; PermissionDenied: a login was
// refused, e.g. a wrong password or TOTP secret; InvalidArgument: a secret that is not
// base32, or options out of range) and sends nothing further.
Result<LoadReport> RunLoad(const LoadOptions& options);

}  // namespace cp
