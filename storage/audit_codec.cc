// Audit entry and index encodings (docs/key_format.md, "audit" and "audit_index").
#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "storage/audit_internal.h"
#include "util/coding.h"

namespace cp::audit {
namespace {

constexpr uint8_t kVersion = 0x01;
constexpr size_t kMaxShortField = 255;
constexpr size_t kMaxTextField = 64 * 1024;
constexpr size_t kMaxChildren = 100000;

std::string SealedAssociatedData(uint64_t sequence) { return "audit:" + BigEndian64(sequence); }

bool ReasonRequired(AuditAction action) {
  switch (action) {
    case AuditAction::kSearch:
    case AuditAction::kView:
    case AuditAction::kShield:
    case AuditAction::kUnshield:
    case AuditAction::kBreakGlass:
      return true;
    default:
      return false;
  }
}

bool KnownAction(uint8_t v) { return v >= 1 && v <= 12; }
bool KnownOutcome(uint8_t v) { return v >= 1 && v <= 4; }

void PutShort(std::string* out, std::string_view s) {
  out->push_back(static_cast<char>(s.size()));
  out->append(s);
}

}  // namespace

std::string EntryKey(uint64_t sequence) { return BigEndian64(sequence); }

std::string ChildIndexPrefix(ChildId child) { return kChildTag + BigEndian64(child); }

std::string UserIndexPrefix(std::string_view user) {
  std::string p(1, kUserTag);
  PutShort(&p, user);
  return p;
}

std::string IndexKey(std::string_view prefix, int64_t time_micros, uint64_t sequence) {
  std::string key(prefix);
  PutBigEndian64(&key, static_cast<uint64_t>(time_micros));
  PutBigEndian64(&key, sequence);
  return key;
}

bool DecodeIndexTail(std::string_view key, size_t prefix_len, int64_t* time_micros,
                     uint64_t* sequence) {
  if (key.size() != prefix_len + 16) return false;
  *time_micros = static_cast<int64_t>(DecodeBigEndian64(key.data() + prefix_len));
  *sequence = DecodeBigEndian64(key.data() + prefix_len + 8);
  return true;
}

Status ValidateEntry(const AuditEntry& e) {
  if (e.time_micros < 0) return Status::InvalidArgument("audit entry time is negative");
  if (e.user.size() > kMaxShortField || e.organisation.size() > kMaxShortField ||
      e.source_address.size() > kMaxShortField) {
    return Status::InvalidArgument("audit entry user, organisation or address over 255 bytes");
  }
  if (e.reason.size() > kMaxTextField || e.criteria.size() > kMaxTextField) {
    return Status::InvalidArgument("audit entry reason or criteria over 64 KiB");
  }
  if (e.children.size() > kMaxChildren) {
    return Status::InvalidArgument("audit entry names over 100,000 children");
  }
  if (!KnownAction(static_cast<uint8_t>(e.action)) ||
      !KnownOutcome(static_cast<uint8_t>(e.outcome))) {
    return Status::InvalidArgument("audit entry has an unknown action or outcome");
  }
  const bool refused = e.outcome == AuditOutcome::kRefused;
  if (refused != (e.refusal != AuditRefusal::kNone)) {
    return Status::InvalidArgument("a refusal code goes with outcome 'refused', and only with it");
  }
  if (e.outcome == AuditOutcome::kTooManyMatches && !e.children.empty()) {
    return Status::InvalidArgument("a too-many-matches entry returns no children");
  }
  if (!refused && ReasonRequired(e.action) &&
      e.reason.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Status::InvalidArgument(std::string("a ") + AuditActionName(e.action) +
                                   " needs a stated reason");
  }
  return Status::OK();
}

std::string EncodeBody(const AuditEntry& e, uint64_t sequence, const Crypto& crypto) {
  std::string sealed_plain;
  PutBigEndian32(&sealed_plain, static_cast<uint32_t>(e.reason.size()));
  sealed_plain.append(e.reason);
  sealed_plain.append(e.criteria);
  std::string sealed = crypto.Seal(sealed_plain, SealedAssociatedData(sequence));

  std::string out;
  out.reserve(64 + e.user.size() + e.organisation.size() + 8 * e.children.size() + sealed.size());
  out.push_back(static_cast<char>(kVersion));
  PutBigEndian64(&out, static_cast<uint64_t>(e.time_micros));
  out.push_back(static_cast<char>(e.action));
  out.push_back(static_cast<char>(e.outcome));
  out.push_back(static_cast<char>(e.refusal));
  PutShort(&out, e.user);
  PutShort(&out, e.organisation);
  PutShort(&out, e.source_address);
  PutBigEndian32(&out, static_cast<uint32_t>(e.children.size()));
  for (ChildId c : e.children) PutBigEndian64(&out, c);
  PutBigEndian32(&out, static_cast<uint32_t>(sealed.size()));
  out.append(sealed);
  return out;
}

std::string ChainHash(std::string_view previous, std::string_view key, std::string_view body) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::string out(kHashBytes, '\0');
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), previous.data(), previous.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), key.data(), key.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), body.data(), body.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len) != 1 ||
      len != kHashBytes) {
    // As in crypto.cc: only a broken library fails here, and a wrong hash would be stored.
    std::fprintf(stderr, "contactpoint: fatal: SHA-256 failed\n");
    std::abort();
  }
  return out;
}

Status DecodeValue(std::string_view value, uint64_t sequence, const Crypto* crypto, AuditEntry* e,
                   std::string_view* body, std::string_view* hash) {
  const std::string where = "audit entry " + std::to_string(sequence);
  if (value.size() < kHashBytes) return Status::Corruption(where + " is truncated");
  *body = value.substr(0, value.size() - kHashBytes);
  *hash = value.substr(value.size() - kHashBytes);
  ByteReader in(*body);
  uint8_t version = 0, action = 0, outcome = 0, refusal = 0, len = 0;
  uint64_t time = 0;
  uint32_t count = 0, sealed_len = 0;
  std::string_view sealed;
  bool ok = in.Byte(&version) && version == kVersion && in.U64(&time) && in.Byte(&action) &&
            KnownAction(action) && in.Byte(&outcome) && KnownOutcome(outcome) &&
            in.Byte(&refusal) && in.Byte(&len) && in.Bytes(len, &e->user) && in.Byte(&len) &&
            in.Bytes(len, &e->organisation) && in.Byte(&len) && in.Bytes(len, &e->source_address) &&
            in.U32(&count) && count <= kMaxChildren && in.remaining() >= size_t{8} * count;
  e->children.clear();
  for (uint32_t i = 0; ok && i < count; ++i) {
    uint64_t c = 0;
    ok = in.U64(&c);
    e->children.push_back(c);
  }
  ok = ok && in.U32(&sealed_len) && in.View(sealed_len, &sealed) && in.empty();
  if (!ok) return Status::Corruption(where + " does not decode");
  e->sequence = sequence;
  e->time_micros = static_cast<int64_t>(time);
  e->action = static_cast<AuditAction>(action);
  e->outcome = static_cast<AuditOutcome>(outcome);
  e->refusal = static_cast<AuditRefusal>(refusal);
  e->reason.clear();
  e->criteria.clear();
  if (crypto == nullptr) return Status::OK();
  auto plain = crypto->Open(sealed, SealedAssociatedData(sequence));
  if (!plain.ok()) return Status::Corruption(where + ": sealed reason does not open");
  uint32_t reason_len = plain->size() >= 4 ? DecodeBigEndian32(plain->data()) : UINT32_MAX;
  if (reason_len > plain->size() - 4) {
    return Status::Corruption(where + ": sealed reason is malformed");
  }
  e->reason = plain->substr(4, reason_len);
  e->criteria = plain->substr(4 + reason_len);
  return Status::OK();
}

}  // namespace cp::audit

namespace cp {

const char* AuditActionName(AuditAction action) {
  switch (action) {
    case AuditAction::kLogin:
      return "login";
    case AuditAction::kLogout:
      return "logout";
    case AuditAction::kSearch:
      return "search";
    case AuditAction::kView:
      return "view";
    case AuditAction::kShield:
      return "shield";
    case AuditAction::kUnshield:
      return "unshield";
    case AuditAction::kBreakGlass:
      return "break-glass";
    case AuditAction::kFeedBatch:
      return "feed-batch";
    case AuditAction::kReview:
      return "review";
    case AuditAction::kAdmin:
      return "admin";
    case AuditAction::kRetention:
      return "retention";
    case AuditAction::kBackup:
      return "backup";
  }
  return "unknown";
}

const char* AuditOutcomeName(AuditOutcome outcome) {
  switch (outcome) {
    case AuditOutcome::kOk:
      return "ok";
    case AuditOutcome::kTooManyMatches:
      return "too-many-matches";
    case AuditOutcome::kRefused:
      return "refused";
    case AuditOutcome::kError:
      return "error";
  }
  return "unknown";
}

const char* AuditRefusalName(AuditRefusal refusal) {
  switch (refusal) {
    case AuditRefusal::kNone:
      return "none";
    case AuditRefusal::kUnregisteredAddress:
      return "unregistered-address";
    case AuditRefusal::kBadCredentials:
      return "bad-credentials";
    case AuditRefusal::kLocked:
      return "locked";
    case AuditRefusal::kBadCode:
      return "bad-code";
    case AuditRefusal::kNotPermitted:
      return "not-permitted";
    case AuditRefusal::kQuotaExceeded:
      return "quota-exceeded";
    case AuditRefusal::kRateLimited:
      return "rate-limited";
    case AuditRefusal::kMissingReason:
      return "missing-reason";
    case AuditRefusal::kInvalidCriteria:
      return "invalid-criteria";
    case AuditRefusal::kNotFound:
      return "not-found";
    case AuditRefusal::kSessionExpired:
      return "session-expired";
    case AuditRefusal::kOther:
      return "other";
  }
  return "unknown";
}

}  // namespace cp
