// walletload: drives real HTTP traffic against walletd and audits the money
// afterwards. Argument parsing and output only; the work is in net/loadgen.
// Exit codes: 0 audit passed, 1 audit failed, 2 bad input or unreachable.
#include <utility>

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "net/loadgen.h"

int main(int argc, char** argv) {
  CLI::App app{"walletload: open-loop HTTP load against walletd, with a money audit at the end"};
  ws::net::LoadOptions o;
  bool no_audit = false;
  std::string currencies = "USD";
  app.add_option("--url", o.urls, "front end to send to, http://host:port (repeatable)");
  app.add_option("--redis", o.redis, "instead of walletd: a Redis server host:port (see docs/walletd.md)");
  app.add_option("--redis-sha", o.redis_sha, "with --redis: SHA1 of the loaded transfer script");
  app.add_option("--rate", o.rate, "transfers per second, open loop (0 = closed loop, as fast as possible)")
      ->required()->check(CLI::Range(0.0, 1e7));
  app.add_option("--duration", o.duration_s, "seconds of load")->required()->check(CLI::Range(0.01, 86400.0));
  app.add_option("--accounts", o.accounts, "use accounts acct-0 .. acct-N-1")->required()->check(CLI::Range(2, 10'000'000));
  app.add_option("--connections", o.connections, "keep-alive HTTP connections")->check(CLI::Range(1, 4096));
  app.add_option("--currencies", currencies, "comma-separated currencies to transfer in");
  app.add_option("--timeout-ms", o.timeout_ms, "per-request timeout; then the same id is retried")
      ->check(CLI::Range(10, 600000));
  app.add_option("--settle", o.settle_s, "seconds to wait for answers and balances to settle")->check(CLI::Range(1, 3600));
  app.add_option("--max-amount", o.max_amount_minor, "largest amount in minor units")->check(CLI::Range(1, 1000000));
  app.add_option("--max-attempts", o.max_attempts,
                 "sends of one transfer (same id) before giving up and asking for its status")
      ->check(CLI::Range(1, 1000));
  app.add_flag("--no-audit", no_audit, "skip the balance reads and the audit (throughput only)");
  app.add_flag("--quiet", o.quiet, "no progress lines");
  app.add_option("--watch-pid", o.watch_pid, "soak: print this process's RSS (a walletd) with the progress")
      ->check(CLI::PositiveNumber);
  app.add_option("--watch-dir", o.watch_dir, "soak: print this data directory's size (live logs, archive/)")
      ->check(CLI::ExistingDirectory);
  app.add_option("--watch-every", o.watch_every_s, "seconds between --watch-* lines")->check(CLI::Range(1, 86400));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (o.urls.empty() == o.redis.empty()) {
    std::fprintf(stderr, "walletload: give --url (one or more) or --redis, not both or neither\n");
    return 2;
  }
  o.audit = !no_audit;
  o.currencies.clear();
  size_t pos = 0;
  while (pos <= currencies.size()) {
    size_t comma = currencies.find(',', pos);
    std::string c = currencies.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (c.empty()) {
      std::fprintf(stderr, "walletload: --currencies: empty currency in \"%s\"\n", currencies.c_str());
      return 2;
    }
    o.currencies.push_back(c);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  ws::net::LoadReport r = ws::net::run_load(o);
  if (!r.fatal.empty()) {
    std::fprintf(stderr, "walletload: %s\n", r.fatal.c_str());
    return 2;
  }
  std::printf("walletload: %llu transfers in %.2f s: %llu success, %llu failed, %llu rejected, %llu unknown\n",
              static_cast<unsigned long long>(r.planned), r.elapsed_s, static_cast<unsigned long long>(r.success),
              static_cast<unsigned long long>(r.failed), static_cast<unsigned long long>(r.rejected),
              static_cast<unsigned long long>(r.unknown));
  std::printf("walletload: achieved %.0f TPS; latency p50 %.2f ms, p99 %.2f ms, p999 %.2f ms, max %.2f ms\n",
              r.achieved_tps, r.p50_ms, r.p99_ms, r.p999_ms, r.max_ms);
  std::printf("walletload: %llu retries, %llu HTTP errors or timeouts, %llu status queries\n",
              static_cast<unsigned long long>(r.retries), static_cast<unsigned long long>(r.http_errors),
              static_cast<unsigned long long>(r.status_queries));
  if (!r.audit_ran) return 0;
  for (const std::string& p : r.audit_problems) std::printf("walletload: AUDIT: %s\n", p.c_str());
  std::printf("walletload: audit %s\n", r.audit_ok ? "OK: every success applied exactly once, totals conserved"
                                                  : "FAILED");
  return r.audit_ok ? 0 : 1;
}
