#include "net/audit.h"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/coordinator.h"
#include "core/event_log.h"
#include "core/events.h"
#include "core/money.h"
#include "core/partition_node.h"
#include "core/raft.h"
#include "core/replica.h"
#include "core/txid.h"
#include "net/file_storage.h"

namespace ws::net {
namespace {

struct Piece {
  Segment seg;
  bool archived = false;
};

// Whether a segment starts with a replica's repair mark (raft::encode_repair
// true): walletd begins a new segment with it when it drops a damaged or lost
// log, so the numbers before it are missing on purpose.
bool starts_with_repair_mark(const std::string& path) {
  std::vector<uint8_t> bytes;
  if (!read_whole_file(path, bytes)) return false;
  bool mark = false, first = true;
  scan_records_at(bytes, [&](size_t, std::span<const uint8_t> r) {
    if (!first) return;
    first = false;
    mark = r.size() == 3 && r[0] == static_cast<uint8_t>(raft::RecordType::kRepair) && r[2] == 1;
  });
  return mark;
}

// A node's history: the archived segments, then the live ones, oldest first.
// With `notes`, a gap before a segment that starts with a repair mark is a
// note, not a problem (a replica that dropped its damaged log).
std::vector<Piece> history_of(const std::string& dir, const std::string& name, std::vector<std::string>& problems,
                              std::vector<std::string>* notes = nullptr) {
  std::vector<Piece> out;
  for (const Segment& s : list_segments(dir + "/archive", name)) out.push_back(Piece{s, true});
  for (const Segment& s : list_segments(dir, name)) out.push_back(Piece{s, false});
  std::stable_sort(out.begin(), out.end(), [](const Piece& a, const Piece& b) { return a.seg.seq < b.seg.seq; });
  for (size_t i = 1; i < out.size(); ++i) {
    if (out[i].seg.seq == out[i - 1].seg.seq)
      problems.push_back("segment " + std::to_string(out[i].seg.seq) + " of " + name + " is both in the archive and live: " +
                         out[i - 1].seg.path + " and " + out[i].seg.path);
    else if (out[i].seg.seq != out[i - 1].seg.seq + 1 && notes && starts_with_repair_mark(out[i].seg.path))
      notes->push_back(name + ": segments " + std::to_string(out[i - 1].seg.seq + 1) + " to " +
                       std::to_string(out[i].seg.seq - 1) + " were dropped by a repair (" + out[i].seg.path +
                       " starts with its mark)");
    else if (out[i].seg.seq != out[i - 1].seg.seq + 1)
      problems.push_back("segments " + std::to_string(out[i - 1].seg.seq + 1) + " to " + std::to_string(out[i].seg.seq - 1) +
                         " of " + name + " are missing (between " + out[i - 1].seg.path + " and " + out[i].seg.path + ")");
  }
  return out;
}

// Calls fn(record, piece, offset) for every intact record of a log's
// history, clock marks included, reading each segment once; reports damage,
// and returns the bytes read and the newest segment's torn tail.
struct WalkTotals {
  uint64_t bytes = 0;
  uint64_t torn_tail = 0;  // never acknowledged: walletd truncates it
};
template <class Fn>
WalkTotals walk(const std::vector<Piece>& pieces, std::vector<std::string>& problems, Fn&& fn) {
  WalkTotals totals;
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const Piece& p = pieces[i];
    if (!read_whole_file(p.seg.path, bytes)) {
      problems.push_back("cannot read " + p.seg.path);
      continue;
    }
    LogScan scan = scan_records_at(bytes, [&](size_t start, std::span<const uint8_t> r) { fn(r, p, start); });
    totals.bytes += bytes.size();
    if (!scan.torn) continue;
    if (i + 1 == pieces.size() && !p.archived)
      totals.torn_tail = bytes.size() - scan.intact_end;
    else
      problems.push_back(p.seg.path + " is damaged at offset " + std::to_string(scan.intact_end) +
                         ": a record fails its checksum or framing, and the history goes on after it");
  }
  return totals;
}

// One node's replay as the audit reads its history.
struct NodeRun {
  const NodeSpec* spec = nullptr;
  AuditNode node;
  std::unique_ptr<PartitionNode> part;
  bool complete = true, failed = false, started = false;
  uint64_t skipped = 0;
  uint64_t cut = UINT64_MAX;  // events of its history the audit applies
  int64_t time_ns = 0;
  std::vector<std::vector<uint8_t>> live_records;  // a coordinator's live log, rebuilt as a restart would
  // --at: events before the last mark at or before the time, and in all.
  uint64_t at_count = 0, at_ok = 0;
  int64_t at_last = INT64_MIN;
  bool at_stopped = false;
};

// A log file series and the nodes that write it: one node, or every node of
// a --local process (records tagged with the node's id).
struct LogRun {
  std::vector<Piece> pieces;
  std::vector<NodeRun*> members;
  std::vector<NodeRun*> by_tag;  // shared logs: member by node id
  // The node a record belongs to, and its own payload; nullptr if none.
  NodeRun* owner(std::span<const uint8_t>& rec) const {
    if (by_tag.empty()) return members.front();
    std::optional<uint16_t> tag;
    rec = untag(rec, tag);
    return tag && *tag < by_tag.size() ? by_tag[*tag] : nullptr;
  }
};

struct TxTrack {
  int64_t net = 0;
  CurrencyIdx currency = 0;
};
using TxMap = std::unordered_map<TxId, TxTrack, TxIdHash>;

// One event that moved money, as a partition's replay applied it: its
// transfer's net (with the whole history: track) and the statement lines of
// the audited account. `index` and `time_ns` say where in the history it is.
void note_effect(AuditReport& r, TxMap& txs, bool track, const Event& e, const PartitionNode& part, uint64_t index,
                 int64_t time_ns) {
  const int64_t delta = effect_delta(e.effect, e.amount);
  // A move (a same-partition transfer) takes from `account` and gives the
  // same to `account2` in one event: nothing of it is ever in flight.
  const bool move = e.effect == Effect::kMove;
  if (track) {
    TxTrack& t = txs[e.tx];
    t.net += move ? 0 : delta;
    t.currency = e.currency;
  }
  auto line = [&](AccountId account, const char* leg, int64_t change) {
    r.statement.push_back(StatementLine{.index = index, .time_ns = time_ns, .tx = e.tx, .event = to_string(e.type),
                                        .leg = leg, .effect = to_string(e.effect), .currency = e.currency,
                                        .delta = change, .balance = part.balance(account, e.currency)});
  };
  if (r.account && e.account == *r.account) line(e.account, to_string(e.leg), delta);
  if (r.account && move && e.account2 == *r.account) line(e.account2, to_string(Leg::kCredit), -delta);
}

// Conservation across nodes at a consistent point. With the whole history
// every transfer's legs are summed: one that credited more than it debited
// created money, one that debited more is in flight. Without it, money in
// flight is known only when no leg is held anywhere (not under Saga, whose
// compensations are legs of their own): then every balance must add up to
// the initial total.
void judge_conservation(AuditReport& r, const TxMap& txs, bool consistent, bool holds_open) {
  const ClusterConfig& cfg = r.cluster.config;
  if (r.complete && consistent) {
    r.conservation_checked = true;
    for (const auto& [tx, t] : txs) {
      if (t.net > 0) {
        r.problems.push_back("transfer " + format_txid(tx) + ": credited " +
                             format_amount(Amount{t.net}, cfg.currencies[t.currency]) + " " +
                             cfg.currencies[t.currency].code + " more than it debited: money created");
      } else if (t.net < 0) {
        r.in_flight[t.currency] += -t.net;
        ++r.transfers_in_flight;
      }
    }
  } else if (!r.complete && consistent && !holds_open && cfg.protocol.kind != ProtocolKind::kSaga) {
    r.conservation_checked = true;
  }
  if (!r.conservation_checked) return;
  for (size_t c = 0; c < cfg.currencies.size(); ++c)
    if (r.balance_total[c] + r.in_flight[c] != r.initial_total[c])
      r.problems.push_back(std::string("conservation of ") + cfg.currencies[c].code + ": balances " +
                           format_amount(Amount{r.balance_total[c]}, cfg.currencies[c]) + " + in flight " +
                           format_amount(Amount{r.in_flight[c]}, cfg.currencies[c]) + " != initial " +
                           format_amount(Amount{r.initial_total[c]}, cfg.currencies[c]));
}

}  // namespace

std::optional<int64_t> parse_time(const std::string& text) {
  auto num = [&](size_t at, size_t len, int& out) {
    if (at + len > text.size()) return false;
    auto [p, ec] = std::from_chars(text.data() + at, text.data() + at + len, out);
    return ec == std::errc() && p == text.data() + at + len;
  };
  auto fraction = [&](size_t at, size_t end, int64_t& ns) {
    ns = 0;
    if (at >= end) return true;
    if (text[at] != '.' || at + 1 == end || end - at - 1 > 9) return false;
    int64_t scale = 100'000'000;
    for (size_t i = at + 1; i < end; ++i, scale /= 10) {
      if (text[i] < '0' || text[i] > '9') return false;
      ns += (text[i] - '0') * scale;
    }
    return true;
  };
  if (text.size() >= 20 && text[4] == '-' && text[7] == '-' && text[10] == 'T' && text[13] == ':' &&
      text[16] == ':' && text.back() == 'Z') {
    std::tm tm{};
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    if (!num(0, 4, y) || !num(5, 2, mo) || !num(8, 2, d) || !num(11, 2, h) || !num(14, 2, mi) || !num(17, 2, s))
      return std::nullopt;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
    int64_t ns = 0;
    if (!fraction(19, text.size() - 1, ns)) return std::nullopt;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return static_cast<int64_t>(timegm(&tm)) * 1'000'000'000 + ns;
  }
  size_t dot = text.find('.');
  size_t whole_end = dot == std::string::npos ? text.size() : dot;
  if (whole_end == 0 || whole_end > 11) return std::nullopt;
  int64_t secs = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + whole_end, secs);
  if (ec != std::errc() || p != text.data() + whole_end || secs < 0) return std::nullopt;
  int64_t ns = 0;
  if (!fraction(whole_end, text.size(), ns)) return std::nullopt;
  return secs * 1'000'000'000 + ns;
}

std::string format_time(int64_t ns) {
  std::time_t secs = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>((ns / 1'000'000) % 1000));
  return buf;
}

namespace {
// Replica groups (docs/walletd.md "Audit"). Each replica's log holds Raft's
// records: its hard state, entries (each the wallet events one handler
// appended), truncations and checkpoints. Every replica's history is read
// and its checksums verified; its live segments are read back as a restart
// would (raft::DurableReader). Replicas of a group that hold an entry at one
// index with one term must hold the same entry (log matching), and up to
// the newest commit any of them recorded, the same term (state-machine
// safety). The group's state is rebuilt from the replica a restart would
// elect, the most up-to-date log that is not repairing: Raft's election
// rule makes it hold every committed entry. Entries past the newest
// recorded commit are counted and included (that replica commits them when
// it leads). History for a statement starts at that replica's snapshot.
//
// A point in history (--upto, --at) is read from the group's committed
// entries, gathered from every replica's whole history (GroupHistory).

// One committed entry of a group, and when it was known committed: the
// earliest hard-state record that covered it (in any replica's log) was
// written after the clock mark after_ns and by by_ns. A writer appends a
// mark right after a record when 1 ms or more has passed since the last
// one (net/file_storage.cc), so a record directly followed by a mark was
// written by that mark's time, and any other within 1 ms of the mark
// before it.
struct CommittedEntry {
  raft::Entry entry;
  int64_t after_ns = 0;       // (0: no mark before it)
  int64_t by_ns = INT64_MAX;  // (INT64_MAX: no mark near it)
  size_t from = 0;            // the replica whose log it was first read from
};
struct TimedSnapshot {
  std::vector<uint8_t> data;
  int64_t by_ns = INT64_MAX;  // written by then, as above (the earliest copy)
};

// A group's committed history, from all its replicas' logs, archives
// included. A replica's log is followed record by record as a restart
// would read it (raft::DurableReader), never compacted: an entry is
// committed once a hard state the replica wrote covers it (Raft never
// truncates at or below a commit), and the entries up to a checkpoint's
// snapshot are committed (only applied entries are snapshotted). Every
// replica's view must agree (state-machine safety); snapshots are kept as
// starting points where no replica's log still holds the entries before
// them.
struct GroupHistory {
  std::map<raft::Index, CommittedEntry> entries;
  std::map<raft::Index, TimedSnapshot> snapshots;  // the state after that index
};

struct ReplicaFollow {
  raft::DurableReader reader;
  raft::Index exported = 0;           // entries up to here were handed to its group's history
  // Written by the record just read, timed by the record after it:
  std::vector<raft::Index> waiting;   // entries it covered as committed
  std::vector<raft::Index> written;   // the entry it wrote
  raft::Index snapshot = 0;           // the snapshot it holds
  std::vector<int64_t> written_by;    // [index]: when the entry's newest record was written
  bool failed = false;
  bool to_snapshot = false;  // its history's start was deleted: skip to its first snapshot
  bool checkpoint = false;   // the last record read was a snapshot (a checkpoint's first)
};

void audit_groups(const AuditOptions& opts, AuditReport& r) {
  const ClusterConfig& cfg = r.cluster.config;
  const size_t ncur = cfg.currencies.size();
  const bool cut = opts.at_ns || opts.upto;
  struct ReplicaRead {
    const NodeSpec* spec = nullptr;
    AuditNode node;
    uint32_t group = 0;
    std::vector<std::vector<uint8_t>> live;  // its records in the live segments
    bool cut = false;                         // its log's oldest segments were retired
    bool readable = true;
    raft::Durable d;
  };
  std::vector<ReplicaRead> reps(r.cluster.nodes.size());
  const std::string& shared = r.cluster.storage.shared_log;
  std::vector<std::vector<Piece>> logs;      // each log file series
  std::vector<std::vector<size_t>> log_members;  // the replicas writing it
  std::vector<size_t> by_id;
  if (!shared.empty()) {
    logs.push_back(history_of(opts.data_dir, shared, r.problems));
    log_members.emplace_back();
  }
  for (size_t i = 0; i < reps.size(); ++i) {
    reps[i].spec = &r.cluster.nodes[i];
    reps[i].node.name = reps[i].spec->name;
    reps[i].node.partition = reps[i].spec->kind == NodeKind::kPartition;
    reps[i].group = reps[i].node.partition ? reps[i].spec->index : cfg.partitions + reps[i].spec->index;
    if (shared.empty()) {
      logs.push_back(history_of(opts.data_dir, reps[i].spec->name, r.problems, &r.notes));
      log_members.emplace_back();
    }
    log_members.back().push_back(i);
    if (reps[i].spec->id >= by_id.size()) by_id.resize(reps[i].spec->id + 1, SIZE_MAX);
    by_id[reps[i].spec->id] = i;
  }
  const auto group_name = [&](uint32_t g) {
    return cfg.is_partition(g) ? "p" + std::to_string(g) : "c" + std::to_string(g - cfg.partitions);
  };

  // A point in history: each replica's whole log is followed (ReplicaFollow)
  // into its group's committed history.
  std::vector<GroupHistory> hist(cut ? cfg.groups() : 0);
  std::vector<ReplicaFollow> follow(cut ? reps.size() : 0);
  // Entries up to `upto` are committed in replica i's log; their times come
  // from the record after (settle).
  const auto hand_over = [&](size_t i, raft::Index upto) {
    ReplicaFollow& f = follow[i];
    const raft::Durable& d = f.reader.durable();
    const raft::Index snap = d.snapshot.meta.last_index;
    upto = std::min<raft::Index>(upto, snap + d.entries.size());
    GroupHistory& h = hist[reps[i].group];
    for (raft::Index idx = std::max(f.exported, snap) + 1; idx <= upto; ++idx) {
      const raft::Entry& e = d.entries[idx - snap - 1];
      auto [it, fresh] = h.entries.try_emplace(idx);
      if (fresh) {
        it->second = CommittedEntry{e, 0, INT64_MAX, i};
      } else if (const raft::Entry& o = it->second.entry; o.term != e.term || o.kind != e.kind || o.data != e.data) {
        r.problems.push_back("group " + group_name(reps[i].group) + ": " + reps[it->second.from].node.name + " and " +
                             reps[i].node.name + " committed different entries at index " + std::to_string(idx) +
                             " (terms " + std::to_string(o.term) + " and " + std::to_string(e.term) +
                             "; state-machine safety)");
      }
      f.waiting.push_back(idx);
    }
    f.exported = std::max(f.exported, upto);
  };
  // The record just read for replica i was written by `by`, after `mark`.
  const auto settle = [&](size_t i, int64_t by, int64_t mark) {
    ReplicaFollow& f = follow[i];
    GroupHistory& h = hist[reps[i].group];
    for (raft::Index idx : f.waiting) {
      CommittedEntry& c = h.entries.at(idx);
      if (by < c.by_ns) c.by_ns = by, c.after_ns = mark == INT64_MIN ? 0 : mark;
    }
    f.waiting.clear();
    for (raft::Index idx : f.written) {
      if (idx >= f.written_by.size()) f.written_by.resize(idx + 1, INT64_MAX);
      f.written_by[idx] = by;
    }
    f.written.clear();
    if (f.snapshot) {
      TimedSnapshot& s = h.snapshots.at(f.snapshot);
      s.by_ns = std::min(s.by_ns, by);
      f.snapshot = 0;
    }
  };
  const auto follow_record = [&](size_t i, std::span<const uint8_t> rec, const Piece& piece, uint64_t offset) {
    ReplicaFollow& f = follow[i];
    if (rec.size() < 2) return;
    const auto type = static_cast<raft::RecordType>(rec[0]);
    // A segment that starts with a repair mark begins a new log: the replica
    // dropped a damaged or lost one (history_of's note), or it is a
    // checkpoint that rebuilds the replica alone.
    if (shared.empty() && offset == 0 && type == raft::RecordType::kRepair) {
      f.reader = raft::DurableReader{};
      f.exported = 0;
      f.failed = false;
    }
    if (f.failed) return;
    if (f.to_snapshot && type != raft::RecordType::kSnapshot) return;  // the tail of a deleted history
    f.to_snapshot = false;
    const raft::Durable& before = f.reader.durable();
    const raft::Index snap = before.snapshot.meta.last_index, last = snap + before.entries.size();
    if (type == raft::RecordType::kSnapshot && rec.size() >= 18) {
      // Entries this snapshot keeps (the same rule as DurableReader) were applied, so committed.
      const raft::Index s = load_le64(rec.data() + 2);
      if (s > snap && s <= last && before.entries[s - snap - 1].term == load_le64(rec.data() + 10))
        hand_over(i, s);
    } else if (type == raft::RecordType::kTruncate && rec.size() >= 10) {
      // Raft never truncates at or below a commit: a replica that does
      // rewrites history. A checkpoint writes the entries after its
      // snapshot again behind a truncation. Either way what is written
      // there is compared again.
      const raft::Index from = load_le64(rec.data() + 2);
      if (from > snap && from <= f.exported) {
        if (!f.checkpoint)
          r.problems.push_back(reps[i].node.name + " truncated its log from entry " + std::to_string(from) +
                               ", which it had recorded as committed (up to " + std::to_string(f.exported) + ") at " +
                               piece.seg.path + " offset " + std::to_string(offset) + " (state-machine safety)");
        f.exported = from - 1;
      }
    }
    if (type != raft::RecordType::kRepair) f.checkpoint = type == raft::RecordType::kSnapshot;
    if (!f.reader.add(rec)) {
      f.failed = true;
      r.problems.push_back(reps[i].node.name + ": its Raft history does not read back at " + piece.seg.path + " offset " +
                           std::to_string(offset) + ": " + f.reader.error());
      return;
    }
    const raft::Durable& d = f.reader.durable();
    if (type == raft::RecordType::kSnapshot) {
      ++reps[i].node.snapshots;
      // Every replica holds the same snapshot at an index: the first copy is kept.
      auto [s, fresh] = hist[reps[i].group].snapshots.try_emplace(d.snapshot.meta.last_index);
      if (fresh) s->second.data = d.snapshot.data;
      f.snapshot = d.snapshot.meta.last_index;
      f.exported = std::max(f.exported, d.snapshot.meta.last_index);
    } else if (type == raft::RecordType::kHardState) {
      hand_over(i, d.hard_state.commit);
    } else if (type == raft::RecordType::kEntry && !d.entries.empty()) {
      f.written.push_back(d.entries.back().index);
    }
  };

  for (size_t l = 0; l < logs.size(); ++l) {
    const std::vector<Piece>& pieces = logs[l];
    if (pieces.empty()) {
      for (size_t i : log_members[l]) r.problems.push_back("no log segments of node " + reps[i].spec->name + " in " + opts.data_dir);
      continue;
    }
    for (size_t i : log_members[l]) {
      AuditNode& n = reps[i].node;
      n.first_segment = pieces.front().seg.seq;
      n.last_segment = pieces.back().seg.seq;
      for (const Piece& p : pieces) (p.archived ? n.archived_segments : n.live_segments)++;
      // The segments before the first were deleted (archive "delete"): as
      // a restart does, each replica starts at its first snapshot.
      if (cut) follow[i].to_snapshot = pieces.front().seg.seq > 1;
    }
    int64_t mark = INT64_MIN;  // the newest clock mark read in this log
    size_t last_who = SIZE_MAX;  // the replica of the record just read (its times wait for the next record)
    const WalkTotals totals = walk(pieces, r.problems, [&](std::span<const uint8_t> rec, const Piece& piece, uint64_t offset) {
      const bool is_mark = is_clock_mark(rec);
      if (cut && last_who != SIZE_MAX) {
        // Followed by a mark: written by its time; else within 1 ms of the mark before.
        const int64_t by = is_mark ? clock_mark_time(rec) : mark == INT64_MIN ? INT64_MAX : mark + 1'000'000;
        settle(last_who, by, mark);
        last_who = SIZE_MAX;
      }
      if (is_mark) {
        mark = clock_mark_time(rec);
        return;
      }
      size_t who = log_members[l].front();
      if (!shared.empty()) {
        std::optional<uint16_t> tag;
        rec = untag(rec, tag);
        if (!tag || *tag >= by_id.size() || by_id[*tag] == SIZE_MAX) return;
        who = by_id[*tag];
      }
      ReplicaRead& rep = reps[who];
      ++rep.node.events;
      if (cut) {
        follow_record(who, rec, piece, offset);
        last_who = who;
      } else if (!piece.archived) {
        rep.live.emplace_back(rec.begin(), rec.end());  // a restart reads the live log
      }
    });
    if (cut && last_who != SIZE_MAX) settle(last_who, mark == INT64_MIN ? INT64_MAX : mark + 1'000'000, mark);
    const auto first_live = std::find_if(pieces.begin(), pieces.end(), [](const Piece& p) { return !p.archived; });
    for (size_t i : log_members[l]) {
      reps[i].node.bytes = totals.bytes;
      reps[i].node.torn_tail_bytes = totals.torn_tail;
      reps[i].cut = first_live != pieces.end() && first_live->seg.seq > 1;
    }
  }

  TxMap txs;
  bool all_complete = true, holds_open = false;
  // Rebuilds group g's machine from a snapshot (none: from the start) and
  // committed entries, as read from `source`: a partition's balances and
  // the audited account's statement, a coordinator only checked to rebuild.
  struct Applied {
    const raft::Entry* entry;
    int64_t time_ns;  // for the statement
  };
  const auto rebuild_group = [&](uint32_t g, const std::string& source, const std::vector<uint8_t>* snapshot,
                                 raft::Index snapshot_index, const std::vector<Applied>& entries) -> uint64_t {
    const bool complete = snapshot == nullptr;
    all_complete = all_complete && complete;
    if (!cfg.is_partition(g)) {
      std::vector<std::vector<uint8_t>> records;
      if (snapshot) records.push_back(*snapshot);
      for (const Applied& a : entries)
        if (a.entry->kind == raft::EntryKind::kCommand)
          for_each_entry_record(a.entry->data, [&](std::span<const uint8_t> rec) {
            records.emplace_back(rec.begin(), rec.end());
            return true;
          });
      Coordinator coord(cfg, g - cfg.partitions);
      if (!records.empty() && !coord.rebuild(records))
        r.problems.push_back(source + ": its log does not rebuild a coordinator (a malformed event or snapshot)");
      return 0;
    }
    PartitionNode part(cfg, g);
    bool ok = true;
    if (complete) {
      part.replay_start();
    } else {
      std::vector<std::vector<uint8_t>> one{*snapshot};
      ok = part.rebuild(one, /*use_snapshots=*/false);
      if (!ok) r.problems.push_back(source + ": its snapshot at index " + std::to_string(snapshot_index) + " does not load");
    }
    if (r.account && cfg.account_partition[*r.account] == g)
      for (size_t c = 0; c < ncur; ++c) r.statement_opening[c] = part.balance(*r.account, static_cast<CurrencyIdx>(c));
    uint64_t n = 0;
    for (const Applied& a : entries) {
      const raft::Entry& e = *a.entry;
      if (!ok) break;
      if (e.kind != raft::EntryKind::kCommand) continue;
      const bool well_formed = for_each_entry_record(e.data, [&](std::span<const uint8_t> rec) {
        ++n;
        if (!part.replay_record(rec)) {
          r.problems.push_back(source + ": entry " + std::to_string(e.index) +
                               " cannot be replayed: an event this partition could not have written");
          return ok = false;
        }
        auto ev = decode_event(rec);
        if (ev && ev->type != EventType::kSnapshot && ev->effect != Effect::kNone)
          note_effect(r, txs, complete, *ev, part, e.index, a.time_ns);
        return true;
      });
      if (!well_formed && ok) {
        r.problems.push_back(source + ": entry " + std::to_string(e.index) + " is malformed");
        ok = false;
      }
    }
    holds_open = holds_open || part.open_holds() > 0;
    for (AccountId a = 0; a < cfg.accounts; ++a) {
      if (cfg.account_partition[a] != g) continue;
      for (size_t c = 0; c < ncur; ++c) {
        r.balances[a][c] = part.balance(a, static_cast<CurrencyIdx>(c));
        r.balance_total[c] += r.balances[a][c];
      }
    }
    return n;
  };

  if (cut) {
    bool at_end = true;  // every group's point is the end of its log
    for (uint32_t g = 0; g < cfg.groups(); ++g) {
      const std::string group = group_name(g);
      GroupHistory& h = hist[g];
      // Entries past the newest recorded commit, in the log a restart would
      // elect (the most up-to-date that is not repairing), as at the end of
      // the logs: that replica commits them when it leads. They count from
      // when it wrote them.
      size_t best = SIZE_MAX;
      const auto last_of = [&](size_t i) {
        const raft::Durable& d = follow[i].reader.durable();
        return d.entries.empty() ? std::pair{d.snapshot.meta.last_term, d.snapshot.meta.last_index}
                                 : std::pair{d.entries.back().term, d.entries.back().index};
      };
      for (size_t i = 0; i < reps.size(); ++i)
        if (reps[i].group == g && !follow[i].failed && !follow[i].reader.durable().repairing &&
            (best == SIZE_MAX || last_of(i) > last_of(best)))
          best = i;
      if (best != SIZE_MAX) {
        const raft::Index known = h.entries.empty() ? 0 : h.entries.rbegin()->first;
        const ReplicaFollow& f = follow[best];
        for (const raft::Entry& e : f.reader.durable().entries) {
          if (e.index <= known) continue;
          const int64_t by = e.index < f.written_by.size() ? f.written_by[e.index] : INT64_MAX;
          h.entries.emplace(e.index, CommittedEntry{e, 0, by, best});
          ++r.uncommitted_entries;
        }
      }
      // The point: entry N, or the newest entry (or snapshot) known
      // committed by the time; what is committed is a prefix, so every
      // entry before it is in.
      raft::Index k = 0, newest = h.entries.empty() ? 0 : h.entries.rbegin()->first;
      if (!h.snapshots.empty()) newest = std::max(newest, h.snapshots.rbegin()->first);
      if (opts.upto) {
        k = std::min<raft::Index>(*opts.upto, newest);
      } else {
        for (const auto& [idx, c] : h.entries)
          if (c.by_ns <= *opts.at_ns) k = idx;
        for (const auto& [idx, s] : h.snapshots)
          if (s.by_ns <= *opts.at_ns) k = std::max(k, idx);
      }
      if (k == 0 && !h.entries.count(1) && !h.snapshots.empty()) {
        // Its logs start at a snapshot: whether anything was committed
        // before the time cannot be told.
        r.problems.push_back("group " + group + ": the point is before the oldest state its logs keep (the snapshot at entry " +
                             std::to_string(h.snapshots.begin()->first) + "; the entries before it were deleted)");
        all_complete = false;
        continue;
      }
      // From the start if every entry up to k is in some replica's log,
      // else from the newest snapshot at or after the last one missing.
      raft::Index missing = 0, expect = 1;
      for (auto it = h.entries.begin(); it != h.entries.end() && it->first <= k; ++it) {
        if (it->first != expect) missing = it->first - 1;
        expect = it->first + 1;
      }
      if (expect <= k) missing = k;
      at_end = at_end && k == newest;
      const std::vector<uint8_t>* snapshot = nullptr;
      raft::Index from = 0;
      if (missing > 0) {
        auto s = h.snapshots.upper_bound(k);
        if (s == h.snapshots.begin() || std::prev(s)->first < missing) {
          r.problems.push_back("group " + group + ": entry " + std::to_string(missing) +
                               " is in no replica's log and no snapshot after it is left: its state at entry " +
                               std::to_string(k) + " cannot be rebuilt");
          all_complete = false;
          continue;
        }
        --s;
        from = s->first;
        snapshot = &s->second.data;
      }
      std::vector<Applied> entries;
      for (auto it = h.entries.upper_bound(from); it != h.entries.end() && it->first <= k; ++it)
        entries.push_back(Applied{&it->second.entry, it->second.after_ns});
      const std::string source = "group " + group;
      const uint64_t n = rebuild_group(g, source, snapshot, from, entries);
      for (ReplicaRead& rep : reps)
        if (rep.group == g) rep.node.applied = n;
      std::string line = group + ": entries " + std::to_string(from + 1) + ".." + std::to_string(k) +
                         (snapshot ? " after the snapshot at " + std::to_string(from) : " from the start") + " (" +
                         std::to_string(h.entries.empty() ? 0 : h.entries.rbegin()->first) + " in all";
      if (k > 0 && h.entries.count(k) && h.entries.at(k).by_ns != INT64_MAX)
        line += ", entry " + std::to_string(k) + " by " + format_time(h.entries.at(k).by_ns);
      r.group_sources.push_back(line + ")");
    }
    for (ReplicaRead& rep : reps) r.nodes.push_back(rep.node);
    r.complete = all_complete;
    // Each group stops at its own point, where a transfer can be half
    // inside, unless every point is its group's end.
    judge_conservation(r, txs, /*consistent=*/at_end, holds_open);
    return;
  }

  // Read back as walletd does (NodeLog::read_all): where the oldest
  // segments were retired, from the replica's first snapshot on.
  for (ReplicaRead& rep : reps) {
    raft::DurableReader reader;
    for (size_t i = rep.cut ? checkpoint_start(rep.live) : 0; i < rep.live.size() && rep.readable; ++i)
      if (!reader.add(rep.live[i])) {
        rep.readable = false;
        r.problems.push_back(rep.spec->name + ": its Raft log does not read back: " + reader.error());
      }
    rep.live.clear();
    rep.d = reader.take();
    rep.node.snapshots = rep.d.snapshot.meta.last_index > 0 ? 1 : 0;
  }

  const auto last_of = [](const raft::Durable& d) {
    return d.entries.empty() ? std::pair{d.snapshot.meta.last_term, d.snapshot.meta.last_index}
                             : std::pair{d.entries.back().term, d.entries.back().index};
  };
  const auto entry_at = [](const raft::Durable& d, raft::Index i) -> const raft::Entry* {
    const raft::Index first = d.snapshot.meta.last_index + 1;
    if (i < first || i - first >= d.entries.size()) return nullptr;
    return &d.entries[i - first];
  };
  for (uint32_t g = 0; g < cfg.groups(); ++g) {
    std::vector<ReplicaRead*> members;
    for (ReplicaRead& rep : reps)
      if (rep.group == g) members.push_back(&rep);
    if (members.empty()) continue;
    const std::string group = group_name(g);
    raft::Index commit = 0;
    for (ReplicaRead* m : members) commit = std::max(commit, m->d.hard_state.commit);
    for (size_t a = 0; a < members.size(); ++a)
      for (size_t b = a + 1; b < members.size(); ++b) {
        const raft::Durable& da = members[a]->d;
        const raft::Durable& db = members[b]->d;
        for (const raft::Entry& e : da.entries) {
          const raft::Entry* o = entry_at(db, e.index);
          if (!o) continue;
          if (o->term == e.term && (o->kind != e.kind || o->data != e.data))
            r.problems.push_back("group " + group + ": " + members[a]->node.name + " and " + members[b]->node.name +
                                 " hold different entries at index " + std::to_string(e.index) + " of term " +
                                 std::to_string(e.term) + " (log matching)");
          else if (o->term != e.term && e.index <= commit)
            r.problems.push_back("group " + group + ": " + members[a]->node.name + " and " + members[b]->node.name +
                                 " disagree at committed index " + std::to_string(e.index) + " (terms " +
                                 std::to_string(e.term) + " and " + std::to_string(o->term) + ")");
        }
      }
    ReplicaRead* best = nullptr;
    for (ReplicaRead* m : members)
      if (m->readable && !m->d.repairing && (!best || last_of(m->d) > last_of(best->d))) best = m;
    if (!best) {
      r.problems.push_back("group " + group + ": no replica has a log it could lead with (every one is repairing or unreadable)");
      continue;
    }
    const raft::Durable& d = best->d;
    const raft::Index last = last_of(d).second;
    if (last < commit)
      r.problems.push_back("group " + group + ": a replica recorded commit " + std::to_string(commit) +
                           " but the most up-to-date log, " + best->node.name + "'s, ends at " + std::to_string(last));
    if (last > commit) r.uncommitted_entries += last - commit;
    r.group_sources.push_back(group + " from " + best->node.name + " (entries " +
                              std::to_string(d.snapshot.meta.last_index + 1) + ".." + std::to_string(last) +
                              ", commit recorded " + std::to_string(commit) + ")");
    std::vector<Applied> entries;
    for (const raft::Entry& e : d.entries) entries.push_back(Applied{&e, 0});
    best->node.applied = rebuild_group(g, best->node.name, d.snapshot.meta.last_index == 0 ? nullptr : &d.snapshot.data,
                                       d.snapshot.meta.last_index, entries);
  }
  for (ReplicaRead& rep : reps) r.nodes.push_back(rep.node);
  r.complete = all_complete;
  judge_conservation(r, txs, /*consistent=*/true, holds_open);
}

}  // namespace

bool run_audit(const AuditOptions& opts, AuditReport& r, std::string& error) {
  struct stat st {};
  if (::stat(opts.data_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    error = "--data: " + opts.data_dir + " is not a directory";
    return false;
  }
  ClusterParse parsed = load_manifest(opts.data_dir);
  if (!parsed.spec) {
    error = parsed.error;
    return false;
  }
  r = AuditReport{};
  r.cluster = std::move(*parsed.spec);
  const ClusterConfig& cfg = r.cluster.config;
  const size_t ncur = cfg.currencies.size();
  if (opts.account) {
    const std::string& a = *opts.account;
    uint64_t n = 0;
    auto [p, ec] = std::from_chars(a.data() + std::min<size_t>(5, a.size()), a.data() + a.size(), n);
    if (a.size() <= 5 || a.compare(0, 5, "acct-") != 0 || ec != std::errc() || p != a.data() + a.size() ||
        n >= cfg.accounts || a != ClusterConfig::account_name(static_cast<AccountId>(n))) {
      error = "--account: " + a + " is not an account of this cluster (acct-0 .. acct-" +
              std::to_string(cfg.accounts - 1) + ")";
      return false;
    }
    r.account = static_cast<AccountId>(n);
  }
  const bool groups = cfg.replicas() > 1;
  r.cut = opts.at_ns || opts.upto;
  r.point = opts.at_ns ? (groups ? "the entries each group had recorded as committed by " + format_time(*opts.at_ns)
                                 : "the last clock mark at or before " + format_time(*opts.at_ns))
            : opts.upto ? (groups ? "entry " + std::to_string(*opts.upto) + " of each group's Raft log"
                                  : "event " + std::to_string(*opts.upto) + " of each node's history")
            : groups    ? "the end of every group's log (its most up-to-date replica)"
                        : "the end of every log";
  r.statement_opening.assign(ncur, 0);
  r.balances.assign(cfg.accounts, std::vector<int64_t>(ncur, 0));
  r.initial_total.assign(ncur, 0);
  r.balance_total.assign(ncur, 0);
  r.in_flight.assign(ncur, 0);
  for (size_t c = 0; c < ncur; ++c) r.initial_total[c] = cfg.initial_balance[c].minor * int64_t{cfg.accounts};
  if (groups) {
    audit_groups(opts, r);
    return true;
  }

  TxMap txs;
  bool holds_open = false;
  std::vector<NodeRun> runs(r.cluster.nodes.size());
  std::vector<LogRun> logs;
  const std::string& shared = r.cluster.storage.shared_log;
  if (!shared.empty()) logs.emplace_back().pieces = history_of(opts.data_dir, shared, r.problems);
  for (size_t i = 0; i < runs.size(); ++i) {
    NodeRun& run = runs[i];
    run.spec = &r.cluster.nodes[i];
    run.node.name = run.spec->name;
    run.node.partition = run.spec->kind == NodeKind::kPartition;
    if (run.node.partition) run.part = std::make_unique<PartitionNode>(cfg, run.spec->index);
    if (opts.upto) run.cut = *opts.upto;
    if (shared.empty()) logs.emplace_back().pieces = history_of(opts.data_dir, run.spec->name, r.problems);
    LogRun& log = logs.back();
    log.members.push_back(&run);
    if (!shared.empty()) {
      if (run.spec->id >= log.by_tag.size()) log.by_tag.resize(run.spec->id + 1, nullptr);
      log.by_tag[run.spec->id] = &run;
    }
  }

  // What a node does with one event of its history, up to its cut.
  auto apply = [&](NodeRun& run, std::span<const uint8_t> rec, const Piece& piece, uint64_t offset) {
    AuditNode& node = run.node;
    const NodeSpec& spec = *run.spec;
    ++node.events;
    auto e = decode_event(rec);
    const bool snap = e && (e->type == EventType::kSnapshot || e->type == EventType::kCoordSnapshot);
    node.snapshots += snap ? 1 : 0;
    const std::string& path = piece.seg.path;
    if (!node.partition) {
      if (snap && !piece.archived) run.live_records.clear();
      if (!piece.archived) run.live_records.emplace_back(rec.begin(), rec.end());
      if (!e) r.problems.push_back(path + " offset " + std::to_string(offset) + ": not an event this build can read");
      return;
    }
    if (run.failed || node.events > run.cut) return;
    PartitionNode& part = *run.part;
    bool ok = false;
    if (!run.started && !run.complete) {
      // The history before the first segment left was deleted: start from
      // this node's first snapshot (in a shared log, the segment may start
      // with another node's snapshot; this node's events before its own
      // snapshot are in that snapshot).
      if (!snap) return void(++run.skipped);
      std::vector<std::vector<uint8_t>> one{std::vector<uint8_t>(rec.begin(), rec.end())};
      ok = part.rebuild(one, /*use_snapshots=*/false);
    } else if (!run.started) {
      part.replay_start();
    }
    if (!run.started && r.account && cfg.account_partition[*r.account] == spec.index)
      for (size_t c = 0; c < ncur; ++c) r.statement_opening[c] = part.balance(*r.account, static_cast<CurrencyIdx>(c));
    if (run.started || run.complete) ok = part.replay_record(rec);
    run.started = true;
    if (!ok) {
      run.failed = true;
      r.problems.push_back(spec.name + ": event " + std::to_string(node.events) + " (" + path + " offset " +
                           std::to_string(offset) + ") cannot be replayed: " +
                           (snap ? "the snapshot differs from the state the events before it rebuild"
                                 : "an event this partition could not have written"));
      return;
    }
    ++node.applied;
    if (snap || e->effect == Effect::kNone) return;
    note_effect(r, txs, run.complete, *e, part, node.events, run.time_ns);
  };

  for (LogRun& log : logs) {
    if (log.pieces.empty()) {
      for (NodeRun* run : log.members)
        r.problems.push_back("no log segments of node " + run->spec->name + " in " + opts.data_dir);
      continue;
    }
    for (NodeRun* run : log.members) {
      AuditNode& node = run->node;
      node.first_segment = log.pieces.front().seg.seq;
      node.last_segment = log.pieces.back().seg.seq;
      for (const Piece& p : log.pieces) (p.archived ? node.archived_segments : node.live_segments)++;
      run->complete = node.first_segment == 1;
      r.complete = r.complete && run->complete;
    }
    // Where each node's history stops: --upto counts events; --at takes the
    // events before the last clock mark at or before the time, and those
    // after the newest mark when the time is at least 1 ms past it (a mark
    // follows any record appended 1 ms or more after the previous mark).
    if (opts.at_ns) {
      const int64_t at = *opts.at_ns;
      walk(log.pieces, r.problems, [&](std::span<const uint8_t> rec, const Piece&, uint64_t) {
        if (is_clock_mark(rec)) {
          const int64_t t = clock_mark_time(rec);
          for (NodeRun* run : log.members) {
            if (run->at_stopped) continue;
            if (t > at) run->at_stopped = true;
            else run->at_ok = run->at_count, run->at_last = t;
          }
          return;
        }
        if (NodeRun* run = log.owner(rec); run && !run->at_stopped) ++run->at_count;
      });
      for (NodeRun* run : log.members)
        run->cut = (!run->at_stopped && run->at_last != INT64_MIN && at - run->at_last >= 1'000'000) ? run->at_count
                                                                                                      : run->at_ok;
    }
    const WalkTotals totals = walk(log.pieces, r.problems, [&](std::span<const uint8_t> rec, const Piece& piece,
                                                              uint64_t offset) {
      if (is_clock_mark(rec)) {
        const int64_t t = clock_mark_time(rec);
        for (NodeRun* run : log.members)
          if (run->node.events <= run->cut) run->time_ns = t, run->node.last_mark_ns = t;
        return;
      }
      if (NodeRun* run = log.owner(rec)) apply(*run, rec, piece, offset);
    });
    for (NodeRun* run : log.members) {
      run->node.bytes = totals.bytes;
      run->node.torn_tail_bytes = totals.torn_tail;
    }
  }

  for (NodeRun& run : runs) {
    const NodeSpec& spec = *run.spec;
    if (run.part) {
      PartitionNode& part = *run.part;
      if (!run.complete && !run.started && run.node.events > 0 && !run.failed)
        r.problems.push_back(spec.name + ": the segments before its live log were deleted and no snapshot of it is left (" +
                             std::to_string(run.skipped) + " events with nothing to start from)");
      holds_open = holds_open || part.open_holds() > 0;
      for (AccountId a = 0; a < cfg.accounts; ++a) {
        if (cfg.account_partition[a] != spec.index) continue;
        for (size_t c = 0; c < ncur; ++c) {
          r.balances[a][c] = part.balance(a, static_cast<CurrencyIdx>(c));
          r.balance_total[c] += r.balances[a][c];
        }
      }
    } else if (!run.live_records.empty()) {
      Coordinator coord(cfg, spec.index);
      if (!coord.rebuild(run.live_records))
        r.problems.push_back(spec.name + ": its live log does not rebuild a coordinator (a malformed event or snapshot)");
    }
    r.nodes.push_back(run.node);
  }

  // A cut is consistent when every node stops at one point of one order:
  // the end of the logs, or a time in a log the nodes share (its records are
  // in the order the process appended them, so a credit is never inside a
  // cut that leaves its debit out). Each node's own --upto, or a time in
  // separate files, stops each node at its own point: a transfer can then
  // be half inside, and conservation is not judged.
  const bool cut = opts.upto || opts.at_ns;
  const bool consistent = !cut || (opts.at_ns && !r.cluster.storage.shared_log.empty());
  judge_conservation(r, txs, consistent, holds_open);
  return true;
}

namespace {
std::string cut_text(const AuditReport& r) {
  if (!r.complete) return "not checked (legs are held and the history before a snapshot was deleted)";
  return r.cluster.config.replicas() > 1
             ? "not checked (each group's log stops at its own point; a transfer can be half inside the cut)"
             : "not checked (each node's log stops at its own point; a transfer can be half inside the cut)";
}
}  // namespace

std::string audit_text(const AuditReport& r) {
  const ClusterConfig& cfg = r.cluster.config;
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "cluster: %u partitions, %u coordinators, %u accounts, %s\n", cfg.partitions,
                cfg.coordinators, cfg.accounts, to_string(cfg.protocol.kind));
  out += line;
  for (const AuditNode& n : r.nodes) {
    std::snprintf(line, sizeof line,
                  "node %-6s %-11s segments %llu..%llu (%u archived, %u live), %llu events, %llu snapshots, %llu bytes",
                  n.name.c_str(), n.partition ? "partition" : "coordinator",
                  static_cast<unsigned long long>(n.first_segment), static_cast<unsigned long long>(n.last_segment),
                  n.archived_segments, n.live_segments, static_cast<unsigned long long>(n.events),
                  static_cast<unsigned long long>(n.snapshots), static_cast<unsigned long long>(n.bytes));
    out += line;
    if (n.torn_tail_bytes) out += ", torn tail " + std::to_string(n.torn_tail_bytes) + " bytes (never acknowledged)";
    out += "\n";
  }
  out += "as of: " + r.point + "\n";
  if (!r.complete)
    out += cfg.replicas() > 1 ? "history: starts at a snapshot for some group (a statement starts there)\n"
                              : "history: starts at a snapshot for some node (older segments were deleted)\n";
  for (const std::string& g : r.group_sources) out += "group " + g + "\n";
  if (cfg.replicas() > 1)
    out += "entries past the newest recorded commit: " + std::to_string(r.uncommitted_entries) +
           (r.cut ? " (included from when they were written: the replica a restart elects commits them)\n"
                  : " (included: the replica read commits them when it leads)\n");
  auto amount = [&](int64_t minor, size_t c) {
    return (minor < 0 ? "-" : "") + format_amount(Amount{minor < 0 ? -minor : minor}, cfg.currencies[c]);
  };
  if (r.account) {
    const size_t a = *r.account;
    out += "statement of " + ClusterConfig::account_name(*r.account) + " (partition p" +
           std::to_string(cfg.account_partition[a]) + "):\n";
    out += "  opening balance:";
    for (size_t c = 0; c < cfg.currencies.size(); ++c)
      out += std::string(" ") + amount(r.statement_opening[c], c) + " " + cfg.currencies[c].code;
    out += "\n";
    for (const StatementLine& s : r.statement) {
      const size_t c = s.currency;
      std::snprintf(line, sizeof line, "  #%-9llu %-24s %s %-6s %-10s %-7s %14s %s  balance %s\n",
                    static_cast<unsigned long long>(s.index), s.time_ns ? format_time(s.time_ns).c_str() : "-",
                    format_txid(s.tx).c_str(), s.leg.c_str(), s.event.c_str(), s.effect.c_str(),
                    amount(s.delta, c).c_str(), cfg.currencies[c].code, amount(s.balance, c).c_str());
      out += line;
    }
    out += "  balance:";
    for (size_t c = 0; c < cfg.currencies.size(); ++c)
      out += std::string(" ") + amount(r.balances[a][c], c) + " " + cfg.currencies[c].code;
    out += "\n";
  } else {
    out += "balances:\n";
    for (AccountId a = 0; a < cfg.accounts; ++a) {
      out += "  " + ClusterConfig::account_name(a);
      for (size_t c = 0; c < cfg.currencies.size(); ++c)
        out += std::string(" ") + amount(r.balances[a][c], c) + " " + cfg.currencies[c].code;
      out += "\n";
    }
  }
  for (size_t c = 0; c < cfg.currencies.size(); ++c) {
    out += std::string("conservation ") + cfg.currencies[c].code + ": ";
    if (!r.conservation_checked) {
      out += (cut_text(r) + "\n");
      continue;
    }
    out += "initial " + amount(r.initial_total[c], c) + " = balances " + amount(r.balance_total[c], c) +
           " + in flight " + amount(r.in_flight[c], c) + "\n";
  }
  if (r.conservation_checked && r.complete)
    out += "transfers in flight: " + std::to_string(r.transfers_in_flight) + "\n";
  for (const std::string& n : r.notes) out += "note: " + n + "\n";
  for (const std::string& p : r.problems) out += "PROBLEM: " + p + "\n";
  out += r.problems.empty() ? "audit: OK\n" : "audit: FAILED (" + std::to_string(r.problems.size()) + " problems)\n";
  return out;
}

std::string audit_json(const AuditReport& r) {
  using nlohmann::json;
  const ClusterConfig& cfg = r.cluster.config;
  auto amount = [&](int64_t minor, size_t c) {
    return (minor < 0 ? "-" : "") + format_amount(Amount{minor < 0 ? -minor : minor}, cfg.currencies[c]);
  };
  json j;
  j["ok"] = r.problems.empty();
  j["problems"] = r.problems;
  j["notes"] = r.notes;
  j["as_of"] = r.point;
  j["complete_history"] = r.complete;
  if (cfg.replicas() > 1) {
    j["groups"] = r.group_sources;
    j["uncommitted_entries"] = r.uncommitted_entries;
  }
  j["nodes"] = json::array();
  for (const AuditNode& n : r.nodes)
    j["nodes"].push_back({{"name", n.name},
                          {"kind", n.partition ? "partition" : "coordinator"},
                          {"first_segment", n.first_segment},
                          {"last_segment", n.last_segment},
                          {"archived_segments", n.archived_segments},
                          {"live_segments", n.live_segments},
                          {"events", n.events},
                          {"applied", n.applied},
                          {"snapshots", n.snapshots},
                          {"bytes", n.bytes},
                          {"torn_tail_bytes", n.torn_tail_bytes}});
  json cons = json::object();
  for (size_t c = 0; c < cfg.currencies.size(); ++c) {
    json one = {{"checked", r.conservation_checked},
                {"initial", amount(r.initial_total[c], c)},
                {"balances", amount(r.balance_total[c], c)},
                {"in_flight", amount(r.in_flight[c], c)}};
    cons[cfg.currencies[c].code] = one;
  }
  j["conservation"] = cons;
  j["transfers_in_flight"] = r.transfers_in_flight;
  if (r.account) {
    const size_t a = *r.account;
    json st = json::array();
    for (const StatementLine& s : r.statement)
      st.push_back({{"index", s.index},
                    {"time", s.time_ns ? format_time(s.time_ns) : ""},
                    {"transaction_id", format_txid(s.tx)},
                    {"leg", s.leg},
                    {"event", s.event},
                    {"effect", s.effect},
                    {"currency", cfg.currencies[s.currency].code},
                    {"amount", amount(s.delta, s.currency)},
                    {"balance", amount(s.balance, s.currency)}});
    json bal = json::object();
    for (size_t c = 0; c < cfg.currencies.size(); ++c) bal[cfg.currencies[c].code] = amount(r.balances[a][c], c);
    json open = json::object();
    for (size_t c = 0; c < cfg.currencies.size(); ++c) open[cfg.currencies[c].code] = amount(r.statement_opening[c], c);
    j["account"] = {{"name", ClusterConfig::account_name(*r.account)},
                    {"opening_balances", open},
                    {"statement", st},
                    {"balances", bal}};
  } else {
    json bal = json::object();
    for (AccountId a = 0; a < cfg.accounts; ++a) {
      json one = json::object();
      for (size_t c = 0; c < cfg.currencies.size(); ++c) one[cfg.currencies[c].code] = amount(r.balances[a][c], c);
      bal[ClusterConfig::account_name(a)] = one;
    }
    j["balances"] = bal;
  }
  return j.dump(2) + "\n";
}

}  // namespace ws::net
