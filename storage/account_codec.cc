// Stored forms of organisations and users (docs/key_format.md, "accounts").
#include "storage/accounts_internal.h"
#include "util/coding.h"

namespace cp {
namespace {

constexpr uint8_t kAccountVersion = 0x01;

void PutBytes16(std::string* out, std::string_view bytes) {
  PutBigEndian16(out, static_cast<uint16_t>(bytes.size()));
  out->append(bytes);
}

}  // namespace

namespace account_keys {
std::string Organisation(std::string_view id) { return kOrganisationTag + std::string(id); }
std::string User(std::string_view user) { return kUserTag + std::string(user); }
std::string Quota(std::string_view user) { return kQuotaTag + std::string(user); }
}  // namespace account_keys

std::string TotpAssociatedData(std::string_view user) { return "totp:" + std::string(user); }

std::string EncodeOrganisation(const Organisation& org) {
  std::string out(1, static_cast<char>(kAccountVersion));
  PutBytes16(&out, org.display_name);
  PutBigEndian16(&out, static_cast<uint16_t>(org.ranges.size()));
  for (const Cidr& r : org.ranges) {
    out.push_back(r.base.v6 ? 6 : 4);
    out.push_back(static_cast<char>(r.prefix));
    out.append(reinterpret_cast<const char*>(r.base.bytes.data()), r.base.size());
  }
  return out;
}

Result<Organisation> DecodeOrganisation(std::string_view id, std::string_view value) {
  ByteReader in(value);
  Organisation org;
  org.id = id;
  uint8_t version = 0;
  uint16_t name_len = 0, count = 0;
  bool ok = in.Byte(&version) && version == kAccountVersion && in.U16(&name_len) &&
            in.Bytes(name_len, &org.display_name) && in.U16(&count);
  for (uint16_t i = 0; ok && i < count; ++i) {
    uint8_t family = 0, prefix = 0;
    std::string bytes;
    ok = in.Byte(&family) && (family == 4 || family == 6) && in.Byte(&prefix) &&
         prefix <= (family == 4 ? 32 : 128) && in.Bytes(family == 4 ? 4 : 16, &bytes);
    if (!ok) break;
    Cidr cidr;
    cidr.base.v6 = family == 6;
    std::copy(bytes.begin(), bytes.end(), cidr.base.bytes.begin());
    cidr.prefix = prefix;
    org.ranges.push_back(cidr);
  }
  if (!ok || !in.empty()) {
    return Status::Corruption("organisation record '" + org.id + "' does not decode");
  }
  return org;
}

std::string EncodeUser(const UserRecord& u) {
  std::string out(1, static_cast<char>(kAccountVersion));
  out.push_back(static_cast<char>(u.account.role));
  out.push_back(u.account.locked ? 1 : 0);
  PutBigEndian32(&out, u.account.failed_attempts);
  PutBigEndian64(&out, u.last_code_step);
  out.push_back(static_cast<char>(u.account.organisation.size()));
  out.append(u.account.organisation);
  PutBytes16(&out, u.password_hash);
  PutBytes16(&out, u.sealed_secret);
  return out;
}

Result<UserRecord> DecodeUser(std::string_view user, std::string_view value) {
  ByteReader in(value);
  UserRecord u;
  u.account.user = user;
  uint8_t version = 0, role = 0, locked = 0, org_len = 0;
  uint16_t hash_len = 0, secret_len = 0;
  bool ok = in.Byte(&version) && version == kAccountVersion && in.Byte(&role) &&
            RoleFromByte(role) && in.Byte(&locked) && locked <= 1 &&
            in.U32(&u.account.failed_attempts) && in.U64(&u.last_code_step) && in.Byte(&org_len) &&
            in.Bytes(org_len, &u.account.organisation) && in.U16(&hash_len) &&
            in.Bytes(hash_len, &u.password_hash) && in.U16(&secret_len) &&
            in.Bytes(secret_len, &u.sealed_secret) && in.empty();
  if (!ok) return Status::Corruption("user record '" + u.account.user + "' does not decode");
  u.account.role = static_cast<Role>(role);
  u.account.locked = locked == 1;
  return u;
}

}  // namespace cp
