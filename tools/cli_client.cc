// `contactpoint client ...`: the local commands' options and --json output, answered by a
// contactpointd over the wire (server/client.h).
//
// Login state between invocations lives in a session file (default
// ~/.contactpoint-session, mode 0600): `client login` writes the session token there and
// every other command sends it. The token is a credential: `client logout` ends the
// session on the server and removes the file.
//
// Exit codes: as the local commands (0 ok, 1 failure, 2 usage or invalid criteria,
// 3 too many matches), and 4 when the server refused the request (not authenticated,
// not authorised, rate limited, locked, ...).
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "server/client.h"
#include "server/records.h"
#include "tools/json_output.h"

namespace cp {
namespace {

namespace fb = protocol;
using nlohmann::json;

constexpr int kExitOk = 0, kExitFailure = 1, kExitUsage = 2, kExitTooMany = 3, kExitRefused = 4;

struct ClientFlags {
  std::string server = "127.0.0.1:7443";
  std::string ca_file;
  bool plain = false;
  std::string session_file;
  bool json = false;
  int timeout_ms = 30000;
};

ClientFlags& Flags() {
  static ClientFlags flags;
  return flags;
}

std::string SessionPath() {
  if (!Flags().session_file.empty()) return Flags().session_file;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.contactpoint-session";
}

int Fail(const std::string& message, int code = kExitFailure) {
  std::cerr << "contactpoint client: " << message << "\n";
  return code;
}

Result<std::unique_ptr<server::Client>> ConnectFromFlags(bool with_session) {
  const std::string& where = Flags().server;
  const size_t colon = where.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::InvalidArgument("--server must be HOST:PORT, not '" + where + "'");
  }
  server::ClientOptions o;
  o.host = where.substr(0, colon);
  if (o.host.size() > 2 && o.host.front() == '[' && o.host.back() == ']')
    o.host = o.host.substr(1, o.host.size() - 2);
  char* end = nullptr;
  const unsigned long port = std::strtoul(where.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || port == 0 || port > 65535)
    return Status::InvalidArgument("bad port in --server " + where);
  o.port = static_cast<uint16_t>(port);
  o.plain = Flags().plain;
  o.ca_file = Flags().ca_file;
  o.timeout_ms = Flags().timeout_ms;
  auto client = server::Client::Connect(o);
  if (!client.ok() || !with_session) return client;
  std::ifstream in(SessionPath());
  std::string token;
  if (!(in >> token))
    return Status::FailedPrecondition("not logged in (no session in " + SessionPath() +
                                      "): run `contactpoint client login`");
  (*client)->set_session(token);
  return client;
}

// Prints a refusal and returns its exit code; kExitOk when `r` is not an Error.
int Refusal(const server::Response& r) {
  const fb::Error* e = r.error();
  if (e == nullptr) return kExitOk;
  const std::string message = e->message() ? e->message()->str() : "";
  const std::string name = server::ErrorCodeName(e->code());
  if (Flags().json) {
    json j{{"status", name}, {"message", message}};
    if (e->retry_after_ms()) j["retry_after_ms"] = e->retry_after_ms();
    std::cout << j.dump(2) << "\n";
  } else {
    std::cerr << "contactpoint client: " << name << ": " << message << "\n";
  }
  switch (e->code()) {
    case fb::ErrorCode::InvalidCriteria:
      return kExitUsage;
    case fb::ErrorCode::TooManyMatches:
      return kExitTooMany;
    case fb::ErrorCode::Internal:
    case fb::ErrorCode::Unavailable:
      return kExitFailure;
    default:
      return kExitRefused;
  }
}

void PrintChild(const ChildView& v, double score) {
  const ChildRecord& r = v.record;
  std::cout << "child " << r.id;
  if (score >= 0) std::printf("  score %.3f", score);
  std::cout << (r.shield.shielded ? "  [SHIELDED]" : "") << "\n  " << r.given_name
            << (r.middle_names.empty() ? "" : " " + r.middle_names) << " " << r.family_name
            << "  born " << (r.date_of_birth.empty() ? "unknown" : r.date_of_birth.ToString())
            << "  " << GenderCode(r.gender) << "\n";
  if (!r.nhs_number.empty()) std::cout << "  NHS number " << r.nhs_number << "\n";
  if (!r.pupil_number.empty()) std::cout << "  pupil number " << r.pupil_number << "\n";
  if (v.hidden) {
    const HiddenFields& h = *v.hidden;
    if (!h.address.empty() || !h.postcode.empty())
      std::cout << "  " << h.address << "  " << h.postcode << "\n";
    if (!h.parent_name.empty())
      std::cout << "  parent/carer " << h.parent_name << "  " << h.parent_phone << "\n";
    for (const auto& s : h.services)
      std::cout << "  " << ServiceKindName(s.kind) << ": " << s.name << "\n";
  } else {
    std::cout << "  location and contacts hidden (shielded)\n";
  }
}

// Runs one call: connect, call, print. `print` handles a successful response.
template <typename CallFn, typename PrintFn>
int RunCall(bool with_session, CallFn call, PrintFn print) {
  auto client = ConnectFromFlags(with_session);
  if (!client.ok()) {
    return Fail(client.status().message(),
                client.status().IsInvalidArgument() ? kExitUsage : kExitFailure);
  }
  Result<server::Response> r = call(**client);
  if (!r.ok()) return Fail(r.status().message());
  if (int code = Refusal(*r); code != kExitOk) return code;
  return print(**client, *r);
}

bool Blank(const std::string& s) { return s.find_first_not_of(" \t") == std::string::npos; }

void AddLogin(CLI::App* client, std::function<int()>* run) {
  static std::string user, password_file, totp;
  auto* cmd = client->add_subcommand(
      "login", "log in (password, then TOTP code); keeps the session in the session file");
  cmd->add_option("--user", user, "user name")->required();
  cmd->add_option("--password-file", password_file, "file whose first line is the password")
      ->required();
  cmd->add_option("--totp", totp, "the current 6-digit code")->required();
  cmd->callback([run] {
    *run = [] {
      std::ifstream in(password_file);
      std::string password;
      if (!in || !std::getline(in, password))
        return Fail("cannot read " + password_file, kExitUsage);
      if (!password.empty() && password.back() == '\r') password.pop_back();
      return RunCall(
          false, [&](server::Client& c) { return c.LogIn(user, password, totp); },
          [](server::Client& c, const server::Response& r) {
            const std::string path = SessionPath();
            std::filesystem::remove(path);
            std::ofstream out(path);
            ::chmod(path.c_str(), 0600);
            out << c.session() << "\n";
            out.close();
            if (!out) return Fail("cannot write the session file " + path);
            const auto* s = r.envelope().body_as_SessionResult();
            if (Flags().json) {
              std::cout << json{{"status", "ok"},
                                {"role", s->role() ? s->role()->str() : ""},
                                {"result_cap", s->result_cap()},
                                {"expires_unix", s->expires_unix()},
                                {"idle_timeout_s", s->idle_timeout_s()}}
                               .dump(2)
                        << "\n";
            } else {
              std::cout << "logged in as " << user << " (" << (s->role() ? s->role()->str() : "")
                        << "); session kept in " << path << "\n";
            }
            return kExitOk;
          });
    };
  });
}

void AddSearch(CLI::App* client, std::function<int()>* run) {
  static server::SearchRequest q;
  static std::string reason;
  static int limit = 0;
  auto* cmd =
      client->add_subcommand("search", "bounded search on the server (same criteria as `search`)");
  cmd->add_option("--given", q.given_name, "given name (an initial is enough)");
  cmd->add_option("--family", q.family_name, "family name");
  cmd->add_option("--dob", q.date_of_birth, "date of birth, YYYY-MM-DD");
  cmd->add_option("--dob-from", q.dob_from, "date-of-birth range start (range at most 2 years)");
  cmd->add_option("--dob-to", q.dob_to, "date-of-birth range end");
  cmd->add_option("--gender", q.gender, "M or F");
  cmd->add_option("--postcode", q.postcode, "postcode (never matches a shielded child)");
  cmd->add_option("--nhs-number", q.nhs_number, "NHS number (enough on its own)");
  cmd->add_option("--pupil-number", q.pupil_number, "unique pupil number (enough on its own)");
  cmd->add_option("--limit", limit, "result cap, 1..50 (default and maximum: your role's cap)")
      ->check(CLI::Range(0, 50));
  cmd->add_option("--reason", reason, "stated reason (required, recorded in the audit trail)")
      ->required();
  cmd->add_flag("--json", Flags().json, "print one JSON object, as `search --json`");
  cmd->callback([run] {
    *run = [] {
      q.limit = static_cast<uint16_t>(limit);
      return RunCall(
          true, [](server::Client& c) { return c.Search(q, reason); },
          [](server::Client&, const server::Response& r) {
            const auto* result = r.envelope().body_as_SearchResult();
            SearchResponse response;
            if (result && result->results()) {
              for (const auto* child : *result->results()) {
                SearchHit hit;
                hit.view = server::ChildFromFb(*child, &hit.score);
                hit.id = hit.view.record.id;
                response.hits.push_back(std::move(hit));
              }
            }
            if (Flags().json) {
              std::cout << SearchJson(response).dump(2) << "\n";
            } else {
              std::cout << response.hits.size()
                        << (response.hits.size() == 1 ? " match\n" : " matches\n");
              for (const auto& hit : response.hits) PrintChild(hit.view, hit.score);
            }
            return kExitOk;
          });
    };
  });
}

Result<uint64_t> ParseId(const std::string& text) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v == 0)
    return Status::InvalidArgument("'" + text + "' is not a child id");
  return static_cast<uint64_t>(v);
}

void AddGet(CLI::App* client, std::function<int()>* run) {
  static std::string id_text, reason;
  auto* cmd = client->add_subcommand("get", "one child, as your session may see it");
  cmd->add_option("child_id", id_text, "child id")->required();
  cmd->add_option("--reason", reason, "stated reason (required, recorded in the audit trail)")
      ->required();
  cmd->add_flag("--json", Flags().json, "print JSON, as `get --json`");
  cmd->callback([run] {
    *run = [] {
      auto id = ParseId(id_text);
      if (!id.ok()) return Fail(id.status().message(), kExitUsage);
      return RunCall(
          true, [&](server::Client& c) { return c.GetRecord(*id, reason); },
          [](server::Client&, const server::Response& r) {
            ChildView view =
                server::ChildFromFb(*r.envelope().body_as_RecordResult()->child(), nullptr);
            if (Flags().json)
              std::cout << ChildJson(view).dump(2) << "\n";
            else
              PrintChild(view, -1);
            return kExitOk;
          });
    };
  });
}

void AddShield(CLI::App* client, std::function<int()>* run) {
  for (bool shield : {true, false}) {
    static std::string id_text[2], reason[2];
    const int i = shield ? 0 : 1;
    auto* cmd = client->add_subcommand(shield ? "shield" : "unshield",
                                       shield ? "shield a child (shielding managers)"
                                              : "lift a child's shield (shielding managers)");
    cmd->add_option("child_id", id_text[i], "child id")->required();
    cmd->add_option("--reason", reason[i], "stated reason")->required();
    cmd->callback([run, i, shield] {
      *run = [i, shield] {
        auto id = ParseId(id_text[i]);
        if (!id.ok()) return Fail(id.status().message(), kExitUsage);
        if (Blank(reason[i])) return Fail("a reason is required", kExitUsage);
        return RunCall(
            true, [&](server::Client& c) { return c.SetShield(*id, shield, reason[i]); },
            [&](server::Client&, const server::Response&) {
              std::cout << "child " << *id << (shield ? " shielded\n" : " unshielded\n");
              return kExitOk;
            });
      };
    });
  }
}

void AddSessionCommands(CLI::App* client, std::function<int()>* run) {
  static std::string reason;
  auto* bg = client->add_subcommand("break-glass",
                                    "child-protection override: hidden fields visible for this "
                                    "session; flagged for investigation");
  bg->add_option("--reason", reason, "stated reason (required)")->required();
  bg->callback([run] {
    *run = [] {
      return RunCall(
          true, [](server::Client& c) { return c.BreakGlass(reason); },
          [](server::Client&, const server::Response&) {
            std::cout << "glass broken for this session; recorded for investigation\n";
            return kExitOk;
          });
    };
  });
  auto* logout = client->add_subcommand("logout", "end the session and remove the session file");
  logout->callback([run] {
    *run = [] {
      int code = RunCall(
          true, [](server::Client& c) { return c.Logout(); },
          [](server::Client&, const server::Response&) { return kExitOk; });
      std::filesystem::remove(SessionPath());
      if (code == kExitOk) std::cout << "logged out\n";
      return code;
    };
  });
  auto* health = client->add_subcommand("health", "is the server serving? (no login needed)");
  health->add_flag("--json", Flags().json, "print JSON");
  health->callback([run] {
    *run = [] {
      return RunCall(
          false, [](server::Client& c) { return c.Health(); },
          [](server::Client&, const server::Response& r) {
            const auto* h = r.envelope().body_as_HealthResult();
            const std::string status = h->status() ? h->status()->str() : "";
            if (Flags().json) {
              std::cout << json{{"status", status},
                                {"version", h->version()},
                                {"connections", h->connections()}}
                               .dump(2)
                        << "\n";
            } else {
              std::cout << status << " (protocol " << h->version() << ", " << h->connections()
                        << " connections)\n";
            }
            return status == "serving" ? kExitOk : kExitFailure;
          });
    };
  });
}

}  // namespace

void AddClientCommands(CLI::App& app, std::function<int()>* run) {
  auto* client = app.add_subcommand("client", "talk to a contactpointd server");
  client->require_subcommand(1);
  client->fallthrough();
  ClientFlags& f = Flags();
  client->add_option("--server", f.server, "HOST:PORT of the server (default 127.0.0.1:7443)");
  client->add_option(
      "--tls-ca", f.ca_file,
      "PEM file of the CA that signed the server's certificate (default: the system's)");
  client->add_flag("--plain", f.plain,
                   "plain TCP instead of TLS (a loopback development server only)");
  client->add_option("--session-file", f.session_file,
                     "where the session token is kept (default ~/.contactpoint-session)");
  client->add_option("--timeout-ms", f.timeout_ms, "per-call timeout")
      ->check(CLI::Range(1, 600000));
  AddLogin(client, run);
  AddSearch(client, run);
  AddGet(client, run);
  AddShield(client, run);
  AddSessionCommands(client, run);
}

}  // namespace cp
