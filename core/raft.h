// Raft consensus for one replica of a replica group (DESIGN.md "Replication";
// Ongaro & Ousterhout 2014 and Ongaro's thesis), written sans-I/O in the
// etcd-raft "Ready" style: the host feeds in time (tick), messages (step),
// client proposals and reads, and after each input drains take_ready(), which
// says what to persist, what to send (and whether only after persisting),
// what to apply and which reads may be answered. Nothing here touches a
// clock, a socket or a file; the only randomness is the election timeout,
// drawn from the Rng the host passes in. Same inputs, same outputs.
//
// The durable state (hard state, log, snapshot) is written by the host as
// records of an append-only log; encode_* and DurableReader define those
// records (docs/raft.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/context.h"
#include "core/shared_bytes.h"
#include "core/types.h"

namespace ws::raft {

using Term = uint64_t;
using Index = uint64_t;
using ReplicaId = uint32_t;  // index within the group, 0..replicas-1

constexpr ReplicaId kNone = UINT32_MAX;
constexpr uint32_t kMaxReplicas = 7;

enum class EntryKind : uint8_t {
  kNoop = 1,     // a new leader's first entry of its term (commits older entries, Figure 8)
  kCommand = 2,  // application bytes
};

struct Entry {
  Term term = 0;
  Index index = 0;
  EntryKind kind = EntryKind::kCommand;
  SharedBytes data{};  // copies share the bytes (core/shared_bytes.h)
  bool operator==(const Entry&) const = default;
};

// Must be durable before any message that depends on it leaves: a vote
// granted, a term adopted. commit is persisted as a hint only; a restarted
// replica re-applies from its snapshot whatever it was.
struct HardState {
  Term term = 0;
  ReplicaId vote = kNone;
  Index commit = 0;
  bool operator==(const HardState&) const = default;
};

struct SnapshotMeta {
  Index last_index = 0;  // the snapshot covers entries 1..last_index
  Term last_term = 0;
  bool operator==(const SnapshotMeta&) const = default;
};

// The application's state after applying entries 1..meta.last_index, as
// opaque bytes.
struct Snapshot {
  SnapshotMeta meta;
  std::vector<uint8_t> data;
};

enum class MsgType : uint8_t {
  kRequestVote = 1,
  kRequestVoteReply = 2,
  kAppend = 3,  // AppendEntries; with no entries it is a heartbeat
  kAppendReply = 4,
  kInstallSnapshot = 5,
  kInstallSnapshotReply = 6,
  // Protocol-aware recovery (docs/raft.md "Repair"): a replica whose log was
  // damaged or lost asks every peer for its term and log before it votes
  // again. Probe: read_round carries the nonce. ProbeReply: the nonce
  // echoed, the replier's term, its last log entry (prev_index, prev_term),
  // and success if it is not repairing itself.
  kProbe = 7,
  kProbeReply = 8,
  // Pre-vote (thesis §9.6): before it raises its term, a replica whose
  // election timer fired asks whether it could win. PreVote: the term it
  // would campaign in, its last log entry (prev_index, prev_term).
  // PreVoteReply: success if the replier would vote so; term is that
  // proposed term when granted, the replier's own when refused. Neither
  // changes a term, a vote or anything durable.
  kPreVote = 9,
  kPreVoteReply = 10,
};
// "request_vote", "append_reply", ...; "?" for a value no message has.
const char* to_string(MsgType t);

struct Msg {
  MsgType type = MsgType::kAppend;
  ReplicaId from = kNone;
  ReplicaId to = kNone;
  Term term = 0;
  // RequestVote: the candidate's last log entry. Append: the entry just
  // before `entries`. AppendReply: echoes the Append's prev_index.
  Index prev_index = 0;
  Term prev_term = 0;
  Index commit = 0;              // Append: the leader's commit index (for this follower)
  std::vector<Entry> entries{};  // Append: at most max_append_entries / max_append_bytes
  // RequestVoteReply: vote granted. AppendReply: the log matched.
  // InstallSnapshotReply: the snapshot is installed (or already covered).
  bool success = false;
  Index match_index = 0;  // AppendReply success: the follower's log equals the leader's up to here
  Index hint_index = 0;   // AppendReply reject: retry with prev_index = hint_index - 1
  SnapshotMeta snapshot{};       // InstallSnapshot and its reply: which snapshot
  uint64_t offset = 0;           // InstallSnapshot: where `bytes` start; reply: bytes held so far
  std::vector<uint8_t> bytes{};  // InstallSnapshot: one chunk, at most snapshot_chunk_bytes
  bool done = false;             // InstallSnapshot: the last chunk
  // Leader -> follower: the leader's heartbeat round; echoed in the reply.
  // A majority echoing round r confirms leadership for reads started before r.
  uint64_t read_round = 0;
  // A reply to a message of an older term: it only carries our term, so the
  // sender steps down. Never counted as an acknowledgement (its read_round and
  // indexes belong to that older term).
  bool stale = false;
};

// Planted bugs: each breaks one Raft rule; the randomized test must catch each.
struct RaftBugs {
  bool vote_before_durable = false;       // vote replies may leave before the vote is durable
  bool commit_old_term_by_count = false;  // commit an older-term entry by counting (Figure 8)
  bool no_truncate_conflict = false;      // overwrite a conflicting entry, keep the stale suffix
  bool read_without_check = false;        // read_index answers at once with the commit index
  bool fixed_election_timeout = false;    // election timeout always election_timeout_min
  bool ack_while_probing = false;         // a repairing replica takes entries before its term is restored
  bool prevote_elects = false;            // a won pre-vote takes the lead in the current term, no election
  bool prevote_sticky_leader = false;     // a silent leader is remembered until a new term, and pre-votes
                                          // are refused while any leader is remembered
  bool quorum_contact_kept = false;       // check-quorum never forgets a follower heard from once
  bool any() const {
    return vote_before_durable || commit_old_term_by_count || no_truncate_conflict || read_without_check ||
           fixed_election_timeout || ack_while_probing || prevote_elects || prevote_sticky_leader ||
           quorum_contact_kept;
  }
};

struct Options {
  ReplicaId self = 0;
  uint32_t replicas = 1;  // 1, 3 or 5 (any 1..kMaxReplicas works)
  Duration election_timeout_min = 150 * kMillisecond;
  Duration election_timeout_max = 300 * kMillisecond;  // exclusive; > min
  Duration heartbeat_interval = 50 * kMillisecond;     // < election_timeout_min
  size_t max_append_entries = 64;                      // entries per Append
  size_t max_append_bytes = 1 << 20;  // entry data bytes per Append; also the largest proposal
  size_t snapshot_chunk_bytes = 64 << 10;
  size_t max_snapshot_bytes = 64 << 20;   // a larger incoming snapshot is refused
  uint32_t max_inflight_appends = 4;      // unacknowledged Appends carrying entries, per follower
  size_t max_uncommitted_entries = 4096;  // propose answers kBusy beyond this
  size_t max_pending_reads = 1024;        // read_index answers kBusy beyond this
  // Pre-vote: an election starts only once a majority says it could win
  // (none of them has heard from a leader for election_timeout_min), so a
  // replica that was cut off does not raise the group's term when it comes
  // back. Check-quorum: a leader that has not heard from a majority for
  // election_timeout_max steps down, so clients stop waiting on it.
  bool pre_vote = true;
  bool check_quorum = true;
  RaftBugs bugs;
};

enum class Role : uint8_t { kFollower = 0, kCandidate = 1, kLeader = 2 };

struct RoleChange {
  Role role = Role::kFollower;
  Term term = 0;
  ReplicaId leader = kNone;  // as far as this replica knows
  bool operator==(const RoleChange&) const = default;
};

struct OutMsg {
  Msg msg;
  // True: send only once this Ready's hard state, snapshot and log changes
  // are durable (the engine's send_durable). False: may leave at once.
  bool after_persist = false;
};

struct ReadReady {
  uint64_t read_id = 0;
  Index index = 0;  // answer once the application has applied up to here
};

struct LogMark {
  Index index = 0;
  Term term = 0;
};

// Everything produced since the previous take_ready(). The host handles the
// fields in this order: persist snapshot, truncate_from, entries, hard_state
// (encode_ready_records gives the records in that order); call persisted();
// send messages; load the snapshot if snapshot_install; apply committed; answer
// reads; react to role_changes.
struct Ready {
  std::optional<Snapshot> snapshot;    // persist; drops covered entries (docs/raft.md)
  bool snapshot_install = false;       // a leader's snapshot: the application loads it
  std::optional<Index> truncate_from;  // drop durable entries with index >= this
  std::vector<Entry> entries;          // append after the truncation, in order
  std::optional<HardState> hard_state;
  LogMark persist_mark;  // pass to persisted() once the above is durable
  std::vector<OutMsg> messages;
  std::vector<Entry> committed;  // apply in order; each at most once per process lifetime
  std::vector<ReadReady> reads;
  std::vector<uint64_t> reads_failed;  // this replica lost leadership before confirming them
  std::vector<RoleChange> role_changes;
  // A repair record to write: true (repairing) before every other record of
  // this Ready, false (repaired) after them (encode_ready_records).
  std::optional<bool> repair_mark;

  bool needs_persist() const {
    return snapshot || truncate_from || !entries.empty() || hard_state || repair_mark;
  }
  bool empty() const {
    return !needs_persist() && messages.empty() && committed.empty() && reads.empty() &&
           reads_failed.empty() && role_changes.empty();
  }
};

// What survived on disk: replayed from records by DurableReader.
struct Durable {
  // The replica's log was damaged or lost and it has not finished repairing
  // from its peers (the newest repair record says so; the host also sets it
  // for an empty log or one that does not read back).
  bool repairing = false;
  HardState hard_state;
  Snapshot snapshot;           // meta.last_index == 0: none
  std::vector<Entry> entries;  // snapshot.meta.last_index + 1, + 2, ...
};

enum class ProposeStatus : uint8_t { kAccepted, kNotLeader, kTooLarge, kBusy };
struct ProposeResult {
  ProposeStatus status = ProposeStatus::kNotLeader;
  Index index = 0;  // accepted: where the entry sits
  Term term = 0;    // accepted: committed only if (index, term) is applied
  ReplicaId leader_hint = kNone;
};

enum class ReadStatus : uint8_t { kPending, kNotLeader, kBusy };
struct ReadResult {
  ReadStatus status = ReadStatus::kNotLeader;  // kPending: answered later in Ready::reads
  ReplicaId leader_hint = kNone;
};

class Raft {
 public:
  // rng is used only for election timeouts and must outlive the Raft.
  Raft(const Options& options, Rng& rng);

  // Must be called once before anything else, with an empty Durable for a
  // brand-new replica. False (and nothing changed) if the state is not one
  // this code could have written; error says why.
  bool restore(const Durable& durable, Time now, std::string* error = nullptr);

  void tick(Time now);
  Time next_deadline() const;  // call tick(now) at or after this time
  void step(const Msg& m, Time now);
  ProposeResult propose(std::span<const uint8_t> data, Time now);
  ReadResult read_index(uint64_t read_id, Time now);
  // The application took a snapshot of its state after applying entries
  // 1..upto (upto <= what it has been handed). False if upto is not newer than
  // the current snapshot, not yet handed out, or term does not match.
  bool compact(Index upto, Term term, std::vector<uint8_t> snapshot_bytes);

  bool has_ready() const;
  Ready take_ready();
  // The same into a Ready the host keeps: its vectors keep their capacity,
  // so a Ready per input costs no allocation.
  void take_ready(Ready& rd);
  // Everything up to mark (from a Ready) is durable; the leader counts its
  // own log toward a majority only up to here.
  void persisted(LogMark mark, Time now);

  // Queries (for the host and for property checkers).
  Role role() const { return role_; }
  Term term() const { return term_; }
  ReplicaId leader() const { return leader_; }
  ReplicaId vote() const { return vote_; }
  Index commit_index() const { return commit_; }
  Index applied_index() const { return applied_; }
  Index first_index() const { return snap_.meta.last_index + 1; }
  Index last_index() const { return snap_.meta.last_index + log_.size(); }
  Term last_term() const { return term_at(last_index()).value_or(0); }
  const SnapshotMeta& snapshot_meta() const { return snap_.meta; }
  // The term of the entry at index (the snapshot's last entry included);
  // nullopt if compacted away or beyond the log.
  std::optional<Term> term_at(Index index) const;
  // The entry at index, or nullptr if compacted or absent.
  const Entry* entry(Index index) const;
  // Protocol rules a peer broke (e.g. an Append asking to truncate a
  // committed entry); such input is refused, never trusted. Zero in a correct
  // group; the first description is kept.
  uint64_t alarms() const { return alarms_; }
  const std::string& first_alarm() const { return first_alarm_; }
  // Repair (protocol-aware recovery): probing asks every peer for its term
  // and last log entry; catching up, the replica may vote (for a candidate
  // at least as up to date as every log its peers reported) but not
  // campaign, until its own durable log is that up to date.
  enum class Repair : uint8_t { kNone, kProbing, kCatchingUp };
  Repair repair() const { return repair_; }
  // Probe rounds in a row that every peer answered with fewer than a
  // majority of the group healthy: beyond f, nobody may hold what this
  // replica lost (walletd refuses to run on after a few).
  uint32_t stalled_probe_rounds() const { return stalled_probe_rounds_; }
  bool repairing() const { return repair_ != Repair::kNone; }
  Index repair_target() const { return probe_last_index_; }

 private:
  struct Progress {
    Index next = 1;
    Index match = 0;
    uint32_t inflight = 0;  // Appends with entries not yet acknowledged
    bool probing = true;    // one Append at a time until the follower's log position is known
    bool probe_sent = false;
    bool acked_since_tick = false;
    bool appended_since_tick = false;  // an Append with entries left this heartbeat interval
    Index commit_sent = 0;             // the commit index last sent to this follower
    Index match_at_round = 0;  // match at the last heartbeat round: no progress since means loss
    uint64_t acked_round = 0;  // highest read_round echoed in this term
    // Replies echoing an older round are ignored: set when the follower
    // probed (it lost its log), so an acknowledgement its old incarnation
    // sent, still in flight, never counts toward a commit.
    uint64_t min_round = 0;
    uint64_t probe_nonce = 0;  // the follower's repair this was done for
    SnapshotMeta snap{};       // snapshot being sent (last_index 0: none)
    uint64_t snap_offset = 0;
  };
  struct PendingRead {
    uint64_t read_id = 0;
    Index index = 0;
    uint64_t round = 0;  // 0: waiting for the first commit of this term
  };

  uint32_t majority() const { return opts_.replicas / 2 + 1; }
  bool log_up_to_date(Term last_term, Index last_index) const;
  void reset_election_deadline(Time now);
  void become_follower(Term term, ReplicaId leader, Time now);
  void campaign(Time now);
  void become_leader(Time now);
  void note_role();
  void alarm(const std::string& what);
  void send(Msg m, bool after_persist);

  void pre_campaign(Time now);
  void start_round(Time now);
  void send_pre_votes();
  void on_pre_vote(const Msg& m, Time now);
  void on_pre_vote_reply(const Msg& m, Time now);
  void check_quorum(Time now);
  void on_request_vote(const Msg& m, Time now);
  void on_request_vote_reply(const Msg& m, Time now);
  void on_append(const Msg& m, Time now);
  void on_append_reply(const Msg& m, Time now);
  void on_install_snapshot(const Msg& m, Time now);
  void on_install_snapshot_reply(const Msg& m, Time now);
  void on_probe(const Msg& m);
  void on_probe_reply(const Msg& m, Time now);
  void send_probes(Time now);
  void maybe_end_repair();
  void reply_stale(const Msg& m);
  bool accept_from_leader(const Msg& m, Time now);

  // Follower log changes.
  bool append_entries(const Msg& m, Index& verified_last);
  void truncate_from(Index index);
  void append_local(Entry e);
  void install(const Snapshot& snapshot);
  void drop_prefix_through(const SnapshotMeta& meta);
  Index hint_for_conflict(Index prev_index) const;

  // Leader replication.
  void heartbeat_round(Time now);
  void send_append(ReplicaId peer);
  void send_heartbeat(ReplicaId peer);
  void send_snapshot_chunk(ReplicaId peer);
  void send_more(ReplicaId peer);
  void broadcast_append();
  void maybe_commit();
  void set_commit(Index index);
  void start_read_round();
  void release_reads();
  void fail_reads();

  Options opts_;
  Rng& rng_;
  bool restored_ = false;

  // Persistent (mirrors of what the host has been told to persist).
  Term term_ = 0;
  ReplicaId vote_ = kNone;
  Snapshot snap_;
  std::vector<Entry> log_;  // entries snap_.meta.last_index + 1 ...

  // Volatile.
  Role role_ = Role::kFollower;
  ReplicaId leader_ = kNone;
  Index commit_ = 0;
  Index applied_ = 0;       // handed to the application (committed or snapshot)
  Index durable_last_ = 0;  // the host confirmed the log durable up to here
  Time election_deadline_ = 0;
  Time heartbeat_at_ = 0;
  Time vote_resend_at_ = 0;
  bool pre_campaign_ = false;   // asking for pre-votes (role follower, term unchanged)
  uint32_t pre_votes_ = 0;      // bit per replica: would vote for us in term_ + 1
  uint32_t pre_answered_ = 0;   // bit per replica: answered our PreVote
  Time leader_heard_at_ = -1;   // the last Append or snapshot from the current leader (-1: never)
  uint32_t heard_ = 0;          // leader: bit per follower heard from since the last quorum check
  Time quorum_check_at_ = 0;    // leader: the next quorum check
  uint32_t votes_ = 0;          // bit per replica: granted this term
  uint32_t answered_ = 0;       // bit per replica: answered our RequestVote this term
  Index term_start_index_ = 0;  // leader: index of this term's no-op
  std::vector<Progress> progress_;
  uint64_t read_round_ = 0;
  std::vector<PendingRead> pending_reads_;  // in round order
  Snapshot inbound_;                        // follower: snapshot being received

  // Output not yet handed out.
  HardState handed_hs_;
  Index handed_last_ = 0;  // log entries up to here were handed out for persisting
  std::optional<Index> pending_truncate_;
  bool pending_snapshot_ = false;
  bool pending_install_ = false;
  std::vector<OutMsg> outbox_;
  // Entry lists of Appends already handed out, cleared, for the next ones.
  static constexpr size_t kSpareEntryLists = 16;
  std::vector<std::vector<Entry>> spare_entries_;
  std::vector<ReadReady> ready_reads_;
  std::vector<uint64_t> failed_reads_;
  std::vector<RoleChange> role_changes_;
  RoleChange last_role_;

  uint64_t alarms_ = 0;
  std::string first_alarm_;

  // Repair.
  Repair repair_ = Repair::kNone;
  uint64_t probe_nonce_ = 0;
  uint32_t probe_answered_ = 0;  // bit per replica
  uint32_t probe_healthy_ = 0;   // bit per replica: answered, and not repairing
  uint32_t stalled_probe_rounds_ = 0;
  Time probe_at_ = 0;
  Term probe_term_ = 0;            // the highest term a peer reported
  Term probe_last_term_ = 0;       // the most up-to-date log a peer reported:
  Index probe_last_index_ = 0;     // its last entry
  std::optional<bool> pending_repair_mark_;
};

// Durable records. Each is a payload for the engine's checksummed log
// (core/event_log.h frames it): type (u8) | version (u8) | body, little-endian.
constexpr uint8_t kRaftRecordVersion = 1;
enum class RecordType : uint8_t {
  kHardState = 0x41,
  kEntry = 0x42,
  kTruncate = 0x43,
  kSnapshot = 0x44,
  kRepair = 0x45,  // u8: 1 the replica starts repairing, 0 it has repaired
};

void encode_hard_state(const HardState& hs, std::vector<uint8_t>& out);
void encode_entry(const Entry& e, std::vector<uint8_t>& out);
void encode_truncate(Index from, std::vector<uint8_t>& out);
void encode_snapshot(const Snapshot& s, std::vector<uint8_t>& out);
void encode_repair(bool repairing, std::vector<uint8_t>& out);
// One record: encode(scratch) after clearing it, then fn(the record).
template <class Encode, class Fn>
void emit_record(std::vector<uint8_t>& scratch, Encode&& encode, Fn&& fn) {
  scratch.clear();
  encode(scratch);
  fn(std::span<const uint8_t>(scratch));
}
// The records for one Ready's persistent part, in the order they must be
// written: each encoded into `scratch` (cleared first) and handed to fn, so
// a host writes them with no allocation once scratch has grown.
template <class Fn>
void for_each_ready_record(const Ready& rd, std::vector<uint8_t>& scratch, Fn&& fn) {
  auto one = [&](auto&& encode) { emit_record(scratch, encode, fn); };
  if (rd.repair_mark == true) one([&](auto& out) { encode_repair(true, out); });
  if (rd.snapshot) one([&](auto& out) { encode_snapshot(*rd.snapshot, out); });
  if (rd.truncate_from) one([&](auto& out) { encode_truncate(*rd.truncate_from, out); });
  for (const Entry& e : rd.entries) one([&](auto& out) { encode_entry(e, out); });
  if (rd.hard_state) one([&](auto& out) { encode_hard_state(*rd.hard_state, out); });
  if (rd.repair_mark == false) one([&](auto& out) { encode_repair(false, out); });
}
// The same records as a list (tests).
std::vector<std::vector<uint8_t>> encode_ready_records(const Ready& rd);

// Replays records, oldest first, into the Durable that restore() takes.
class DurableReader {
 public:
  // False on a malformed or out-of-order record; error() says which and why,
  // and the Durable keeps what came before it.
  bool add(std::span<const uint8_t> record);
  const std::string& error() const { return error_; }
  uint64_t records_read() const { return records_; }  // the records added (the first bad one's index)
  const Durable& durable() const { return d_; }
  Durable take() { return std::move(d_); }

 private:
  bool fail(const std::string& why);
  Durable d_;
  std::string error_;
  uint64_t records_ = 0;
};

const char* role_name(Role r);

}  // namespace ws::raft
