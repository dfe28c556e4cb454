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
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "server/client.h"
#include "server/records.h"
#include "tools/cli.h"
#include "tools/json_output.h"
#include "tools/load_client.h"

namespace cp {
namespace {

namespace fb = protocol;
using nlohmann::json;

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
    case fb::ErrorCode::InvalidRequest:
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
  if (r.lifecycle.archived()) {
    std::cout << "  ARCHIVED on " << r.lifecycle.archived_on.ToString()
              << " (readable by data managers for a year)\n";
  }
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
            const SearchResponse response =
                SearchResponseFromWire(r.envelope().body_as_SearchResult());
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

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read " + path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Result<std::string> ReadPasswordFile(const std::string& path) {
  std::ifstream in(path);
  std::string password;
  if (!in || !std::getline(in, password)) return Status::InvalidArgument("cannot read " + path);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  return password;
}

std::string Text(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

void AddFeed(CLI::App* client, std::function<int()>* run) {
  static std::string source, file;
  static uint64_t batch = 0;
  auto* cmd = client->add_subcommand(
      "feed", "send batch N of a source to the server (a feed-supplier account; as `feed apply`)");
  cmd->add_option("--source", source, "source name: your organisation's id")->required();
  cmd->add_option("--batch", batch, "batch number: 1, 2, ... in order")->required();
  cmd->add_option("file", file, "feed CSV; it must fit in one request (see --help of the server)")
      ->required();
  cmd->add_flag("--json", Flags().json, "print one JSON object");
  cmd->callback([run] {
    *run = [] {
      auto csv = ReadFile(file);
      if (!csv.ok()) return Fail(csv.status().message(), kExitUsage);
      auto client = ConnectFromFlags(true);
      if (!client.ok()) return Fail(client.status().message());
      // The server closes the connection on a request above its maximum: say so first.
      auto hello = (*client)->Hello();
      if (!hello.ok()) return Fail(hello.status().message());
      if (int code = Refusal(*hello); code != kExitOk) return code;
      const uint32_t max = hello->envelope().body_as_HelloResult()->max_request_bytes();
      if (max != 0 && csv->size() + 1024 > max) {
        return Fail(file + " is " + std::to_string(csv->size()) +
                        " bytes; the server takes at most about " + std::to_string(max - 1024) +
                        " bytes of CSV in one batch: split the file into batches (each with the "
                        "header row) and send them as consecutive batch numbers",
                    kExitUsage);
      }
      auto r = (*client)->FeedBatch(source, batch, *csv);
      if (!r.ok()) return Fail(r.status().message());
      if (int code = Refusal(*r); code != kExitOk) return code;
      const auto* f = r->envelope().body_as_FeedBatchResult();
      std::vector<std::string> rejected;
      if (f->rejected_rows()) {
        for (const auto* m : *f->rejected_rows()) rejected.push_back(m->str());
      }
      if (Flags().json) {
        std::cout << json{{"status", "ok"},
                          {"source", Text(f->source())},
                          {"batch", f->batch()},
                          {"already_applied", f->already_applied()},
                          {"resumed_at_row", f->resumed_at_row()},
                          {"counts",
                           {{"linked", f->linked()},
                            {"new", f->created()},
                            {"updated", f->updated()},
                            {"unchanged", f->unchanged()},
                            {"review", f->review()},
                            {"withdrawn", f->withdrawn()},
                            {"rejected", f->rejected()}}},
                          {"rejected_rows", rejected},
                          {"rejected_rows_truncated", f->rejected_rows_truncated()}}
                         .dump(2)
                  << "\n";
      } else {
        for (const auto& m : rejected) std::cerr << m << "\n";
        if (f->already_applied()) {
          std::cout << "batch " << batch << " of " << source
                    << " was applied before: nothing changed\n";
          return kExitOk;
        }
        if (f->resumed_at_row() > 0)
          std::cout << "resumed an interrupted run after row " << f->resumed_at_row() << "\n";
        std::cout << "batch " << batch << " of " << source << ": linked " << f->linked() << ", new "
                  << f->created() << ", updated " << f->updated() << ", unchanged "
                  << f->unchanged() << ", review " << f->review() << ", withdrawn "
                  << f->withdrawn() << ", rejected " << f->rejected() << "\n";
      }
      return f->rejected() > 0 && !f->already_applied() ? kExitFailure : kExitOk;
    };
  });
}

void AddReview(CLI::App* client, std::function<int()>* run) {
  auto* review = client->add_subcommand("review", "the review queue on the server (reviewers)");
  review->require_subcommand(1);
  static uint32_t max = 0;
  auto* list = review->add_subcommand("list", "waiting items: id, record names, candidates");
  list->add_option("--max", max, "at most this many items (default: the server's, 100)");
  list->add_flag("--json", Flags().json, "print one JSON object");
  list->callback([run] {
    *run = [] {
      return RunCall(
          true, [](server::Client& c) { return c.ReviewList(max); },
          [](server::Client&, const server::Response& r) {
            const auto* l = r.envelope().body_as_ReviewListResult();
            json items = json::array();
            if (l->items()) {
              for (const auto* i : *l->items()) {
                json candidates = json::array();
                if (i->candidates()) {
                  for (const auto* c : *i->candidates()) {
                    candidates.push_back({{"child_id", c->child_id()},
                                          {"score", c->score()},
                                          {"shielded", c->shielded()}});
                  }
                }
                items.push_back({{"review_id", i->review_id()},
                                 {"shielded", i->shielded()},
                                 {"source", Text(i->source())},
                                 {"key", Text(i->key())},
                                 {"given_name", Text(i->given_name())},
                                 {"middle_names", Text(i->middle_names())},
                                 {"family_name", Text(i->family_name())},
                                 {"date_of_birth", Text(i->date_of_birth())},
                                 {"gender", Text(i->gender())},
                                 {"reason", Text(i->reason())},
                                 {"candidates", candidates}});
              }
            }
            if (Flags().json) {
              std::cout << json{{"status", "ok"}, {"waiting", l->waiting()}, {"items", items}}.dump(
                               2)
                        << "\n";
              return kExitOk;
            }
            for (const auto& i : items) {
              std::cout << i["review_id"].get<uint64_t>() << "  "
                        << (i["shielded"].get<bool>() ? "[SHIELDED]"
                                                      : i["source"].get<std::string>() + "  " +
                                                            i["key"].get<std::string>())
                        << "  " << i["given_name"].get<std::string>() << " "
                        << i["family_name"].get<std::string>() << "  born "
                        << i["date_of_birth"].get<std::string>();
              if (!i["candidates"].empty()) {
                std::printf("  best: child %" PRIu64 " (%.2f)",
                            i["candidates"][0]["child_id"].get<uint64_t>(),
                            i["candidates"][0]["score"].get<double>());
              }
              std::cout << "  " << i["reason"].get<std::string>() << "\n";
            }
            std::cout << l->waiting() << " waiting\n";
            return kExitOk;
          });
    };
  });
  for (bool link : {true, false}) {
    static std::string id_text[2], child_text, reason[2];
    const int i = link ? 0 : 1;
    auto* cmd = review->add_subcommand(
        link ? "link" : "new", link ? "the record is this child: link it"
                                    : "the record is a child of its own (shielded if it may be "
                                      "a shielded child's)");
    cmd->add_option("review_id", id_text[i], "review item id")->required();
    if (link) cmd->add_option("child_id", child_text, "the child it is")->required();
    cmd->add_option("--reason", reason[i], "stated reason (required, recorded in the audit trail)")
        ->required();
    cmd->add_flag("--json", Flags().json, "print one JSON object");
    cmd->callback([run, i, link] {
      *run = [i, link] {
        auto id = ParseId(id_text[i]);
        if (!id.ok()) return Fail("'" + id_text[i] + "' is not a review id", kExitUsage);
        uint64_t child = 0;
        if (link) {
          auto c = ParseId(child_text);
          if (!c.ok()) return Fail(c.status().message(), kExitUsage);
          child = *c;
        }
        if (Blank(reason[i])) return Fail("a reason is required", kExitUsage);
        return RunCall(
            true, [&](server::Client& c) { return c.ReviewResolve(*id, child, reason[i]); },
            [](server::Client&, const server::Response& r) {
              const auto* res = r.envelope().body_as_ReviewResolveResult();
              if (Flags().json) {
                std::cout << json{{"status", "ok"},
                                  {"review_id", res->review_id()},
                                  {"child_id", res->child_id()},
                                  {"created", res->created()},
                                  {"shielded", res->shielded()}}
                                 .dump(2)
                          << "\n";
              } else {
                std::cout << "review " << res->review_id()
                          << (res->created() ? " made a new child " : " linked to child ")
                          << res->child_id() << (res->shielded() ? " [SHIELDED]" : "") << "\n";
              }
              return kExitOk;
            });
      };
    });
  }
}

int PrintOrganisation(const server::Response& r) {
  const auto* o = r.envelope().body_as_OrganisationResult();
  std::vector<std::string> ranges;
  if (o->ranges()) {
    for (const auto* x : *o->ranges()) ranges.push_back(x->str());
  }
  if (Flags().json) {
    std::cout << json{{"status", "ok"},
                      {"id", Text(o->organisation())},
                      {"name", Text(o->display_name())},
                      {"ranges", ranges}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << "organisation " << Text(o->organisation()) << "  \"" << Text(o->display_name())
              << "\"  ranges:";
    for (const auto& x : ranges) std::cout << " " << x;
    std::cout << (ranges.empty() ? " none\n" : "\n");
  }
  return kExitOk;
}

int PrintUser(const server::Response& r) {
  const auto* u = r.envelope().body_as_AccountResult();
  if (Flags().json) {
    std::cout << json{{"status", "ok"},
                      {"user", Text(u->user())},
                      {"organisation", Text(u->organisation())},
                      {"role", Text(u->role())},
                      {"locked", u->locked()}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << "user " << Text(u->user()) << "  org " << Text(u->organisation()) << "  role "
              << Text(u->role()) << (u->locked() ? "  LOCKED" : "") << "\n";
  }
  return kExitOk;
}

void AddAccount(CLI::App* client, std::function<int()>* run) {
  auto* account = client->add_subcommand(
      "account", "organisations, IP ranges and users on the server (system administrators)");
  account->require_subcommand(1);

  static std::string org, name;
  static std::vector<std::string> ranges;
  auto* org_add = account->add_subcommand("org-add", "register an organisation");
  org_add->add_option("--org", org, "organisation id: a-z, 0-9, '_', '-'")->required();
  org_add->add_option("--name", name, "display name")->required();
  org_add->add_option("--range", ranges, "a registered range (CIDR); repeat for more");
  org_add->add_flag("--json", Flags().json, "print one JSON object");
  org_add->callback([run] {
    *run = [] {
      return RunCall(
          true, [](server::Client& c) { return c.CreateOrganisation(org, name, ranges); },
          [](server::Client&, const server::Response& r) { return PrintOrganisation(r); });
    };
  });

  static std::string range_org, cidr;
  auto* range_add = account->add_subcommand("range-add", "register an IP range (CIDR)");
  range_add->add_option("--org", range_org, "organisation id")->required();
  range_add->add_option("cidr", cidr, "range, e.g. 192.0.2.0/24 or 2001:db8::/48")->required();
  range_add->add_flag("--json", Flags().json, "print one JSON object");
  range_add->callback([run] {
    *run = [] {
      return RunCall(
          true, [](server::Client& c) { return c.AddAddressRange(range_org, cidr); },
          [](server::Client&, const server::Response& r) { return PrintOrganisation(r); });
    };
  });

  static std::string user, user_org, role, password_file;
  auto* user_add = account->add_subcommand(
      "user-add", "create a user; prints the TOTP secret once (password from --password-file)");
  user_add->add_option("--user", user, "user name")->required();
  user_add->add_option("--org", user_org, "organisation id")->required();
  user_add->add_option("--role", role, "role (see `contactpoint account roles`)")->required();
  user_add->add_option("--password-file", password_file, "file whose first line is the password")
      ->required();
  user_add->add_flag("--json", Flags().json, "print one JSON object");
  user_add->callback([run] {
    *run = [] {
      auto password = ReadPasswordFile(password_file);
      if (!password.ok()) return Fail(password.status().message(), kExitUsage);
      return RunCall(
          true, [&](server::Client& c) { return c.CreateUser(user, user_org, role, *password); },
          [](server::Client&, const server::Response& r) {
            const auto* u = r.envelope().body_as_NewUserResult();
            if (Flags().json) {
              std::cout << json{{"status", "ok"},
                                {"user", Text(u->user())},
                                {"organisation", Text(u->organisation())},
                                {"role", Text(u->role())},
                                {"totp_secret", Text(u->totp_secret())},
                                {"totp_uri", Text(u->totp_uri())}}
                               .dump(2)
                        << "\n";
            } else {
              std::cout << "user " << Text(u->user()) << " added to " << Text(u->organisation())
                        << " as " << Text(u->role()) << "\n"
                        << "TOTP secret (shown once; enter it in the user's authenticator app): "
                        << Text(u->totp_secret()) << "\n"
                        << Text(u->totp_uri()) << "\n";
            }
            return kExitOk;
          });
    };
  });

  static std::string role_user, new_role;
  auto* set_role = account->add_subcommand("set-role", "give a user another role");
  set_role->add_option("--user", role_user, "user name")->required();
  set_role->add_option("--role", new_role, "role")->required();
  set_role->add_flag("--json", Flags().json, "print one JSON object");
  set_role->callback([run] {
    *run = [] {
      return RunCall(
          true, [](server::Client& c) { return c.SetUserRole(role_user, new_role); },
          [](server::Client&, const server::Response& r) { return PrintUser(r); });
    };
  });

  // unlock and lock, as `contactpoint account unlock|lock` on the host.
  for (bool unlock : {true, false}) {
    static std::string lock_user[2];
    const int i = unlock ? 0 : 1;
    auto* cmd = account->add_subcommand(
        unlock ? "unlock" : "lock",
        unlock ? "unlock a user and clear the failure count"
               : "lock a user out (a leaver, a suspected compromise); their sessions end at once");
    cmd->add_option("--user", lock_user[i], "user name")->required();
    cmd->add_flag("--json", Flags().json, "print one JSON object");
    cmd->callback([run, i, unlock] {
      *run = [i, unlock] {
        return RunCall(
            true,
            [i, unlock](server::Client& c) {
              return unlock ? c.UnlockUser(lock_user[i]) : c.LockUser(lock_user[i]);
            },
            [](server::Client&, const server::Response& r) { return PrintUser(r); });
      };
    });
  }
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
  AddFeed(client, run);
  AddReview(client, run);
  AddAccount(client, run);
}

}  // namespace cp
