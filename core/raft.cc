// Raft for one replica (core/raft.h). The handlers follow the paper's rules;
// each says which rule it implements and why the less obvious steps are there.
#include "core/raft.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <utility>

#include "core/le.h"

namespace ws::raft {

const char* to_string(MsgType t) {
  switch (t) {
    case MsgType::kRequestVote: return "request_vote";
    case MsgType::kRequestVoteReply: return "vote_reply";
    case MsgType::kAppend: return "append";
    case MsgType::kAppendReply: return "append_reply";
    case MsgType::kInstallSnapshot: return "install_snapshot";
    case MsgType::kInstallSnapshotReply: return "snapshot_reply";
    case MsgType::kProbe: return "probe";
    case MsgType::kProbeReply: return "probe_reply";
    case MsgType::kPreVote: return "pre_vote";
    case MsgType::kPreVoteReply: return "pre_vote_reply";
  }
  return "?";
}

const char* role_name(Role r) {
  switch (r) {
    case Role::kFollower:
      return "follower";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "?";
}

Raft::Raft(const Options& options, Rng& rng) : opts_(options), rng_(rng) {
  assert(opts_.replicas >= 1 && opts_.replicas <= kMaxReplicas);
  assert(opts_.self < opts_.replicas);
  assert(opts_.election_timeout_max > opts_.election_timeout_min);
  assert(opts_.heartbeat_interval > 0 && opts_.heartbeat_interval < opts_.election_timeout_min);
  assert(opts_.max_append_entries >= 1 && opts_.snapshot_chunk_bytes >= 1);
  assert(opts_.max_inflight_appends >= 1);
  progress_.resize(opts_.replicas);
}

// ---------------------------------------------------------------- restore

bool Raft::restore(const Durable& d, Time now, std::string* error) {
  assert(!restored_ && "restore() is called once, on a fresh Raft");
  auto fail = [&](const std::string& why) {
    if (error) *error = why;
    return false;
  };
  const HardState& hs = d.hard_state;
  if (hs.vote != kNone && hs.vote >= opts_.replicas)
    return fail("vote for a replica outside the group");
  Index expect = d.snapshot.meta.last_index + 1;
  Term prev_term = d.snapshot.meta.last_term;
  for (const Entry& e : d.entries) {
    if (e.index != expect) return fail("log entries are not contiguous after the snapshot");
    if (e.term < prev_term) return fail("log entry terms decrease");
    prev_term = e.term;
    ++expect;
  }
  term_ = hs.term;
  vote_ = hs.vote;
  if (prev_term > term_) {
    // The hard state record is written after the entries of the same Ready,
    // so a crash can keep entries of a term whose record was lost. Nothing
    // that depended on that record was sent (it needed the whole Ready
    // durable); adopting the term without a vote is safe.
    term_ = prev_term;
    vote_ = kNone;
  }
  snap_ = d.snapshot;
  log_ = d.entries;
  // commit is only a hint: it never passes the durable log, and a restart
  // re-applies from the snapshot, so applied starts there.
  commit_ = std::max(snap_.meta.last_index, std::min(hs.commit, last_index()));
  applied_ = snap_.meta.last_index;
  durable_last_ = last_index();
  handed_last_ = last_index();
  handed_hs_ = HardState{term_, vote_, commit_};
  restored_ = true;
  last_role_ = RoleChange{Role::kFollower, term_, kNone};
  reset_election_deadline(now);
  if (d.repairing && opts_.replicas > 1) {
    // Its log was damaged or lost: what it promised before (votes, entries
    // it acknowledged) may be gone. It says so durably first, then asks
    // every peer before it votes again (docs/raft.md "Repair").
    repair_ = Repair::kProbing;
    probe_nonce_ = rng_.next_u64() | 1;
    probe_at_ = now;
    pending_repair_mark_ = true;
  }
  if (opts_.replicas == 1) campaign(now);  // a group of one elects itself at once
  return true;
}

// ---------------------------------------------------------------- timers

void Raft::reset_election_deadline(Time now) {
  Duration span = opts_.election_timeout_max - opts_.election_timeout_min;
  Duration jitter = opts_.bugs.fixed_election_timeout
                        ? 0
                        : static_cast<Duration>(rng_.below(static_cast<uint64_t>(span)));
  election_deadline_ = now + opts_.election_timeout_min + jitter;
}

Time Raft::next_deadline() const {
  if (repair_ == Repair::kProbing) return std::min(probe_at_, election_deadline_);
  if (role_ == Role::kLeader) return opts_.check_quorum ? std::min(heartbeat_at_, quorum_check_at_) : heartbeat_at_;
  if (role_ == Role::kCandidate || pre_campaign_) return std::min(election_deadline_, vote_resend_at_);
  return election_deadline_;
}

void Raft::tick(Time now) {
  assert(restored_);
  if (repair_ != Repair::kNone) {
    // A repairing replica never campaigns: it may lack committed entries.
    if (repair_ == Repair::kProbing && now >= probe_at_) send_probes(now);
    if (now >= election_deadline_) reset_election_deadline(now);
    return;
  }
  if (role_ == Role::kLeader) {
    if (opts_.check_quorum && now >= quorum_check_at_) check_quorum(now);
    if (role_ == Role::kLeader && now >= heartbeat_at_) heartbeat_round(now);
    return;
  }
  if (now >= election_deadline_) {
    if (opts_.pre_vote) {
      pre_campaign(now);
    } else {
      campaign(now);
    }
    return;
  }
  if (pre_campaign_ && now >= vote_resend_at_) {
    send_pre_votes();  // a PreVote or its reply may have been lost
    vote_resend_at_ = now + opts_.heartbeat_interval;
  }
  if (role_ == Role::kCandidate && now >= vote_resend_at_) {
    // A RequestVote or its reply may have been lost: ask again whoever has
    // not answered, within the same term.
    for (ReplicaId r = 0; r < opts_.replicas; ++r) {
      if (r == opts_.self || (answered_ >> r) & 1u) continue;
      Msg m{.type = MsgType::kRequestVote,
            .to = r,
            .prev_index = last_index(),
            .prev_term = last_term()};
      send(std::move(m), true);
    }
    vote_resend_at_ = now + opts_.heartbeat_interval;
  }
}

// ---------------------------------------------------------------- roles

void Raft::note_role() {
  RoleChange now_role{role_, term_, leader_};
  if (now_role == last_role_) return;
  role_changes_.push_back(now_role);
  last_role_ = now_role;
}

void Raft::alarm(const std::string& what) {
  if (alarms_++ == 0) first_alarm_ = what;
}

void Raft::become_follower(Term term, ReplicaId leader, Time now) {
  assert(term >= term_);
  bool was_leader = role_ == Role::kLeader;
  if (term > term_) {
    term_ = term;
    vote_ = kNone;
  }
  role_ = Role::kFollower;
  leader_ = leader;
  pre_campaign_ = false;
  // A leader had no election timer running. A candidate keeps its deadline:
  // only a granted vote or a live leader postpones an election (§5.2).
  if (was_leader) {
    reset_election_deadline(now);
    fail_reads();
  }
  note_role();
}

// Pre-vote: ask, without raising the term, whether a majority would vote
// for this log in the next term. A candidate whose election failed asks
// again too, so a replica that keeps losing (or is cut off) never drives
// the group's term up.
void Raft::pre_campaign(Time now) {
  role_ = Role::kFollower;
  if (!opts_.bugs.prevote_sticky_leader) leader_ = kNone;  // the bug keeps a silent leader until a new term
  pre_campaign_ = true;
  pre_votes_ = 1u << opts_.self;
  pre_answered_ = pre_votes_;
  start_round(now);
  if (opts_.replicas == 1) return campaign(now);
  send_pre_votes();
}

// A round of asking (pre-votes or votes): the next round at a new
// timeout, and whoever has not answered asked again every heartbeat.
void Raft::start_round(Time now) {
  reset_election_deadline(now);
  vote_resend_at_ = now + opts_.heartbeat_interval;
  note_role();
}

void Raft::send_pre_votes() {
  for (ReplicaId r = 0; r < opts_.replicas; ++r) {
    if (r == opts_.self || (pre_answered_ >> r) & 1u) continue;
    send(Msg{.type = MsgType::kPreVote, .to = r, .prev_index = last_index(), .prev_term = last_term()}, false);
    outbox_.back().msg.term = term_ + 1;
  }
}

// Would vote for this candidate in its proposed term: that term is newer,
// its log is at least as up to date, and no leader has been heard from for
// election_timeout_min (a live leader's followers refuse, so a replica that
// was cut off cannot start an election that deposes it). Repairing
// replicas answer as they would a RequestVote.
void Raft::on_pre_vote(const Msg& m, Time now) {
  const bool leader_recent = role_ == Role::kLeader ||
                             (leader_ != kNone && (opts_.bugs.prevote_sticky_leader ||
                                                   (leader_heard_at_ >= 0 &&
                                                    now < leader_heard_at_ + opts_.election_timeout_min)));
  bool grant = m.term > term_ && !leader_recent && log_up_to_date(m.prev_term, m.prev_index);
  if (repair_ == Repair::kProbing) grant = false;
  if (repair_ == Repair::kCatchingUp && grant &&
      (m.prev_term < probe_last_term_ || (m.prev_term == probe_last_term_ && m.prev_index < probe_last_index_)))
    grant = false;
  send(Msg{.type = MsgType::kPreVoteReply, .to = m.from, .success = grant}, false);
  if (grant) outbox_.back().msg.term = m.term;
}

void Raft::on_pre_vote_reply(const Msg& m, Time now) {
  if (!m.success) {
    if (m.term > term_) become_follower(m.term, kNone, now);  // we were behind: no election
    else if (pre_campaign_) pre_answered_ |= 1u << m.from;
    return;
  }
  if (!pre_campaign_ || m.term != term_ + 1) return;  // an answer to an older round
  pre_answered_ |= 1u << m.from;
  pre_votes_ |= 1u << m.from;
  if (static_cast<uint32_t>(std::popcount(pre_votes_)) < majority()) return;
  if (opts_.bugs.prevote_elects) {
    // Planted bug: the pre-votes are taken for votes, in the current term.
    pre_campaign_ = false;
    role_ = Role::kCandidate;
    return become_leader(now);
  }
  campaign(now);
}

// Check-quorum: a leader that heard from fewer than a majority (itself
// included) during the last election_timeout_max steps down, in its term.
// Its clients then stop waiting on a leader that cannot commit.
void Raft::check_quorum(Time now) {
  const uint32_t heard = heard_ | (1u << opts_.self);
  if (!opts_.bugs.quorum_contact_kept) heard_ = 0;
  quorum_check_at_ = now + opts_.election_timeout_max;
  if (static_cast<uint32_t>(std::popcount(heard)) >= majority()) return;
  become_follower(term_, kNone, now);
}

void Raft::campaign(Time now) {
  pre_campaign_ = false;
  term_ += 1;
  vote_ = opts_.self;
  role_ = Role::kCandidate;
  leader_ = kNone;
  votes_ = 1u << opts_.self;
  answered_ = votes_;
  start_round(now);
  if (opts_.replicas == 1) {
    become_leader(now);
    return;
  }
  for (ReplicaId r = 0; r < opts_.replicas; ++r) {
    if (r == opts_.self) continue;
    // After persist: the candidate's new term and self-vote must survive a
    // crash, or it could vote again in this term after a restart.
    send(Msg{.type = MsgType::kRequestVote,
             .to = r,
             .prev_index = last_index(),
             .prev_term = last_term()},
         true);
  }
}

void Raft::become_leader(Time now) {
  assert(role_ == Role::kCandidate);
  role_ = Role::kLeader;
  leader_ = opts_.self;
  heard_ = 0;
  quorum_check_at_ = now + opts_.election_timeout_max;
  for (ReplicaId r = 0; r < opts_.replicas; ++r) progress_[r] = Progress{.next = last_index() + 1};
  read_round_ = 0;
  assert(pending_reads_.empty());
  note_role();
  // The no-op: entries of earlier terms commit only under an entry of this
  // term (Figure 8), and reads need a commit of this term (§6.4).
  append_local(Entry{.term = term_, .index = last_index() + 1, .kind = EntryKind::kNoop});
  term_start_index_ = last_index();
  heartbeat_at_ = now + opts_.heartbeat_interval;
  broadcast_append();
}

bool Raft::log_up_to_date(Term last_term_other, Index last_index_other) const {
  if (last_term_other != last_term()) return last_term_other > last_term();
  return last_index_other >= last_index();
}

// ---------------------------------------------------------------- step

void Raft::step(const Msg& m, Time now) {
  assert(restored_);
  if (m.from >= opts_.replicas || m.from == opts_.self || m.to != opts_.self) return;
  // A probe's term means nothing (its sender lost its state); a reply's is
  // taken as a floor only once every peer has answered.
  if (m.type == MsgType::kProbe) return on_probe(m);
  if (m.type == MsgType::kProbeReply) return on_probe_reply(m, now);
  // A PreVote's term is only proposed, and a granted reply echoes it:
  // neither may raise anyone's term.
  if (m.type == MsgType::kPreVote) return on_pre_vote(m, now);
  if (m.type == MsgType::kPreVoteReply) return on_pre_vote_reply(m, now);
  if (m.term > term_) {
    bool from_leader = m.type == MsgType::kAppend || m.type == MsgType::kInstallSnapshot;
    become_follower(m.term, from_leader ? m.from : kNone, now);
  } else if (m.term < term_) {
    reply_stale(m);
    return;
  }
  // Same term as ours, but answering something we sent in an older term:
  // an echoed read round or index from then must not count now.
  if (m.stale) return;
  // Probing: its term may be older than a promise it lost with its log, so
  // a deposed leader of that older term could still look current. An
  // acknowledgement now could complete a commit that a newer term has
  // already overwritten; it takes entries only once its term is restored.
  if (repair_ == Repair::kProbing && !opts_.bugs.ack_while_probing &&
      (m.type == MsgType::kAppend || m.type == MsgType::kInstallSnapshot))
    return;
  switch (m.type) {
    case MsgType::kRequestVote:
      on_request_vote(m, now);
      break;
    case MsgType::kRequestVoteReply:
      on_request_vote_reply(m, now);
      break;
    case MsgType::kAppend:
      on_append(m, now);
      break;
    case MsgType::kAppendReply:
      on_append_reply(m, now);
      break;
    case MsgType::kInstallSnapshot:
      on_install_snapshot(m, now);
      break;
    case MsgType::kInstallSnapshotReply:
      on_install_snapshot_reply(m, now);
      break;
    case MsgType::kProbe:
    case MsgType::kProbeReply:
    case MsgType::kPreVote:
    case MsgType::kPreVoteReply:
      break;
  }
}

// A message from an older term: a deposed leader or candidate learns our term
// from the refusal and steps down; stale replies are dropped.
void Raft::reply_stale(const Msg& m) {
  MsgType reply;
  switch (m.type) {
    case MsgType::kAppend:
      reply = MsgType::kAppendReply;
      break;
    case MsgType::kInstallSnapshot:
      reply = MsgType::kInstallSnapshotReply;
      break;
    case MsgType::kRequestVote:
      reply = MsgType::kRequestVoteReply;
      break;
    default:
      return;
  }
  send(Msg{.type = reply, .to = m.from, .stale = true}, false);
}

void Raft::send(Msg m, bool after_persist) {
  m.from = opts_.self;
  m.term = term_;
  outbox_.push_back(OutMsg{std::move(m), after_persist});
}

// At most one vote per term, and only for a log at least as up to date as
// ours (§5.2, §5.4.1). A vote must be durable before the reply leaves.
void Raft::on_request_vote(const Msg& m, Time now) {
  bool free_to_vote = vote_ == kNone || vote_ == m.from;
  bool grant = free_to_vote && role_ != Role::kLeader && log_up_to_date(m.prev_term, m.prev_index);
  // Repairing: no vote until every peer has answered (its old votes may be
  // lost), then only for a candidate at least as up to date as every log
  // the peers reported, as if its own log were the most up to date of them.
  if (repair_ == Repair::kProbing) grant = false;
  if (repair_ == Repair::kCatchingUp && grant &&
      (m.prev_term < probe_last_term_ || (m.prev_term == probe_last_term_ && m.prev_index < probe_last_index_)))
    grant = false;
  if (grant) {
    vote_ = m.from;
    reset_election_deadline(now);
  }
  bool after_persist = grant && !opts_.bugs.vote_before_durable;
  send(Msg{.type = MsgType::kRequestVoteReply, .to = m.from, .success = grant}, after_persist);
}

void Raft::on_request_vote_reply(const Msg& m, Time now) {
  if (role_ != Role::kCandidate) return;
  answered_ |= 1u << m.from;
  if (!m.success) return;
  votes_ |= 1u << m.from;
  if (static_cast<uint32_t>(std::popcount(votes_)) >= majority()) become_leader(now);
}

// Shared by Append and InstallSnapshot of the current term: the sender is
// the term's leader.
bool Raft::accept_from_leader(const Msg& m, Time now) {
  if (role_ == Role::kLeader) {
    alarm("two leaders in term " + std::to_string(term_));
    return false;
  }
  if (leader_ != kNone && leader_ != m.from) {
    alarm("two leaders in term " + std::to_string(term_));
    return false;
  }
  if (role_ == Role::kCandidate || pre_campaign_) become_follower(term_, m.from, now);
  leader_ = m.from;
  leader_heard_at_ = now;
  note_role();
  reset_election_deadline(now);
  return true;
}

// ---------------------------------------------------------------- follower: Append

void Raft::on_append(const Msg& m, Time now) {
  if (!accept_from_leader(m, now)) return;
  Msg reply{.type = MsgType::kAppendReply,
            .to = m.from,
            .prev_index = m.prev_index,
            .read_round = m.read_round};
  Index verified_last = 0;
  if (append_entries(m, verified_last)) {
    reply.success = true;
    reply.match_index = verified_last;
    // Only what the consistency check verified is known to match the leader.
    set_commit(std::max(commit_, std::min(m.commit, verified_last)));
  } else {
    reply.hint_index = hint_for_conflict(m.prev_index);
  }
  // After persist: a success reply claims the entries are durable here.
  send(std::move(reply), true);
}

// The consistency check and the append of §5.3. True if the log matched at
// prev_index; verified_last is then the last index known equal to the leader's.
bool Raft::append_entries(const Msg& m, Index& verified_last) {
  Index prev = m.prev_index;
  size_t skip = 0;
  // Entries up to our commit index are committed, hence equal to the
  // leader's (Leader Completeness): treat them as matched.
  while (prev < commit_ && skip < m.entries.size()) {
    ++prev;
    ++skip;
  }
  if (prev < commit_) {
    verified_last = commit_;
    return true;
  }
  if (prev > last_index() || term_at(prev) != (skip > 0 ? m.entries[skip - 1].term : m.prev_term)) {
    return false;
  }
  for (size_t i = skip; i < m.entries.size(); ++i) {
    const Entry& e = m.entries[i];
    if (e.index != prev + 1 + (i - skip)) {
      alarm("Append entries are not contiguous");
      return false;
    }
    if (e.index <= last_index()) {
      if (term_at(e.index) == e.term) continue;  // already have it
      if (e.index <= commit_) {
        alarm("Append conflicts with committed entry " + std::to_string(e.index));
        return false;
      }
      if (opts_.bugs.no_truncate_conflict) {
        // Planted bug: overwrite in place, keep the stale suffix. The
        // durable log is rewritten from here to mirror it.
        log_[e.index - first_index()] = e;
        pending_truncate_ = std::min(pending_truncate_.value_or(e.index), e.index);
        handed_last_ = std::min(handed_last_, e.index - 1);
        durable_last_ = std::min(durable_last_, e.index - 1);
        continue;
      }
      truncate_from(e.index);
    }
    append_local(e);
  }
  verified_last = prev + (m.entries.size() - skip);
  return true;
}

void Raft::truncate_from(Index index) {
  assert(index > commit_ && index > snap_.meta.last_index && index <= last_index());
  log_.resize(index - first_index());
  if (handed_last_ >= index) {
    pending_truncate_ = std::min(pending_truncate_.value_or(index), index);
    handed_last_ = index - 1;
  }
  durable_last_ = std::min(durable_last_, index - 1);
}

void Raft::append_local(Entry e) {
  assert(e.index == last_index() + 1);
  assert(e.term >= last_term() || opts_.bugs.no_truncate_conflict);
  log_.push_back(std::move(e));
}

// Where the leader should retry after a failed check (§5.3, "the follower
// can include the term of the conflicting entry and the first index it
// stores for that term"): skip the whole conflicting term at once.
Index Raft::hint_for_conflict(Index prev_index) const {
  if (prev_index > last_index()) return last_index() + 1;
  std::optional<Term> t = term_at(prev_index);
  Index i = prev_index;
  while (i > commit_ + 1 && i > first_index() && term_at(i - 1) == t) --i;
  return std::max(i, commit_ + 1);
}

// ---------------------------------------------------------------- follower: snapshot

// Chunks arrive in order; a chunk at the wrong offset is answered with the
// offset we expect, so the leader resumes there (§7, chunked).
void Raft::on_install_snapshot(const Msg& m, Time now) {
  if (!accept_from_leader(m, now)) return;
  Msg reply{.type = MsgType::kInstallSnapshotReply,
            .to = m.from,
            .snapshot = m.snapshot,
            .read_round = m.read_round};
  if (m.snapshot.last_index <= commit_) {
    // We already hold everything it covers, but perhaps not durably yet
    // (commit_ may cover entries just appended): the leader takes this as
    // a match, so it leaves only once they are durable.
    reply.success = true;
    send(std::move(reply), true);
    return;
  }
  if (!(inbound_.meta == m.snapshot)) {
    inbound_ = Snapshot{};
    if (m.offset == 0) inbound_.meta = m.snapshot;
  }
  bool fits = inbound_.data.size() + m.bytes.size() <= opts_.max_snapshot_bytes;
  if (inbound_.meta == m.snapshot && m.offset == inbound_.data.size() && fits) {
    inbound_.data.insert(inbound_.data.end(), m.bytes.begin(), m.bytes.end());
    if (m.done) {
      install(inbound_);
      inbound_ = Snapshot{};
      reply.success = true;
      send(std::move(reply), true);  // claims the snapshot is durable here
      return;
    }
  }
  reply.offset = inbound_.meta == m.snapshot ? inbound_.data.size() : 0;
  send(std::move(reply), false);
}

// Entries the snapshot covers go; a suffix after it stays only if our entry
// at its last index has its term (then the suffix matches the leader's).
// The same rule replays a snapshot record (DurableReader), so memory and disk agree.
void Raft::drop_prefix_through(const SnapshotMeta& meta) {
  if (term_at(meta.last_index) == meta.last_term && meta.last_index <= last_index()) {
    log_.erase(log_.begin(),
               log_.begin() + static_cast<ptrdiff_t>(meta.last_index - snap_.meta.last_index));
  } else {
    log_.clear();
    if (handed_last_ > meta.last_index) {
      pending_truncate_ =
          std::min(pending_truncate_.value_or(meta.last_index + 1), meta.last_index + 1);
    }
    durable_last_ = std::min(durable_last_, meta.last_index);
  }
}

void Raft::install(const Snapshot& s) {
  assert(s.meta.last_index > commit_);
  drop_prefix_through(s.meta);
  snap_ = s;
  handed_last_ = std::max(handed_last_, s.meta.last_index);
  commit_ = s.meta.last_index;
  pending_snapshot_ = true;
  pending_install_ = true;
}

// ---------------------------------------------------------------- repair

// Every peer, asked afresh (the nonce), bounds what the repairing replica
// may have promised before it lost its log:
// - a vote it gave in term T went to a candidate that held T durably before
//   asking, so the highest term reported is at least T, and it never votes
//   in that term again (it takes the term with its vote spent);
// - an entry it held that counted toward a commit is also held by another
//   member of that commit's majority, whose log (as reported) is then at
//   least as up to date as the entry: voting only for candidates at least
//   as up to date as every reported log keeps Raft's election restriction
//   as if this replica still held its own log. A leader that is probed
//   forgets the follower's match and ignores replies to earlier Appends.
// Only when a majority of the group answers healthy: with a majority
// repairing, a committed entry may be held by nobody who answers.
// It catches up like any follower and repairs once its own durable log is
// as up to date as every reported log (docs/raft.md "Repair").
void Raft::send_probes(Time now) {
  for (ReplicaId r = 0; r < opts_.replicas; ++r) {
    if (r == opts_.self || (probe_answered_ >> r) & 1u) continue;
    send(Msg{.type = MsgType::kProbe, .to = r, .read_round = probe_nonce_}, false);
  }
  probe_at_ = now + opts_.heartbeat_interval;
}

void Raft::on_probe(const Msg& m) {
  if (role_ == Role::kLeader && progress_[m.from].probe_nonce != m.read_round) {
    // Once per repair (its nonce): the follower's match is forgotten and
    // replies to earlier Appends are ignored.
    Progress& p = progress_[m.from];
    p = Progress{.next = last_index() + 1, .min_round = ++read_round_, .probe_nonce = m.read_round};
  }
  send(Msg{.type = MsgType::kProbeReply,
           .to = m.from,
           .prev_index = last_index(),
           .prev_term = last_term(),
           .success = repair_ == Repair::kNone,  // healthy: not repairing itself
           .read_round = m.read_round},
       false);
}

void Raft::on_probe_reply(const Msg& m, Time now) {
  (void)now;
  if (repair_ != Repair::kProbing || m.read_round != probe_nonce_ || (probe_answered_ >> m.from) & 1u) return;
  probe_answered_ |= 1u << m.from;
  if (m.success) probe_healthy_ |= 1u << m.from;
  probe_term_ = std::max(probe_term_, m.term);
  if (m.prev_term > probe_last_term_ || (m.prev_term == probe_last_term_ && m.prev_index > probe_last_index_)) {
    probe_last_term_ = m.prev_term;
    probe_last_index_ = m.prev_index;
  }
  const uint32_t everyone = ((1u << opts_.replicas) - 1) & ~(1u << opts_.self);
  if ((probe_answered_ & everyone) != everyone) return;
  if (static_cast<uint32_t>(std::popcount(probe_healthy_)) < majority()) {
    // A majority of the group is repairing: a committed entry may be held
    // by none of the healthy replicas, and nobody could tell. The group
    // stops rather than answer wrongly; it asks again, in case a peer has
    // repaired since.
    probe_answered_ = 0;
    probe_healthy_ = 0;
    ++stalled_probe_rounds_;
    return;
  }
  stalled_probe_rounds_ = 0;
  if (probe_term_ > term_) {
    term_ = probe_term_;
    vote_ = opts_.self;  // spent: it may have voted in this term before
    leader_ = kNone;
    note_role();
  } else if (probe_term_ == term_ && vote_ == kNone) {
    vote_ = opts_.self;
  }
  repair_ = Repair::kCatchingUp;
  maybe_end_repair();
}

void Raft::maybe_end_repair() {
  if (repair_ != Repair::kCatchingUp) return;
  const Index last = std::min(durable_last_, last_index());
  const Term term = term_at(last).value_or(0);
  const bool holds = term > probe_last_term_ || (term == probe_last_term_ && last >= probe_last_index_);
  if (!holds) return;
  repair_ = Repair::kNone;
  pending_repair_mark_ = false;
}

// ---------------------------------------------------------------- leader

void Raft::heartbeat_round(Time now) {
  assert(role_ == Role::kLeader);
  for (ReplicaId r = 0; r < opts_.replicas; ++r) {
    if (r == opts_.self) continue;
    Progress& p = progress_[r];
    bool outstanding = p.inflight > 0 || p.probe_sent;
    // Sent entries not matched a whole interval later: lost. Heartbeats
    // alone cannot tell, as they are acknowledged at the old match; without
    // this, a follower whose last Append was lost never gets it while the
    // group stays idle.
    bool stalled = p.next > p.match + 1 && p.match == p.match_at_round;
    bool reset = (outstanding && !p.acked_since_tick) || stalled;
    if (reset) {
      // Nothing came back for a whole interval: assume loss, probe again.
      p.next = p.match + 1;
      p.inflight = 0;
      p.probing = true;
      p.probe_sent = false;
    }
    // A follower that got entries this interval, and acknowledged them,
    // has heard from its leader: no heartbeat, unless a read waits for a
    // round of them.
    const bool skip = !reset && p.appended_since_tick && p.acked_since_tick && pending_reads_.empty() &&
                      p.commit_sent >= std::min(commit_, p.match);
    p.acked_since_tick = false;
    p.appended_since_tick = false;
    p.match_at_round = p.match;
    if (!skip) send_heartbeat(r);
  }
  heartbeat_at_ = now + opts_.heartbeat_interval;
}

void Raft::broadcast_append() {
  for (ReplicaId r = 0; r < opts_.replicas; ++r) {
    if (r != opts_.self) send_append(r);
  }
}

// A heartbeat carries new entries when there are any; otherwise it anchors
// at the follower's known match so it cannot fail on entries still in flight.
void Raft::send_heartbeat(ReplicaId peer) {
  Progress& p = progress_[peer];
  bool can_send_entries = p.probing ? !p.probe_sent : p.inflight < opts_.max_inflight_appends;
  if (p.next <= snap_.meta.last_index || p.probing ||
      (can_send_entries && p.next <= last_index())) {
    p.probe_sent = false;  // the heartbeat is itself the retry
    send_append(peer);
    return;
  }
  Index prev = std::max(p.match, snap_.meta.last_index);
  p.commit_sent = std::min(commit_, p.match);
  send(Msg{.type = MsgType::kAppend,
           .to = peer,
           .prev_index = prev,
           .prev_term = term_at(prev).value_or(0),
           .commit = std::min(commit_, p.match),
           .read_round = read_round_},
       false);
}

void Raft::send_append(ReplicaId peer) {
  Progress& p = progress_[peer];
  if (p.next <= snap_.meta.last_index) {
    send_snapshot_chunk(peer);
    return;
  }
  if (p.probing && p.probe_sent) return;
  Msg m{.type = MsgType::kAppend,
        .to = peer,
        .prev_index = p.next - 1,
        .prev_term = term_at(p.next - 1).value_or(0),
        .commit = commit_,
        .read_round = read_round_};
  if (!spare_entries_.empty() && p.next <= last_index()) {
    m.entries = std::move(spare_entries_.back());
    spare_entries_.pop_back();
  }
  p.commit_sent = commit_;
  size_t bytes = 0;
  for (Index i = p.next; i <= last_index() && m.entries.size() < opts_.max_append_entries; ++i) {
    const Entry& e = *entry(i);
    if (!m.entries.empty() && bytes + e.data.size() > opts_.max_append_bytes) break;
    bytes += e.data.size();
    m.entries.push_back(e);
  }
  if (p.probing) {
    p.probe_sent = true;
  } else if (!m.entries.empty()) {
    p.next = m.entries.back().index + 1;  // pipelined: optimistic
    p.inflight += 1;
    p.appended_since_tick = true;
  }
  // The leader's entries need not be durable locally first (thesis §10.2.1):
  // it counts itself toward a majority only once they are.
  send(std::move(m), false);
}

void Raft::send_more(ReplicaId peer) {
  Progress& p = progress_[peer];
  if (p.next <= snap_.meta.last_index) return;  // snapshot mode, driven by its replies
  while (!p.probing && p.inflight < opts_.max_inflight_appends && p.next <= last_index()) {
    send_append(peer);
  }
}

void Raft::send_snapshot_chunk(ReplicaId peer) {
  Progress& p = progress_[peer];
  if (!(p.snap == snap_.meta)) {
    p.snap = snap_.meta;
    p.snap_offset = 0;
  }
  size_t size = snap_.data.size();
  size_t from = std::min<size_t>(p.snap_offset, size);
  size_t to = std::min(size, from + opts_.snapshot_chunk_bytes);
  Msg m{.type = MsgType::kInstallSnapshot,
        .to = peer,
        .snapshot = snap_.meta,
        .offset = from,
        .read_round = read_round_};
  m.bytes.assign(snap_.data.begin() + static_cast<ptrdiff_t>(from),
                 snap_.data.begin() + static_cast<ptrdiff_t>(to));
  m.done = to == size;
  p.probing = true;
  p.probe_sent = true;
  send(std::move(m), false);
}

void Raft::on_append_reply(const Msg& m, Time now) {
  (void)now;
  if (role_ != Role::kLeader) return;
  heard_ |= 1u << m.from;
  Progress& p = progress_[m.from];
  if (m.read_round < p.min_round) return;  // to an Append sent before the follower probed
  p.acked_since_tick = true;
  p.acked_round = std::max(p.acked_round, m.read_round);
  if (m.success) {
    if (m.match_index > last_index()) {
      alarm("AppendReply matches beyond the leader's log");
      return;
    }
    if (m.match_index > p.match) p.match = m.match_index;
    p.next = std::max(p.next, p.match + 1);
    if (p.inflight > 0) p.inflight -= 1;
    if (p.probing) {
      p.probing = false;
      p.probe_sent = false;
      p.inflight = 0;
    }
    maybe_commit();
    send_more(m.from);
  } else if (m.prev_index >= p.match && m.prev_index < p.next) {
    // A real refusal (not one for an Append older than what has matched):
    // back up to the hint, never below what matched.
    p.next = std::max(p.match + 1, std::min(m.hint_index, m.prev_index));
    p.probing = true;
    p.probe_sent = false;
    p.inflight = 0;
    send_append(m.from);
  }
  release_reads();
}

void Raft::on_install_snapshot_reply(const Msg& m, Time now) {
  (void)now;
  if (role_ != Role::kLeader) return;
  heard_ |= 1u << m.from;
  Progress& p = progress_[m.from];
  if (m.read_round < p.min_round) return;
  p.acked_since_tick = true;
  p.acked_round = std::max(p.acked_round, m.read_round);
  release_reads();
  if (!(m.snapshot == p.snap)) return;  // about a snapshot we are no longer sending
  p.probe_sent = false;
  if (m.success) {
    p.match = std::max(p.match, m.snapshot.last_index);
    p.next = p.match + 1;
    p.snap = SnapshotMeta{};
    p.probing = false;
    p.inflight = 0;
    maybe_commit();
    send_more(m.from);
    return;
  }
  p.snap_offset = m.offset;
  send_snapshot_chunk(m.from);
}

// An entry commits once stored on a majority, and only if it is of the
// current term; older entries commit with it (§5.4.2, Figure 8). The leader
// counts itself only up to what is durable.
void Raft::maybe_commit() {
  if (role_ != Role::kLeader) return;
  Index matches[kMaxReplicas];
  for (ReplicaId r = 0; r < opts_.replicas; ++r) {
    matches[r] = r == opts_.self ? durable_last_ : progress_[r].match;
  }
  std::sort(matches, matches + opts_.replicas, [](Index a, Index b) { return a > b; });
  Index n = matches[majority() - 1];
  if (n <= commit_) return;
  bool current_term = term_at(n) == term_;
  if (!current_term && !opts_.bugs.commit_old_term_by_count) return;
  set_commit(n);
}

void Raft::set_commit(Index index) {
  if (index <= commit_) return;
  assert(index <= last_index());
  commit_ = index;
  if (role_ == Role::kLeader) release_reads();
}

// ---------------------------------------------------------------- proposals and reads

ProposeResult Raft::propose(std::span<const uint8_t> data, Time now) {
  (void)now;
  assert(restored_);
  if (role_ != Role::kLeader) return {ProposeStatus::kNotLeader, 0, 0, leader_};
  if (data.size() > opts_.max_append_bytes) return {ProposeStatus::kTooLarge, 0, 0, leader_};
  if (last_index() - commit_ >= opts_.max_uncommitted_entries) {
    return {ProposeStatus::kBusy, 0, 0, leader_};
  }
  Entry e{.term = term_,
          .index = last_index() + 1,
          .kind = EntryKind::kCommand,
          .data = SharedBytes(data)};
  append_local(std::move(e));
  for (ReplicaId r = 0; r < opts_.replicas; ++r) {
    if (r != opts_.self) send_more(r);
  }
  return {ProposeStatus::kAccepted, last_index(), term_, leader_};
}

// ReadIndex (thesis §6.4): the read's index is the commit index once this
// term has committed an entry; it may be answered once a heartbeat round
// started after it is acknowledged by a majority (we were still leader).
ReadResult Raft::read_index(uint64_t read_id, Time now) {
  (void)now;
  assert(restored_);
  if (role_ != Role::kLeader) return {ReadStatus::kNotLeader, leader_};
  if (opts_.bugs.read_without_check) {
    ready_reads_.push_back(ReadReady{read_id, commit_});
    return {ReadStatus::kPending, leader_};
  }
  if (pending_reads_.size() >= opts_.max_pending_reads) return {ReadStatus::kBusy, leader_};
  pending_reads_.push_back(PendingRead{read_id, 0, 0});
  if (commit_ >= term_start_index_) start_read_round();
  release_reads();
  return {ReadStatus::kPending, leader_};
}

// Gives every read without a round the commit index and a new round, and
// asks every follower to confirm it.
void Raft::start_read_round() {
  assert(role_ == Role::kLeader && commit_ >= term_start_index_);
  bool any = false;
  for (PendingRead& r : pending_reads_) {
    if (r.round != 0) continue;
    if (!any) ++read_round_;
    any = true;
    r.index = commit_;
    r.round = read_round_;
  }
  if (!any || opts_.replicas == 1) return;
  for (ReplicaId r = 0; r < opts_.replicas; ++r) {
    if (r != opts_.self) send_heartbeat(r);
  }
}

void Raft::release_reads() {
  if (role_ != Role::kLeader || pending_reads_.empty()) return;
  if (commit_ < term_start_index_) return;
  if (pending_reads_.back().round == 0) start_read_round();
  uint64_t confirmed = read_round_;  // the highest round a majority has echoed
  if (opts_.replicas > 1) {
    uint64_t rounds[kMaxReplicas];
    for (ReplicaId r = 0; r < opts_.replicas; ++r) {
      rounds[r] = r == opts_.self ? read_round_ : progress_[r].acked_round;
    }
    std::sort(rounds, rounds + opts_.replicas, [](uint64_t a, uint64_t b) { return a > b; });
    confirmed = rounds[majority() - 1];
  }
  size_t done = 0;
  while (done < pending_reads_.size() && pending_reads_[done].round != 0 &&
         pending_reads_[done].round <= confirmed) {
    ready_reads_.push_back(ReadReady{pending_reads_[done].read_id, pending_reads_[done].index});
    ++done;
  }
  pending_reads_.erase(pending_reads_.begin(),
                       pending_reads_.begin() + static_cast<ptrdiff_t>(done));
}

void Raft::fail_reads() {
  for (const PendingRead& r : pending_reads_) failed_reads_.push_back(r.read_id);
  pending_reads_.clear();
}

// ---------------------------------------------------------------- compaction

bool Raft::compact(Index upto, Term term, std::vector<uint8_t> snapshot_bytes) {
  if (upto <= snap_.meta.last_index || upto > applied_) return false;
  if (term_at(upto) != term) return false;
  SnapshotMeta meta{upto, term};
  drop_prefix_through(meta);
  snap_ = Snapshot{meta, std::move(snapshot_bytes)};
  pending_snapshot_ = true;
  return true;
}

// ---------------------------------------------------------------- Ready

bool Raft::has_ready() const {
  return pending_snapshot_ || pending_truncate_ || handed_last_ < last_index() || pending_repair_mark_ ||
         handed_hs_.term != term_ || handed_hs_.vote != vote_ || !outbox_.empty() ||
         applied_ < commit_ || !ready_reads_.empty() || !failed_reads_.empty() ||
         !role_changes_.empty();
}

Ready Raft::take_ready() {
  Ready rd;
  take_ready(rd);
  return rd;
}

void Raft::take_ready(Ready& rd) {
  rd.snapshot.reset();
  rd.snapshot_install = false;
  if (pending_snapshot_) {
    rd.snapshot = snap_;
    rd.snapshot_install = pending_install_;
    if (pending_install_) applied_ = std::max(applied_, snap_.meta.last_index);
    pending_snapshot_ = pending_install_ = false;
  }
  rd.truncate_from = pending_truncate_;
  pending_truncate_.reset();
  rd.entries.clear();
  for (Index i = std::max(handed_last_, snap_.meta.last_index) + 1; i <= last_index(); ++i) {
    rd.entries.push_back(*entry(i));
  }
  handed_last_ = last_index();
  // Term and vote must be durable before what depends on them leaves. The
  // commit index is only a hint (a restarted replica learns it again), so
  // a change of it alone is not worth a write and a sync: it rides along
  // with the next record that has to be written anyway.
  HardState hs{term_, vote_, commit_};
  const bool must = hs.term != handed_hs_.term || hs.vote != handed_hs_.vote;
  const bool writing = rd.snapshot || rd.truncate_from || !rd.entries.empty();
  rd.hard_state.reset();
  if (must || (writing && hs.commit != handed_hs_.commit)) {
    rd.hard_state = hs;
    handed_hs_ = hs;
  }
  rd.repair_mark = pending_repair_mark_;
  pending_repair_mark_.reset();
  rd.persist_mark = LogMark{last_index(), last_term()};
  // Swapped, not moved: each side keeps a buffer with room in it. The
  // entry lists of the messages the host has sent are kept for the next
  // Appends (send_append), so an Append does not allocate one.
  for (OutMsg& out : rd.messages) {
    if (out.msg.entries.capacity() == 0 || spare_entries_.size() >= kSpareEntryLists) continue;
    out.msg.entries.clear();
    spare_entries_.push_back(std::move(out.msg.entries));
  }
  rd.messages.clear();
  rd.messages.swap(outbox_);
  rd.committed.clear();
  for (Index i = applied_ + 1; i <= commit_; ++i) rd.committed.push_back(*entry(i));
  applied_ = std::max(applied_, commit_);
  rd.reads.clear();
  rd.reads.swap(ready_reads_);
  rd.reads_failed.clear();
  rd.reads_failed.swap(failed_reads_);
  rd.role_changes.clear();
  rd.role_changes.swap(role_changes_);
}

void Raft::persisted(LogMark mark, Time now) {
  (void)now;
  if (mark.index > last_index() || term_at(mark.index) != mark.term) return;  // log moved on
  durable_last_ = std::max(durable_last_, mark.index);
  maybe_commit();
  maybe_end_repair();
}

// ---------------------------------------------------------------- log view

std::optional<Term> Raft::term_at(Index index) const {
  if (index == snap_.meta.last_index) return snap_.meta.last_term;
  if (index < snap_.meta.last_index || index > last_index()) return std::nullopt;
  return log_[index - first_index()].term;
}

const Entry* Raft::entry(Index index) const {
  if (index < first_index() || index > last_index()) return nullptr;
  return &log_[index - first_index()];
}

// ---------------------------------------------------------------- records

namespace {

void put_u8(std::vector<uint8_t>& out, uint8_t v) { out.push_back(v); }
void put_header(std::vector<uint8_t>& out, RecordType t) {
  put_u8(out, static_cast<uint8_t>(t));
  put_u8(out, kRaftRecordVersion);
}

// Bounds-checked little-endian reading; every getter fails once short.
struct Reader {
  std::span<const uint8_t> buf;
  size_t pos = 0;
  bool ok = true;
  size_t left() const { return buf.size() - pos; }
  uint64_t get(int bytes) {
    if (!ok || left() < static_cast<size_t>(bytes)) {
      ok = false;
      return 0;
    }
    const uint8_t* p = buf.data() + pos;
    uint64_t v = 0;
    if (bytes == 8) {
      v = load_le64(p);
    } else if (bytes == 4) {
      v = load_le32(p);
    } else {
      for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
    }
    pos += static_cast<size_t>(bytes);
    return v;
  }
  std::span<const uint8_t> view(size_t n) {
    if (!ok || left() < n) {
      ok = false;
      return {};
    }
    pos += n;
    return buf.subspan(pos - n, n);
  }
};

}  // namespace

void encode_hard_state(const HardState& hs, std::vector<uint8_t>& out) {
  put_header(out, RecordType::kHardState);
  append_le64(out, hs.term);
  append_le32(out, hs.vote);
  append_le64(out, hs.commit);
}

void encode_entry(const Entry& e, std::vector<uint8_t>& out) {
  put_header(out, RecordType::kEntry);
  append_le64(out, e.term);
  append_le64(out, e.index);
  put_u8(out, static_cast<uint8_t>(e.kind));
  append_le32(out, static_cast<uint32_t>(e.data.size()));
  out.insert(out.end(), e.data.begin(), e.data.end());
}

void encode_truncate(Index from, std::vector<uint8_t>& out) {
  put_header(out, RecordType::kTruncate);
  append_le64(out, from);
}

void encode_snapshot(const Snapshot& s, std::vector<uint8_t>& out) {
  put_header(out, RecordType::kSnapshot);
  append_le64(out, s.meta.last_index);
  append_le64(out, s.meta.last_term);
  append_le32(out, static_cast<uint32_t>(s.data.size()));
  out.insert(out.end(), s.data.begin(), s.data.end());
}

void encode_repair(bool repairing, std::vector<uint8_t>& out) {
  put_header(out, RecordType::kRepair);
  put_u8(out, repairing ? 1 : 0);
}

// "Repairing" goes first, so nothing of this Ready is durable without it;
// "repaired" goes last, after the hard state that spent its vote.
std::vector<std::vector<uint8_t>> encode_ready_records(const Ready& rd) {
  std::vector<std::vector<uint8_t>> out;
  std::vector<uint8_t> scratch;
  for_each_ready_record(rd, scratch, [&](std::span<const uint8_t> r) { out.emplace_back(r.begin(), r.end()); });
  return out;
}

bool DurableReader::fail(const std::string& why) {
  error_ = "raft record " + std::to_string(records_) + ": " + why;
  return false;
}

bool DurableReader::add(std::span<const uint8_t> record) {
  Reader r{record};
  auto type = static_cast<RecordType>(r.get(1));
  uint64_t version = r.get(1);
  if (!r.ok) return fail("shorter than its header");
  if (version != kRaftRecordVersion) return fail("unknown version " + std::to_string(version));
  Index snap_last = d_.snapshot.meta.last_index;
  Index last = snap_last + d_.entries.size();
  switch (type) {
    case RecordType::kHardState: {
      HardState hs;
      hs.term = r.get(8);
      hs.vote = static_cast<ReplicaId>(r.get(4));
      hs.commit = r.get(8);
      if (!r.ok || r.left() != 0) return fail("hard state has the wrong length");
      if (hs.term < d_.hard_state.term) return fail("durable term went backwards");
      d_.hard_state = hs;
      break;
    }
    case RecordType::kEntry: {
      Entry e;
      e.term = r.get(8);
      e.index = r.get(8);
      uint64_t kind = r.get(1);
      uint64_t len = r.get(4);
      if (!r.ok || r.left() != len) return fail("entry has the wrong length");
      if (kind != static_cast<uint8_t>(EntryKind::kNoop) &&
          kind != static_cast<uint8_t>(EntryKind::kCommand)) {
        return fail("unknown entry kind " + std::to_string(kind));
      }
      e.kind = static_cast<EntryKind>(kind);
      e.data = SharedBytes(r.view(len));
      if (e.index <= snap_last) break;  // covered by a later-written snapshot
      if (e.index != last + 1)
        return fail("entry " + std::to_string(e.index) + " after " + std::to_string(last));
      d_.entries.push_back(std::move(e));
      break;
    }
    case RecordType::kTruncate: {
      Index from = r.get(8);
      if (!r.ok || r.left() != 0) return fail("truncate has the wrong length");
      if (from == 0) return fail("truncate from index 0");
      if (from <= snap_last) break;  // the snapshot already dropped the stale suffix
      if (from <= last) d_.entries.resize(from - snap_last - 1);
      break;
    }
    case RecordType::kSnapshot: {
      SnapshotMeta meta;
      meta.last_index = r.get(8);
      meta.last_term = r.get(8);
      uint64_t len = r.get(4);
      if (!r.ok || r.left() != len) return fail("snapshot has the wrong length");
      if (meta.last_index <= snap_last) return fail("snapshot does not advance");
      // The same rule as Raft::drop_prefix_through.
      bool keep = meta.last_index <= last &&
                  d_.entries[meta.last_index - snap_last - 1].term == meta.last_term;
      if (keep) {
        d_.entries.erase(d_.entries.begin(),
                         d_.entries.begin() + static_cast<ptrdiff_t>(meta.last_index - snap_last));
      } else {
        d_.entries.clear();
      }
      d_.snapshot.meta = meta;
      const std::span<const uint8_t> snap = r.view(len);
      d_.snapshot.data.assign(snap.begin(), snap.end());
      break;
    }
    case RecordType::kRepair: {
      const uint64_t flag = r.get(1);
      if (!r.ok || r.left() != 0 || flag > 1) return fail("repair record is malformed");
      d_.repairing = flag == 1;
      break;
    }
    default:
      return fail("unknown record type " + std::to_string(static_cast<int>(type)));
  }
  ++records_;
  return true;
}

}  // namespace ws::raft
