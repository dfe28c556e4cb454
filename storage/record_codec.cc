#include "storage/record_codec.h"

#include <flatbuffers/flatbuffers.h>

#include <cstddef>
#include <cstdint>

#include "storage/child_record_generated.h"

namespace cp {
namespace {

std::string Str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

// The calling thread's builder, cleared. A builder made for each record allocated its
// buffer and grew it twice (a copy each time) for a typical record; an import encodes two
// tables a child. Encoders do not nest, so one builder a thread serves them all.
flatbuffers::FlatBufferBuilder& ThreadBuilder() {
  thread_local flatbuffers::FlatBufferBuilder fbb(1024);
  fbb.Clear();
  return fbb;
}

template <typename T>
std::string Finish(flatbuffers::FlatBufferBuilder& fbb, flatbuffers::Offset<T> root) {
  fbb.Finish(root);
  std::string bytes(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
  // A rare huge record (thousands of names) is not worth keeping memory for.
  if (bytes.size() > (size_t{64} << 10)) fbb.Reset();
  return bytes;
}

// FlatBuffers reads scalars in place and needs the buffer 8-byte aligned; a RocksDB value
// (an iterator's, a pinned block's) sits at any offset. Misaligned bytes are copied into
// `*aligned` first, whose storage std::string allocates with malloc's alignment.
std::string_view Aligned(std::string_view bytes, std::string* aligned) {
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(std::max_align_t) == 0) return bytes;
  aligned->assign(bytes.data(), bytes.size());
  return *aligned;
}

template <typename T>
const T* Verified(std::string_view bytes) {
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!verifier.VerifyBuffer<T>(nullptr)) return nullptr;
  return flatbuffers::GetRoot<T>(bytes.data());
}

}  // namespace

std::string EncodeChildRecord(const ChildRecord& r) {
  flatbuffers::FlatBufferBuilder& fbb = ThreadBuilder();
  std::vector<flatbuffers::Offset<flatbuffers::String>> former;
  for (const auto& name : r.former_family_names) former.push_back(fbb.CreateString(name));
  std::vector<flatbuffers::Offset<fb::SourceRefFb>> sources;
  for (const auto& s : r.sources) {
    sources.push_back(fb::CreateSourceRefFb(fbb, fbb.CreateString(s.source), fbb.CreateString(s.key)));
  }
  std::vector<flatbuffers::Offset<fb::FieldSourceFb>> provenance;
  for (const auto& p : r.provenance) {
    provenance.push_back(
        fb::CreateFieldSourceFb(fbb, fbb.CreateString(p.field), fbb.CreateString(p.source)));
  }
  auto shield = fb::CreateShieldFb(fbb, r.shield.shielded, fbb.CreateString(r.shield.by),
                                   fbb.CreateString(r.shield.reason), r.shield.since_unix);
  fb::DateFb dob(r.date_of_birth.year, r.date_of_birth.month, r.date_of_birth.day);
  fb::DateFb dod(r.date_of_death.year, r.date_of_death.month, r.date_of_death.day);
  fb::DateFb archived(r.lifecycle.archived_on.year, r.lifecycle.archived_on.month,
                      r.lifecycle.archived_on.day);
  auto root = fb::CreateChildRecordFb(
      fbb, r.id, fbb.CreateString(r.given_name), fbb.CreateString(r.middle_names),
      fbb.CreateString(r.family_name), fbb.CreateVector(former), &dob,
      static_cast<uint8_t>(r.gender), fbb.CreateString(r.nhs_number),
      fbb.CreateString(r.pupil_number), shield, fbb.CreateVector(sources),
      fbb.CreateVector(provenance), r.date_of_death.empty() ? nullptr : &dod,
      r.lifecycle.consent_to_25, r.lifecycle.archived() ? &archived : nullptr,
      r.lifecycle.consent_sensitive_services);
  return Finish(fbb, root);
}

Result<ChildRecord> DecodeChildRecord(std::string_view raw) {
  std::string copy;
  std::string_view bytes = Aligned(raw, &copy);
  const auto* fb = Verified<fb::ChildRecordFb>(bytes);
  if (fb == nullptr) return Status::Corruption("child record does not verify");
  ChildRecord r;
  r.id = fb->id();
  r.given_name = Str(fb->given_name());
  r.middle_names = Str(fb->middle_names());
  r.family_name = Str(fb->family_name());
  if (fb->former_family_names()) {
    for (const auto* s : *fb->former_family_names()) r.former_family_names.push_back(Str(s));
  }
  if (const auto* d = fb->date_of_birth()) r.date_of_birth = Date{d->year(), d->month(), d->day()};
  if (const auto* d = fb->date_of_death()) r.date_of_death = Date{d->year(), d->month(), d->day()};
  r.lifecycle.consent_to_25 = fb->consent_to_25();
  r.lifecycle.consent_sensitive_services = fb->consent_sensitive_services();
  if (const auto* d = fb->archived_on()) r.lifecycle.archived_on = Date{d->year(), d->month(), d->day()};
  if (fb->gender() > static_cast<uint8_t>(Gender::kFemale)) {
    return Status::Corruption("child record has an unknown gender code");
  }
  r.gender = static_cast<Gender>(fb->gender());
  r.nhs_number = Str(fb->nhs_number());
  r.pupil_number = Str(fb->pupil_number());
  if (const auto* s = fb->shield()) {
    r.shield = ShieldState{s->shielded(), Str(s->by()), Str(s->reason()), s->since_unix()};
  }
  if (fb->sources()) {
    for (const auto* s : *fb->sources()) r.sources.push_back({Str(s->source()), Str(s->key())});
  }
  if (fb->provenance()) {
    for (const auto* p : *fb->provenance()) r.provenance.push_back({Str(p->field()), Str(p->source())});
  }
  return r;
}

std::string EncodeHiddenFields(const HiddenFields& h) {
  flatbuffers::FlatBufferBuilder& fbb = ThreadBuilder();
  std::vector<flatbuffers::Offset<fb::ServiceContactFb>> services;
  for (const auto& s : h.services) {
    services.push_back(fb::CreateServiceContactFb(fbb, static_cast<uint8_t>(s.kind),
                                                  fbb.CreateString(s.name),
                                                  fbb.CreateString(s.contact_point)));
  }
  auto root = fb::CreateHiddenFieldsFb(fbb, fbb.CreateString(h.address),
                                       fbb.CreateString(h.postcode),
                                       fbb.CreateString(h.parent_name),
                                       fbb.CreateString(h.parent_phone), fbb.CreateVector(services));
  return Finish(fbb, root);
}

Result<HiddenFields> DecodeHiddenFields(std::string_view raw) {
  std::string copy;
  const auto* fb = Verified<fb::HiddenFieldsFb>(Aligned(raw, &copy));
  if (fb == nullptr) return Status::Corruption("hidden fields do not verify");
  HiddenFields h;
  h.address = Str(fb->address());
  h.postcode = Str(fb->postcode());
  h.parent_name = Str(fb->parent_name());
  h.parent_phone = Str(fb->parent_phone());
  if (fb->services()) {
    for (const auto* s : *fb->services()) {
      if (s->kind() > static_cast<uint8_t>(kLastServiceKind)) {
        return Status::Corruption("hidden fields hold an unknown service kind");
      }
      h.services.push_back({static_cast<ServiceKind>(s->kind()), Str(s->name()), Str(s->contact_point())});
    }
  }
  return h;
}

}  // namespace cp
