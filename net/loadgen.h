// The load generator behind walletload: real HTTP traffic against walletd
// front ends, open loop at a fixed rate (or closed loop, as fast as the
// connections allow), keep-alive connections, retries with the same
// transaction_id, then an audit that can detect lost and duplicated money:
// every transfer's amount is known, so each account's final balance must be
// its initial balance plus the successful credits minus the successful
// debits, and a transfer whose answer was lost is resolved by asking for
// its status (which also fences it: an id never seen can never start later).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/money.h"

namespace ws::net {

struct LoadOptions {
  std::vector<std::string> urls;  // http://host:port
  // Instead of walletd: a Redis server at host:port running the transfer as
  // the Lua script whose SHA1 is redis_sha (scripts/side-by-side.sh), with
  // balances under acct:<12-digit account> in minor units. Same workload,
  // same connections, same audit.
  std::string redis;
  std::string redis_sha;
  double rate = 100;              // transfers per second; 0 = closed loop
  double duration_s = 10;
  uint32_t accounts = 100;
  uint32_t connections = 8;
  std::vector<std::string> currencies = {"USD"};
  uint32_t timeout_ms = 10000;     // per HTTP request
  uint32_t settle_s = 30;          // how long the audit waits for in-flight phase 2
  uint32_t max_amount_minor = 500; // amounts are 1..max, from the transaction id
  uint32_t max_attempts = 40;      // sends of one transfer before its status is asked instead
  bool audit = true;
  bool quiet = false;
  // Soak watching: every watch_every_s seconds, the RSS of process
  // watch_pid (a walletd) and the size of data directory watch_dir (live
  // logs and archive/ apart) are printed with the progress line.
  int watch_pid = 0;
  std::string watch_dir;
  uint32_t watch_every_s = 10;
};

// What a soak watches: a process's resident set (from /proc), and a
// directory's bytes outside and inside its archive/ subdirectory.
uint64_t process_rss_bytes(int pid);
struct DirBytes {
  uint64_t live = 0, archive = 0;
};
DirBytes data_dir_bytes(const std::string& dir);

struct LoadReport {
  uint64_t planned = 0, success = 0, failed = 0, rejected = 0, unknown = 0;
  uint64_t retries = 0, http_errors = 0, status_queries = 0;
  double elapsed_s = 0, achieved_tps = 0;
  double p50_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;
  bool audit_ran = false, audit_ok = false;
  std::vector<std::string> audit_problems;
  std::string fatal;  // set when the run could not be done (bad URL, unknown account, ...)
};

LoadReport run_load(const LoadOptions& opts);

}  // namespace ws::net
