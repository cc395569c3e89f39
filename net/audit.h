// walletd audit: reads a data directory offline (the archive and the live
// logs of every node), verifies every checksum, replays the partitions'
// events to a chosen point, and reports the balances, or one account's
// statement, and whether money was conserved across all nodes. No process
// needs to run; nothing in the directory is changed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/txid.h"
#include "core/types.h"
#include "net/cluster_file.h"

namespace ws::net {

struct AuditOptions {
  std::string data_dir;
  std::optional<int64_t> at_ns;   // stop at this wall-clock time (ns since the Unix epoch)
  std::optional<uint64_t> upto;   // stop after this many events of each node's history (groups: entry N of each group's log)
  std::optional<std::string> account;  // print this account's statement
};

struct AuditNode {
  std::string name;
  bool partition = false;
  uint64_t first_segment = 0, last_segment = 0;
  uint32_t archived_segments = 0, live_segments = 0;
  uint64_t events = 0;     // engine records in the history read
  uint64_t applied = 0;    // of them, up to the audit's point
  uint64_t snapshots = 0;  // snapshot records read (each checked against the replay)
  uint64_t bytes = 0;
  uint64_t torn_tail_bytes = 0;  // the newest segment's unacknowledged tail
  int64_t last_mark_ns = 0;      // the newest clock mark applied
};

struct StatementLine {
  uint64_t index = 0;   // the event's number in its node's history
  int64_t time_ns = 0;  // the clock mark at or before it (0 if none yet)
  TxId tx;
  std::string event, leg, effect;
  CurrencyIdx currency = 0;
  int64_t delta = 0, balance = 0;  // minor units
};

struct AuditReport {
  ClusterSpec cluster;
  std::vector<AuditNode> nodes;
  bool complete = true;  // every node's history starts at its first segment
  std::string point;     // "the end of every log", "event 500 of each node", a time
  bool cut = false;      // a point in history (--at, --upto), not the end of the logs
  std::vector<std::vector<int64_t>> balances;  // [account][currency], minor units
  std::vector<int64_t> initial_total, balance_total, in_flight;  // per currency
  uint64_t transfers_in_flight = 0;
  bool conservation_checked = false;
  std::optional<AccountId> account;
  std::vector<int64_t> statement_opening;  // per currency, where the history read starts
  std::vector<StatementLine> statement;
  // Replica groups: where each group's state was read from, and (at the
  // end of the logs) the entries past the newest commit any replica
  // recorded (included).
  std::vector<std::string> group_sources;
  uint64_t uncommitted_entries = 0;
  std::vector<std::string> problems;  // empty: the audit passed
  std::vector<std::string> notes;     // worth knowing, not wrong
};

// Returns false with `error` set for bad input (no such directory, no
// manifest, an unknown account); damage and broken invariants are problems
// in the report.
bool run_audit(const AuditOptions& opts, AuditReport& report, std::string& error);
std::string audit_text(const AuditReport& r);
std::string audit_json(const AuditReport& r);
// "2026-12-01T16:30:00Z", with optional fractional seconds, or seconds since
// the Unix epoch. nullopt if malformed.
std::optional<int64_t> parse_time(const std::string& text);
std::string format_time(int64_t ns);

}  // namespace ws::net
