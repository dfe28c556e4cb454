#include "server/frame_check.h"

#include <algorithm>
#include <vector>

namespace cp::server {

namespace {

namespace fb = protocol;

size_t Touch(const flatbuffers::String* s) {
  return s ? s->size() + (s->size() ? static_cast<uint8_t>(s->c_str()[s->size() - 1]) : 0) : 0;
}

size_t TouchCriteria(const fb::Criteria* c) {
  if (!c) return 0;
  return Touch(c->given_name()) + Touch(c->family_name()) + Touch(c->date_of_birth()) +
         Touch(c->dob_from()) + Touch(c->dob_to()) + Touch(c->gender()) + Touch(c->postcode()) +
         Touch(c->nhs_number()) + Touch(c->pupil_number()) + c->limit();
}

size_t TouchEnvelope(const fb::Envelope& e) {
  size_t n = e.id() + Touch(e.session());
  switch (e.body_type()) {
    case fb::Body::Hello:
      if (auto* h = e.body_as_Hello(); h && h->versions()) {
        for (uint16_t v : *h->versions()) n += v;
      }
      break;
    case fb::Body::Login:
      if (auto* l = e.body_as_Login()) n += Touch(l->user()) + Touch(l->password());
      break;
    case fb::Body::SecondFactor:
      if (auto* s = e.body_as_SecondFactor()) n += Touch(s->ticket()) + Touch(s->code());
      break;
    case fb::Body::Search:
      if (auto* s = e.body_as_Search()) n += TouchCriteria(s->criteria()) + Touch(s->reason());
      break;
    case fb::Body::GetRecord:
      if (auto* g = e.body_as_GetRecord()) n += g->child_id() + Touch(g->reason());
      break;
    case fb::Body::Shield:
      if (auto* s = e.body_as_Shield()) n += s->child_id() + Touch(s->reason());
      break;
    case fb::Body::Unshield:
      if (auto* s = e.body_as_Unshield()) n += s->child_id() + Touch(s->reason());
      break;
    case fb::Body::BreakGlass:
      if (auto* b = e.body_as_BreakGlass()) n += Touch(b->reason());
      break;
    case fb::Body::FeedBatch:
      if (auto* f = e.body_as_FeedBatch(); f && f->csv()) n += f->csv()->size();
      break;
    case fb::Body::Error:
      if (auto* r = e.body_as_Error()) n += Touch(r->message());
      break;
    case fb::Body::SearchResult:
      if (auto* r = e.body_as_SearchResult(); r && r->results()) {
        for (const auto* c : *r->results()) {
          n += c->child_id() + Touch(c->given_name()) + Touch(c->family_name());
          if (c->hidden()) n += Touch(c->hidden()->address()) + Touch(c->hidden()->postcode());
        }
      }
      break;
    default:
      n += IsRequest(e.body_type());
  }
  return n;
}

}  // namespace

FrameCheck CheckRequestFrame(std::span<const uint8_t> bytes, uint32_t max_body) {
  FrameCheck check;
  if (bytes.size() < kFrameHeaderBytes) return check;  // kShortHeader
  const uint32_t length = DecodeFrameLength(
      std::span<const uint8_t, kFrameHeaderBytes>(bytes.data(), kFrameHeaderBytes));
  check.body_bytes = length;
  switch (CheckFrameLength(length, max_body)) {
    case FrameLength::kEmpty:
      check.verdict = FrameVerdict::kEmpty;
      check.error = protocol::ErrorCode::MalformedFrame;
      return check;
    case FrameLength::kTooLarge:
      check.verdict = FrameVerdict::kTooLarge;
      check.error = protocol::ErrorCode::FrameTooLarge;
      return check;
    case FrameLength::kOk:
      break;
  }
  const size_t available = bytes.size() - kFrameHeaderBytes;
  if (available < length) {
    check.verdict = FrameVerdict::kTruncated;
    return check;
  }
  // The body as the server holds it: a heap buffer of exactly `length` bytes (aligned,
  // as the verifier's alignment checks expect), so that a read past it is caught.
  const std::vector<uint8_t> body(bytes.begin() + kFrameHeaderBytes,
                                  bytes.begin() + kFrameHeaderBytes + length);
  const protocol::Envelope* env = VerifyEnvelope(body);
  if (env == nullptr) {
    check.verdict = FrameVerdict::kUnverifiable;
    check.error = protocol::ErrorCode::MalformedFrame;
    return check;
  }
  check.touched = TouchEnvelope(*env);
  if (env->body() == nullptr || !IsRequest(env->body_type())) {
    check.verdict = FrameVerdict::kNotARequest;
    check.error = protocol::ErrorCode::UnknownMessage;
  } else {
    check.verdict = FrameVerdict::kRequest;
  }
  return check;
}

const char* FrameVerdictName(FrameVerdict verdict) {
  switch (verdict) {
    case FrameVerdict::kShortHeader:
      return "short_header";
    case FrameVerdict::kEmpty:
      return "empty";
    case FrameVerdict::kTooLarge:
      return "too_large";
    case FrameVerdict::kTruncated:
      return "truncated";
    case FrameVerdict::kUnverifiable:
      return "unverifiable";
    case FrameVerdict::kNotARequest:
      return "not_a_request";
    case FrameVerdict::kRequest:
      return "request";
  }
  return "unknown";
}

}  // namespace cp::server
