#include "server/records.h"

#include <algorithm>

namespace cp::server {

namespace fb = protocol;
using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

namespace {

Offset<fb::Hidden> HiddenToFb(FlatBufferBuilder& fbb, const HiddenFields& h) {
  std::vector<Offset<fb::Service>> services;
  std::string school, gp;
  for (const auto& s : h.services) {
    if (s.kind == ServiceKind::kSchool && school.empty()) school = s.name;
    if (s.kind == ServiceKind::kGpPractice && gp.empty()) gp = s.name;
    services.push_back(fb::CreateServiceDirect(fbb, ServiceKindName(s.kind), s.name.c_str(),
                                               s.contact_point.c_str()));
  }
  return fb::CreateHiddenDirect(fbb, h.address.c_str(), h.postcode.c_str(), h.parent_name.c_str(),
                                h.parent_phone.c_str(), school.c_str(), gp.c_str(), &services);
}

}  // namespace

Offset<fb::Child> ChildToFb(FlatBufferBuilder& fbb, const ChildView& view, double score) {
  const ChildRecord& r = view.record;
  Offset<fb::Hidden> hidden;
  if (view.hidden) hidden = HiddenToFb(fbb, *view.hidden);
  std::vector<Offset<flatbuffers::String>> former;
  for (const auto& f : r.former_family_names) former.push_back(fbb.CreateString(f));
  std::vector<Offset<fb::FieldSource>> provenance;
  for (const auto& p : r.provenance) {
    provenance.push_back(fb::CreateFieldSourceDirect(fbb, p.field.c_str(), p.source.c_str()));
  }
  std::vector<Offset<fb::SourceRef>> sources;
  for (const auto& s : r.sources) {
    sources.push_back(fb::CreateSourceRefDirect(fbb, s.source.c_str(), s.key.c_str()));
  }
  const std::string dob = r.date_of_birth.empty() ? "" : r.date_of_birth.ToString();
  const std::string archived =
      r.lifecycle.archived() ? r.lifecycle.archived_on.ToString() : std::string();
  return fb::CreateChildDirect(fbb, r.id, score, r.shield.shielded, r.given_name.c_str(),
                               r.middle_names.c_str(), r.family_name.c_str(), &former, dob.c_str(),
                               GenderCode(r.gender), r.nhs_number.c_str(), r.pupil_number.c_str(),
                               hidden, &provenance, &sources,
                               archived.empty() ? nullptr : archived.c_str());
}

ChildView ChildFromFb(const fb::Child& c, double* score) {
  ChildView view;
  ChildRecord& r = view.record;
  r.id = c.child_id();
  if (score) *score = c.score();
  r.shield.shielded = c.shielded();
  r.given_name = Str(c.given_name());
  r.middle_names = Str(c.middle_names());
  r.family_name = Str(c.family_name());
  if (c.former_family_names()) {
    for (const auto* f : *c.former_family_names()) r.former_family_names.push_back(Str(f));
  }
  if (auto d = ParseDate(Str(c.date_of_birth())); d.ok()) r.date_of_birth = *d;
  if (auto d = ParseDate(Str(c.archived_on())); d.ok()) r.lifecycle.archived_on = *d;
  r.gender = ParseGender(Str(c.gender()) == "U" ? "" : Str(c.gender())).value_or(Gender::kUnknown);
  r.nhs_number = Str(c.nhs_number());
  r.pupil_number = Str(c.pupil_number());
  if (c.provenance()) {
    for (const auto* p : *c.provenance())
      r.provenance.push_back({Str(p->field()), Str(p->source())});
  }
  if (c.sources()) {
    for (const auto* s : *c.sources()) r.sources.push_back({Str(s->source()), Str(s->key())});
  }
  if (const fb::Hidden* h = c.hidden()) {
    HiddenFields hidden;
    hidden.address = Str(h->address());
    hidden.postcode = Str(h->postcode());
    hidden.parent_name = Str(h->parent_name());
    hidden.parent_phone = Str(h->parent_phone());
    if (h->services()) {
      for (const auto* s : *h->services()) {
        hidden.services.push_back({ParseServiceKind(Str(s->kind())).value_or(ServiceKind::kOther),
                                   Str(s->name()), Str(s->contact_point())});
      }
    }
    view.hidden = std::move(hidden);
  }
  return view;
}

Result<SearchCriteria> CriteriaFromFb(const fb::Criteria* in, size_t cap) {
  SearchCriteria c;
  if (in == nullptr)
    return Status::InvalidArgument(std::string("no criteria; ") + kAcceptedCriteria);
  c.given_name = Str(in->given_name());
  c.family_name = Str(in->family_name());
  c.postcode = Str(in->postcode());
  c.nhs_number = Str(in->nhs_number());
  c.pupil_number = Str(in->pupil_number());
  for (auto [text, slot] :
       {std::pair{in->date_of_birth(), &c.date_of_birth}, std::pair{in->dob_from(), &c.dob_from},
        std::pair{in->dob_to(), &c.dob_to}}) {
    if (text == nullptr || text->size() == 0) continue;
    auto d = ParseDate(text->str());
    if (!d.ok()) return d.status();
    *slot = *d;
  }
  const std::string gender = Str(in->gender());
  auto g = ParseGender(gender);
  if (!g) return Status::InvalidArgument("gender '" + gender + "' is not M or F");
  c.gender = *g;
  c.limit = in->limit() == 0 ? cap : std::min<size_t>(in->limit(), cap);
  return c;
}

}  // namespace cp::server
