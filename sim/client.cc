#include "sim/client.h"

#include <algorithm>

namespace ws {

const char* to_string(RequestKind k) {
  switch (k) {
    case RequestKind::kValid: return "valid";
    case RequestKind::kBadAmount: return "bad_amount";
    case RequestKind::kUnknownCurrency: return "unknown_currency";
    case RequestKind::kBadTxId: return "bad_transaction_id";
    case RequestKind::kSameAccount: return "same_account";
    case RequestKind::kUnknownAccount: return "unknown_account";
    case RequestKind::kReuse: return "reuse";
    case RequestKind::kRead: return "read";
  }
  return "?";
}

Client::Client(const ClusterConfig& cfg, const ClientParams& params, uint32_t index, RequestWindow& window)
    : cfg_(cfg), params_(params), index_(index), w_(window) {}

void Client::arrive(Context& ctx, uint32_t r) {
  ++remaining_;
  const PlannedRequest& p = w_.plan(r);
  if (p.kind == RequestKind::kReuse && p.reuse_of >= 0) {
    // Arrives with its original (they share a start time); goes once the
    // original is answered.
    // Originals arrive in order, so this is nearly always the end.
    const std::pair<uint32_t, uint32_t> entry{static_cast<uint32_t>(p.reuse_of), r};
    reuses_.insert(std::upper_bound(reuses_.begin(), reuses_.end(), entry), entry);
    return;
  }
  w_.record(r).started = true;
  open(r);
  if (p.kind == RequestKind::kRead) {
    send_read(ctx, r);
  } else {
    send_request(ctx, r);
  }
  arm(ctx);
}

// A balance read goes to the partition that holds the account (with groups,
// the runtime finds its leader), and is asked again until answered.
void Client::send_read(Context& ctx, uint32_t r) {
  const PlannedRequest& p = w_.plan(r);
  Message m{};
  m.kind = MsgKind::kBalanceRead;
  m.request = r;
  m.account = p.from;
  m.currency = static_cast<CurrencyIdx>(cfg_.currencies.size());  // unknown unless found
  for (size_t k = 0; k < cfg_.currencies.size(); ++k)
    if (p.currency == cfg_.currencies[k].code) m.currency = static_cast<CurrencyIdx>(k);
  RequestRecord& rec = w_.record(r);
  if (rec.first_sent < 0) rec.first_sent = ctx.now();
  ctx.send(cfg_.partition_node(p.from < cfg_.accounts ? cfg_.account_partition[p.from] : 0), m);
  rec.last_sent = ctx.now();
  ++rec.attempts;
  schedule(r);
}

// The text stays what is sent; the parsed id is for routing. A request whose
// id does not parse goes to the first coordinator, which rejects it.
NodeId Client::coordinator_for(uint32_t r) const {
  const TxId& id = w_.id(r);
  return cfg_.coordinator_node(id.is_nil() ? 0 : cfg_.coordinator_of(id.hi, id.lo));
}

void Client::send_request(Context& ctx, uint32_t r) {
  const PlannedRequest& p = w_.plan(r);
  Message m{};
  m.kind = MsgKind::kTransferRequest;
  m.request = r;
  bool fits = set_text(m.text.txid, p.txid);
  fits &= set_text(m.text.amount, p.amount);
  fits &= set_text(m.text.currency, p.currency);
  m.text.overlong = !fits;
  m.text.from = p.from;
  m.text.to = p.to;
  RequestRecord& rec = w_.record(r);
  if (rec.first_sent < 0) rec.first_sent = ctx.now();
  // The id's age: a reuse sends an id its original first sent earlier.
  Time id_first_sent = rec.first_sent;
  const uint32_t original = static_cast<uint32_t>(p.reuse_of);
  if (p.reuse_of >= 0 && w_.has(original) && w_.record(original).first_sent >= 0)
    id_first_sent = w_.record(original).first_sent;
  m.age = ctx.now() - id_first_sent;
  NodeId to = coordinator_for(r);
  ctx.send(to, m);
  if (p.duplicate && rec.attempts == 0) {
    ctx.cover(Cover::kDuplicateSent);
    ctx.send(to, m);
  }
  rec.last_sent = ctx.now();
  ++rec.attempts;
  schedule(r);
}

void Client::send_query(Context& ctx, uint32_t r) {
  RequestRecord& rec = w_.record(r);
  Message m{};
  m.kind = MsgKind::kStatusQuery;
  m.request = r;
  m.tx = w_.id(r);
  m.age = ctx.now() - rec.first_sent;
  ctx.send(coordinator_for(r), m);
  rec.last_sent = ctx.now();
  ++rec.queries;
  schedule(r);
}

// When an open request next needs something: a resend, a status query, or
// giving up on an invalid request whose answer was lost.
Time Client::deadline(uint32_t r) const {
  const RequestRecord& rec = w_.record(r);
  if (rec.attempts < params_.max_attempts) return rec.last_sent + params_.request_timeout;
  if (w_.plan(r).kind == RequestKind::kValid) return rec.last_sent + params_.query_interval;
  return rec.last_sent + params_.request_timeout;
}

void Client::schedule(uint32_t r) {
  due_.push(Due{deadline(r), w_.record(r).open_seq, r});
}

void Client::open(uint32_t r) {
  w_.record(r).open_seq = next_open_seq_++;
  ++open_size_;
  ++live_;
}

void Client::on_message(Context& ctx, NodeId, const Message& m) {
  if (m.kind != MsgKind::kTransferReply && m.kind != MsgKind::kStatusReply && m.kind != MsgKind::kBalanceReply)
    return;
  // A reply for a request already retired comes later than any message can
  // travel (the simulator keeps done requests for a retention window).
  if (!w_.has(m.request) || w_.plan(m.request).client != index_) return;
  if (m.outcome == Outcome::kInProgress || m.outcome == Outcome::kNone) return;
  // Overloaded is not an answer: nothing was recorded, and the request is
  // retried with the same id when its timeout comes, like any lost reply.
  if (m.reason == Reason::kOverloaded) {
    w_.record(m.request).overloaded = true;
    return;
  }
  // Expired is not an answer either: the client asked too late to be told.
  if (m.reason == Reason::kExpired) return;
  record_answer(ctx, m.request, m.outcome, m.reason);
}

void Client::record_answer(Context& ctx, uint32_t r, Outcome o, Reason why) {
  RequestRecord& rec = w_.record(r);
  if (rec.answer != Outcome::kNone) {
    if (rec.answer != o) {
      rec.conflicting = true;
      rec.other_answer = o;
    }
    return;
  }
  bool was_done = rec.done();
  rec.answer = o;
  rec.reason = why;
  rec.answered_at = ctx.now();
  if (!was_done) {
    rec.done_at = ctx.now();
    --remaining_;
    if (rec.started) --live_;
  }
  start_reuse_of(ctx, r);
  arm(ctx);
}

// The first reuse of r's id still waiting, or nullptr.
uint32_t* Client::waiting_reuse(uint32_t r) {
  auto it = std::lower_bound(reuses_.begin(), reuses_.end(), std::pair<uint32_t, uint32_t>{r, 0});
  for (; it != reuses_.end() && it->first == r; ++it)
    if (it->second != kNoReuse) return &it->second;
  return nullptr;
}

// A reuse of r's id may go once r has its answer.
void Client::start_reuse_of(Context& ctx, uint32_t r) {
  if (uint32_t* slot = waiting_reuse(r)) {
    const uint32_t q = *slot;
    *slot = kNoReuse;
    w_.record(q).started = true;
    open(q);
    send_request(ctx, q);
  }
  while (!reuses_.empty() && reuses_.front().second == kNoReuse) reuses_.pop_front();
}

// A reuse of r's id is never sent once r's client gave up on r: r may not
// have reached the coordinator at all, and then the "reuse" would be the id's
// first use.
void Client::drop_reuse_of(Context& ctx, uint32_t r) {
  if (uint32_t* q = waiting_reuse(r)) {
    RequestRecord& rec = w_.record(*q);
    rec.gave_up = true;
    rec.done_at = ctx.now();
    --remaining_;
    *q = kNoReuse;
  }
  while (!reuses_.empty() && reuses_.front().second == kNoReuse) reuses_.pop_front();
}

// Gives up on r: no answer will be waited for.
void Client::finish(Context& ctx, uint32_t r) {
  RequestRecord& rec = w_.record(r);
  rec.gave_up = true;
  rec.done_at = ctx.now();
  --remaining_;
  --live_;
}

void Client::on_timer(Context& ctx, TimerTag) {
  armed_for_ = -1;
  Time now = ctx.now();
  // The open requests whose deadline has come, in the order they were
  // started (entries of requests since answered, or re-sent, are stale).
  due_now_.clear();
  while (!due_.empty() && due_.top().t <= now) {
    const Due d = due_.pop();
    if (!w_.record(d.r).done() && deadline(d.r) == d.t) due_now_.push_back(d);
  }
  std::sort(due_now_.begin(), due_now_.end(), [](const Due& a, const Due& b) { return a.seq < b.seq; });
  for (const Due& d : due_now_) {
    const uint32_t r = d.r;
    RequestRecord& rec = w_.record(r);
    if (rec.done() || deadline(r) != d.t) continue;  // a duplicate entry, already handled
    bool valid_id = w_.plan(r).kind == RequestKind::kValid;
    if (now - rec.first_sent >= params_.horizon) {
      // Past the horizon the coordinator may have forgotten the id: the
      // client stops asking, and the outcome stays unknown to it.
      finish(ctx, r);
      drop_reuse_of(ctx, r);
    } else if (w_.plan(r).kind == RequestKind::kRead) {
      ctx.cover(Cover::kClientResent);
      send_read(ctx, r);  // a read is asked again until answered (it changes nothing)
    } else if (rec.attempts < params_.max_attempts) {
      ctx.cover(rec.overloaded ? Cover::kClientRetriedOverload : Cover::kClientResent);
      rec.overloaded = false;
      send_request(ctx, r);
    } else if (valid_id) {
      ctx.cover(Cover::kClientQueried);
      send_query(ctx, r);  // retries ran out: ask for the final status until there is one
    } else {
      finish(ctx, r);  // an invalid request's answer was lost; nothing to query
    }
  }
  open_size_ = live_;  // what is still open after this pass
  arm(ctx);
}

void Client::arm(Context& ctx) {
  if (open_size_ == 0) return;
  Time now = ctx.now();
  Time next = now + std::min(params_.request_timeout, params_.query_interval) / 2;
  if (armed_for_ >= 0 && armed_for_ <= next) return;
  armed_for_ = next;
  ctx.set_timer(std::max<Duration>(next - now, 1), 0);
}

}  // namespace ws
