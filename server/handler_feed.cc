// Feeds and the review queue over the wire: FeedBatch (feed suppliers), ReviewList and
// ReviewResolve (roles with Operation::kReview). The rules are those of `contactpoint
// feed apply` and `review list|link|new` (tools/cli_feed.cc): the same parser
// (tools/feed_csv.h) and the same FeedApplier.
//
// A feed-supplier account feeds exactly one source: the one named like its organisation
// (organisation "births" feeds source "births"). A supplier with two feeds has two
// organisations, one per feed system, each with the ranges that system sends from.
//
// Nothing of a batch's content reaches the audit trail or a log: the audit detail is the
// source, batch number, size and counts; rejected rows are reported to the supplier by
// line and fault, never by value.
#include <sstream>

#include "ingest/feed_applier.h"
#include "server/frame.h"
#include "server/handler_internal.h"
#include "tools/feed_csv.h"

namespace cp::server {

namespace fb = protocol;
using fb::Body;
using fb::ErrorCode;

namespace {

// A response lists at most this many rejected rows (the counts cover all of them).
constexpr size_t kMaxRowReports = 1000;
// ReviewList.max of 0 means this many; no list is longer than kMaxReviewList.
constexpr uint32_t kDefaultReviewList = 100;
constexpr uint32_t kMaxReviewList = 500;

std::string CountsText(const FeedCounts& c) {
  return "linked " + std::to_string(c.linked) + ", new " + std::to_string(c.created) +
         ", updated " + std::to_string(c.updated) + ", unchanged " + std::to_string(c.unchanged) +
         ", review " + std::to_string(c.review) + ", withdrawn " + std::to_string(c.withdrawn) +
         ", rejected " + std::to_string(c.rejected);
}

// Review payloads hold hidden fields: reading them needs the matching clearance, and
// nothing read with it is sent except the visible fields below.
Clearance ReviewClearance(const std::string& user) {
  return Clearance::Elevated(Clearance::Level::kMatching, user, "review queue");
}

// `shielded`: ReviewItemShielded, the item as it is now.
flatbuffers::Offset<fb::ReviewEntry> EntryToFb(flatbuffers::FlatBufferBuilder& fbb,
                                               const ReviewItem& item, const ReviewPayload& payload,
                                               bool shielded) {
  const ChildRecord& r = payload.row.record.record;
  std::vector<flatbuffers::Offset<fb::ReviewCandidate>> candidates;
  for (const auto& c : payload.outcome.candidates) {
    candidates.push_back(fb::CreateReviewCandidate(fbb, c.child, c.total, c.shielded));
  }
  const std::string dob = r.date_of_birth.empty() ? "" : r.date_of_birth.ToString();
  // A shielded item's source and key are withheld, as a shielded child's sources are.
  const std::string source = shielded ? "" : item.ref.source;
  const std::string key = shielded ? "" : item.ref.key;
  return fb::CreateReviewEntryDirect(
      fbb, item.id, shielded, source.c_str(), key.c_str(), r.given_name.c_str(),
      r.middle_names.c_str(), r.family_name.c_str(), dob.c_str(), GenderCode(r.gender),
      r.nhs_number.c_str(), r.pupil_number.c_str(), payload.outcome.reason.c_str(), &candidates);
}

}  // namespace

std::string RequestHandler::FeedBatch(const Call& call) {
  const auto* req = call.req.body_as_FeedBatch();
  Session session;
  std::string refusal = Admit(call, Operation::kFeedBatch, "feed", nullptr, false, &session);
  if (!refusal.empty()) return refusal;
  const std::string source = Str(req->source());
  const uint64_t batch = req->batch();
  if (source != session.profile.organisation) {
    return Refuse(call, &session, "feed", ErrorCode::NotAuthorised,
                  "this account feeds only source '" + session.profile.organisation + "'");
  }
  if (batch == 0) {
    return Refuse(call, &session, "feed", ErrorCode::BatchOutOfSequence,
                  "batches are numbered from 1");
  }
  std::lock_guard lock(feed_mu_);
  // Checked here as well as by FeedApplier so that each refusal has its own code; under
  // feed_mu_ nothing changes the state in between.
  auto state = deps_.store->GetFeedState(source);
  if (!state.ok()) return ErrorFrame(call.id, ErrorCode::Internal, "reading the feed state failed");
  if (state->paused) {
    return Refuse(call, &session, "feed", ErrorCode::SourcePaused,
                  "source " + source + " is paused: its batches are refused until it is resumed");
  }
  if (batch > state->last_batch + 1) {
    return Refuse(call, &session, "feed", ErrorCode::BatchOutOfSequence,
                  "batch " + std::to_string(batch) + " of source " + source +
                      " is out of sequence: the next batch is " +
                      std::to_string(state->last_batch + 1));
  }
  const std::string csv =
      req->csv()
          ? std::string(reinterpret_cast<const char*>(req->csv()->data()), req->csv()->size())
          : std::string();
  std::istringstream in(csv);
  std::vector<std::string> reports;
  bool truncated = false;
  cp::FeedBatchResult result;
  // The rules and weights stored with the data, as every `contactpoint feed apply` uses.
  auto options = StoredFeedOptions(*deps_.store);
  if (!options.ok()) return ErrorFrame(call.id, ErrorCode::Internal, "reading the feed settings failed");
  Status s = ApplyFeedCsv(
      deps_.store, *options, source, batch, in,
      [&](const std::string& m) {
        if (reports.size() < kMaxRowReports)
          reports.push_back(m);
        else
          truncated = true;
      },
      &result);
  if (!s.ok()) {
    if (s.IsInvalidArgument())
      return Refuse(call, &session, "feed", ErrorCode::InvalidRequest, s.message());
    if (s.code() == Status::Code::kFailedPrecondition) {
      return Refuse(call, &session, "feed", ErrorCode::SourcePaused, s.message());
    }
    // Rows applied before the failure stay applied; a resend resumes after them.
    AuditEvent e;
    e.action = "feed";
    e.outcome = "internal";
    e.criteria = RequestDetail(call.req);
    Audit(call, &session, std::move(e)).PermitUnchecked();
    return ErrorFrame(call.id, ErrorCode::Internal,
                      "applying the batch failed in storage; resend it to resume");
  }
  AuditEvent e;
  e.action = "feed";
  e.outcome = "ok";
  e.criteria = RequestDetail(call.req) + (result.already_applied ? ": applied before" : ": ") +
               (result.already_applied ? "" : CountsText(result.counts));
  if (!Audit(call, &session, std::move(e)).ok()) {
    return ErrorFrame(call.id, ErrorCode::Internal, "the audit trail is unavailable");
  }
  flatbuffers::FlatBufferBuilder fbb(1024);
  const FeedCounts& c = result.counts;
  std::vector<flatbuffers::Offset<flatbuffers::String>> rows;
  for (const auto& m : reports) rows.push_back(fbb.CreateString(m));
  auto body = fb::CreateFeedBatchResultDirect(
      fbb, source.c_str(), batch, result.already_applied, result.resumed_at_row, c.linked,
      c.created, c.updated, c.unchanged, c.review, c.withdrawn, c.rejected, &rows, truncated);
  return FinishFrame(fbb, call.id, Body::FeedBatchResult, body.Union());
}

std::string RequestHandler::ReviewList(const Call& call) {
  const auto* req = call.req.body_as_ReviewList();
  Session session;
  std::string refusal = Admit(call, Operation::kReview, "review", nullptr, false, &session);
  if (!refusal.empty()) return refusal;
  const uint32_t max = req->max() == 0 ? kDefaultReviewList : std::min(req->max(), kMaxReviewList);
  std::vector<ReviewItem> items;
  if (!deps_.store->ListReview(&items).ok()) {
    return ErrorFrame(call.id, ErrorCode::Internal, "reading the review queue failed");
  }
  flatbuffers::FlatBufferBuilder fbb(4096);
  std::vector<flatbuffers::Offset<fb::ReviewEntry>> entries;
  AuditEvent e;
  e.action = "review";
  e.outcome = "ok";
  e.criteria = RequestDetail(call.req);
  for (size_t i = 0; i < items.size() && i < max; ++i) {
    auto full = deps_.store->GetReview(items[i].id, ReviewClearance(session.profile.user));
    auto payload =
        full.ok() ? DecodeReviewPayload(full->payload) : Result<ReviewPayload>(full.status());
    if (!payload.ok())
      return ErrorFrame(call.id, ErrorCode::Internal, "reading the review queue failed");
    auto shielded = ReviewItemShielded(*deps_.store, *full, *payload);
    if (!shielded.ok())
      return ErrorFrame(call.id, ErrorCode::Internal, "reading the review queue failed");
    for (const auto& c : payload->outcome.candidates) e.children.push_back(c.child);
    entries.push_back(EntryToFb(fbb, *full, *payload, *shielded));
  }
  // The entries name children (candidates): the listing is recorded before it leaves.
  if (!Audit(call, &session, std::move(e)).ok()) {
    return ErrorFrame(call.id, ErrorCode::Internal, "the audit trail is unavailable");
  }
  auto body = fb::CreateReviewListResultDirect(fbb, &entries, static_cast<uint32_t>(items.size()));
  return FinishFrame(fbb, call.id, Body::ReviewListResult, body.Union());
}

std::string RequestHandler::ReviewResolve(const Call& call) {
  const auto* req = call.req.body_as_ReviewResolve();
  const std::string reason = Str(req->reason());
  Session session;
  std::string refusal = Admit(call, Operation::kReview, "review", &reason, false, &session);
  if (!refusal.empty()) return refusal;
  const uint64_t review_id = req->review_id();
  const ChildId child = req->child_id();
  std::lock_guard lock(feed_mu_);
  auto item = deps_.store->GetReview(review_id, Clearance::Ordinary());
  if (!item.ok()) {
    if (!item.status().IsNotFound())
      return ErrorFrame(call.id, ErrorCode::Internal, "reading the review queue failed");
    return Refuse(call, &session, "review", ErrorCode::NotFound,
                  "no review item " + std::to_string(review_id));
  }
  auto options = StoredFeedOptions(*deps_.store);
  if (!options.ok()) return ErrorFrame(call.id, ErrorCode::Internal, "reading the feed settings failed");
  FeedApplier applier(deps_.store, *options);
  FeedCounts counts;
  Status s = applier.ResolveReview(review_id, child, &counts);
  if (s.IsNotFound()) {
    return Refuse(call, &session, "review", ErrorCode::NotFound,
                  "no child " + std::to_string(child));
  }
  if (s.code() == Status::Code::kFailedPrecondition) {
    return Refuse(call, &session, "review", ErrorCode::ShieldConflict, s.message());
  }
  if (!s.ok()) return ErrorFrame(call.id, ErrorCode::Internal, "resolving the review item failed");
  // The child the record now belongs to: the one named, or the new one.
  auto link = deps_.store->FindSource(item->ref.source, item->ref.key);
  if (!link.ok()) return ErrorFrame(call.id, ErrorCode::Internal, "reading the new link failed");
  auto record = deps_.store->GetRecord(link->child);
  const bool shielded = record.ok() && record->shield.shielded;
  AuditEvent e;
  e.action = "review";
  e.outcome = "ok";
  e.reason = reason;
  e.criteria = RequestDetail(call.req);
  e.children.push_back(link->child);
  if (!Audit(call, &session, std::move(e)).ok()) {
    return ErrorFrame(call.id, ErrorCode::Internal, "the audit trail is unavailable");
  }
  flatbuffers::FlatBufferBuilder fbb(128);
  auto body = fb::CreateReviewResolveResult(fbb, review_id, link->child, child == 0, shielded);
  return FinishFrame(fbb, call.id, Body::ReviewResolveResult, body.Union());
}

}  // namespace cp::server
