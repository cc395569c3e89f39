#include "properties/progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <memory>
#include <vector>

namespace ws {

namespace {

constexpr auto kRedrawEvery = std::chrono::milliseconds(250);

std::string format_duration(double s) {
  char b[32];
  if (s < 100)
    std::snprintf(b, sizeof b, "%.0f s", s);
  else if (s < 6000)
    std::snprintf(b, sizeof b, "%.0f min", s / 60);
  else
    std::snprintf(b, sizeof b, "%.1f h", s / 3600);
  return b;
}

}  // namespace

std::string format_progress(const ProgressState& s, const std::string& unit) {
  const double rate = static_cast<double>(s.done) / std::max(s.seconds, 1e-9);
  char b[256];
  std::string out;
  if (s.total > 0)
    std::snprintf(b, sizeof b, "  %llu/%llu %s", (unsigned long long)s.done,
                  (unsigned long long)s.total, unit.c_str());
  else
    std::snprintf(b, sizeof b, "  %llu %s", (unsigned long long)s.done, unit.c_str());
  out += b;
  if (s.show_failed) {
    std::snprintf(b, sizeof b, ", %llu failed", (unsigned long long)s.failed);
    out += b;
  }
  std::snprintf(b, sizeof b, ", %.0f %s/s", rate, unit.c_str());
  out += b;
  if (s.total > 0 && s.done > 0 && s.done <= s.total)
    out += ", " + format_duration(static_cast<double>(s.total - s.done) / std::max(rate, 1e-9)) +
           " left";
  if (s.rss_bytes > 0) {
    std::snprintf(b, sizeof b, ", RSS %.0f MiB", static_cast<double>(s.rss_bytes) / (1 << 20));
    out += b;
  }
  return out;
}

uint64_t resident_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long long size = 0, resident = 0;
  const int n = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

bool progress_wanted(bool as_json) { return !as_json && isatty(STDERR_FILENO); }

ProgressLine::ProgressLine(std::string unit, uint64_t total, bool enabled, bool show_failed, double log_every,
                           bool rss)
    : unit_(std::move(unit)),
      enabled_(enabled || log_every > 0),
      show_failed_(show_failed),
      log_every_(log_every),
      rss_(rss),
      start_(std::chrono::steady_clock::now()) {
  total_.store(total);
  if (enabled_) ticker_ = std::thread([this] { loop(); });
}

ProgressLine::~ProgressLine() { finish(); }

void ProgressLine::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  const auto every = log_every_ > 0 ? std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::duration<double>(log_every_))
                                    : kRedrawEvery;
  while (!stop_) {
    wake_.wait_for(lock, every);
    if (!stop_) draw_locked();
  }
}

void ProgressLine::draw_locked() {
  ProgressState s;
  s.done = done_.load(std::memory_order_relaxed);
  s.total = total_.load(std::memory_order_relaxed);
  s.failed = failed_.load(std::memory_order_relaxed);
  s.show_failed = show_failed_;
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (rss_) s.rss_bytes = resident_bytes();
  if (log_every_ > 0) {
    std::fprintf(stderr, "%s\n", format_progress(s, unit_).c_str());
  } else {
    std::fprintf(stderr, "\r%s   ", format_progress(s, unit_).c_str());
    drawn_ = true;
  }
  std::fflush(stderr);
}

void ProgressLine::log(const std::string& line) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (drawn_) std::fprintf(stderr, "\r%100s\r", "");
  std::fprintf(stderr, "%s\n", line.c_str());
  if (drawn_) draw_locked();
}

void ProgressLine::finish() {
  if (!enabled_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  wake_.notify_all();
  ticker_.join();
  if (drawn_) std::fprintf(stderr, "\r%100s\r", "");
  std::fflush(stderr);
}

std::function<void(const TraceRecord&)> answered_requests_tap(ProgressLine& line) {
  // Which requests have been answered, over a sliding window of request
  // numbers (answers come roughly in request order): memory stays bounded
  // however long the run. A request that never gets an answer is let go
  // once it is kWindow requests behind.
  constexpr size_t kWindow = 1 << 20;
  struct Count {
    std::deque<uint8_t> answered;  // requests [base, base + size)
    uint64_t base = 0;
    uint64_t done = 0;  // over every run so far
    Time last = 0;
  };
  auto c = std::make_shared<Count>();
  return [c, &line](const TraceRecord& r) {
    if (r.t < c->last) {  // the next run began (run checks determinism twice)
      c->answered.clear();
      c->base = 0;
    }
    c->last = r.t;
    if (r.kind != TraceKind::kDeliver ||
        (r.msg != MsgKind::kTransferReply && r.msg != MsgKind::kStatusReply))
      return;
    if (r.outcome != Outcome::kSuccess && r.outcome != Outcome::kFailed &&
        r.outcome != Outcome::kRejected)
      return;
    if (r.request < c->base) return;  // answered (or let go) already
    const size_t at = static_cast<size_t>(r.request - c->base);
    if (at >= c->answered.size()) c->answered.resize(at + 1, 0);
    if (c->answered[at]) return;
    c->answered[at] = 1;
    line.set(++c->done, 0);
    while (!c->answered.empty() && (c->answered.front() || c->answered.size() > kWindow)) {
      c->answered.pop_front();
      ++c->base;
    }
  };
}

}  // namespace ws
