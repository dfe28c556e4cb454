// libFuzzer target for frame decoding: the length prefix, the verifier, and every field a
// request handler may read from a verified envelope. Build and run (clang, not in CI yet):
//
//   make fuzz                      # builds build/fuzz/server/frame_fuzzer
//   mkdir -p build/fuzz/corpus   # new inputs go to the first directory, not the seeds
//   build/fuzz/server/frame_fuzzer -max_total_time=60 build/fuzz/corpus server/fuzz_corpus
//
// A crash, a sanitizer report or a read outside the input is a bug in verification.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "server/frame.h"

namespace {

namespace fb = cp::protocol;

size_t Touch(const flatbuffers::String* s) {
  return s ? s->size() + (s->size() ? s->c_str()[0] : 0) : 0;
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
      n += cp::server::IsRequest(e.body_type());
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < cp::server::kFrameHeaderBytes) return 0;
  const uint32_t length = cp::server::DecodeFrameLength(
      std::span<const uint8_t, cp::server::kFrameHeaderBytes>(data, cp::server::kFrameHeaderBytes));
  if (cp::server::CheckFrameLength(length, cp::server::kDefaultMaxRequestBytes) !=
      cp::server::FrameLength::kOk) {
    return 0;
  }
  // The body as the server holds it: its own heap buffer, exactly the bytes that came.
  const size_t available = size - cp::server::kFrameHeaderBytes;
  std::vector<uint8_t> body(
      data + cp::server::kFrameHeaderBytes,
      data + cp::server::kFrameHeaderBytes + std::min<size_t>(length, available));
  if (body.size() != length) return 0;  // a truncated frame never reaches the verifier
  if (const fb::Envelope* env = cp::server::VerifyEnvelope(body)) {
    volatile size_t sink = TouchEnvelope(*env);
    (void)sink;
  }
  return 0;
}
