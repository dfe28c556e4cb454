#include "index/features.h"

#include <algorithm>

#include <xxhash.h>

#include "index/name_analysis.h"
#include "util/coding.h"

namespace cp {
namespace {

void AppendName(NameRole role, std::string_view raw, std::string* out) {
  const NameView name = AnalyzeName(raw);
  if (name.empty()) return;
  out->push_back(static_cast<char>(role));
  const size_t length_pos = out->size();
  out->push_back(0);
  size_t length = 0;  // the parts joined by single spaces, cut at 255 bytes
  name.ForEachPart([&](const NamePartView& p) {
    if (length > 0 && length < 255) {
      out->push_back(' ');
      ++length;
    }
    const size_t n = std::min(p.part.size(), 255 - length);
    out->append(p.part.substr(0, n));
    length += n;
  });
  (*out)[length_pos] = static_cast<char>(length);
  size_t count_pos = out->size();
  out->push_back(0);
  uint8_t count = 0;
  name.ForEachPart([&](const NamePartView& p) {
    if (count == 255 || p.primary.empty()) return;
    out->push_back(static_cast<char>(p.primary.size()));
    out->append(p.primary);
    ++count;
  });
  (*out)[count_pos] = static_cast<char>(count);
}

constexpr uint8_t kIdentifierTag = 0x80;
constexpr uint8_t kHasNhs = 1;
constexpr uint8_t kHasUpn = 2;

}  // namespace

uint8_t IdentifierDigest(std::string_view identifier) {
  return static_cast<uint8_t>(XXH3_64bits(identifier.data(), identifier.size()));
}

void EncodeCandidateFeatures(const ChildRecord& r, std::string* out) {
  out->push_back(static_cast<char>(r.gender));
  PutBigEndian16(out, static_cast<uint16_t>(r.date_of_birth.year));
  out->push_back(static_cast<char>(r.date_of_birth.month));
  out->push_back(static_cast<char>(r.date_of_birth.day));
  AppendName(NameRole::kGiven, r.given_name, out);
  AppendName(NameRole::kMiddle, r.middle_names, out);
  AppendName(NameRole::kFamily, r.family_name, out);
  for (const auto& former : r.former_family_names) AppendName(NameRole::kFormerFamily, former, out);
  out->push_back(static_cast<char>(kIdentifierTag | (r.nhs_number.empty() ? 0 : kHasNhs) |
                                   (r.pupil_number.empty() ? 0 : kHasUpn)));
  if (!r.nhs_number.empty()) out->push_back(static_cast<char>(IdentifierDigest(r.nhs_number)));
  if (!r.pupil_number.empty()) out->push_back(static_cast<char>(IdentifierDigest(r.pupil_number)));
}

bool FeatureView::Parse(std::string_view bytes) {
  if (bytes.size() < 5) return false;
  uint8_t g = static_cast<uint8_t>(bytes[0]);
  if (g > static_cast<uint8_t>(Gender::kFemale)) return false;
  gender_ = static_cast<Gender>(g);
  dob_ = Date{static_cast<int16_t>(DecodeBigEndian16(bytes.data() + 1)),
              static_cast<uint8_t>(bytes[3]), static_cast<uint8_t>(bytes[4])};
  names_ = bytes.substr(5);
  carries_identifiers_ = false;
  nhs_digest_.reset();
  upn_digest_.reset();
  // Validate the whole name list once so that iteration never reads out of bounds.
  size_t pos = 0;
  NameField field;
  while (NextName(&pos, &field)) {
  }
  if (pos == names_.size()) return true;
  // The identifier section: a tag saying which numbers the child holds, then their digests.
  const auto tag = static_cast<uint8_t>(names_[pos]);
  if ((tag & ~(kHasNhs | kHasUpn)) != kIdentifierTag) return false;
  const size_t digests = ((tag & kHasNhs) ? 1 : 0) + ((tag & kHasUpn) ? 1 : 0);
  if (names_.size() - pos - 1 != digests) return false;
  size_t d = pos + 1;
  if (tag & kHasNhs) nhs_digest_ = static_cast<uint8_t>(names_[d++]);
  if (tag & kHasUpn) upn_digest_ = static_cast<uint8_t>(names_[d++]);
  carries_identifiers_ = true;
  names_ = names_.substr(0, pos);
  return true;
}

std::string_view FeatureView::WithoutIdentifiers(std::string_view bytes) {
  FeatureView v;
  if (!v.Parse(bytes) || !v.carries_identifiers_) return bytes;
  return bytes.substr(0, 5 + v.names_.size());
}

bool FeatureView::NextName(size_t* pos, NameField* field) const {
  size_t p = *pos;
  if (p + 2 > names_.size()) return false;
  uint8_t role = static_cast<uint8_t>(names_[p]);
  size_t len = static_cast<uint8_t>(names_[p + 1]);
  if (role > static_cast<uint8_t>(NameRole::kFormerFamily) || p + 2 + len + 1 > names_.size()) {
    return false;
  }
  field->role = static_cast<NameRole>(role);
  field->name = names_.substr(p + 2, len);
  field->code_count = static_cast<uint8_t>(names_[p + 2 + len]);
  size_t codes_begin = p + 3 + len;
  size_t q = codes_begin;
  for (uint8_t i = 0; i < field->code_count; ++i) {
    if (q >= names_.size()) return false;
    size_t clen = static_cast<uint8_t>(names_[q]);
    if (q + 1 + clen > names_.size()) return false;
    q += 1 + clen;
  }
  field->codes = names_.substr(codes_begin, q - codes_begin);
  *pos = q;
  return true;
}

bool FeatureView::NextCode(std::string_view codes, size_t* pos, std::string_view* code) {
  if (*pos >= codes.size()) return false;
  size_t len = static_cast<uint8_t>(codes[*pos]);
  *code = codes.substr(*pos + 1, len);
  *pos += 1 + len;
  return true;
}

}  // namespace cp
