// The live progress line of the long commands (explore, compare, orders,
// sizing, long runs): work done of the total, failures so far, rate and time
// left, redrawn in place on stderr every quarter second. It is output only:
// nothing it reads or prints reaches a result, a trace or a hash.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "sim/trace.h"

namespace ws {

struct ProgressState {
  uint64_t done = 0;
  uint64_t total = 0;  // 0: unknown (no time left is shown)
  uint64_t failed = 0;
  bool show_failed = true;  // false where failures are not counted as the work goes
  double seconds = 0;       // wall time since the start
  uint64_t rss_bytes = 0;   // resident memory of this process (0: not shown)
};

// This process's resident set size in bytes (Linux /proc), 0 if unknown.
uint64_t resident_bytes();

// "  1200/5000 seeds, 0 failed, 812 seeds/s, 5 s left"
std::string format_progress(const ProgressState& s, const std::string& unit);

// True when a live line belongs on stderr: a terminal, and no --json.
bool progress_wanted(bool as_json);

class ProgressLine {
 public:
  // Draws nothing at all unless enabled (see progress_wanted). With
  // log_every > 0 it prints a whole line every log_every seconds instead of
  // redrawing one, terminal or not (a soak run logged to a file); with
  // rss, each line shows the process's resident memory.
  ProgressLine(std::string unit, uint64_t total, bool enabled, bool show_failed = true, double log_every = 0,
               bool rss = false);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // Thread-safe and cheap (two atomic stores): callers may report every item.
  void set(uint64_t done, uint64_t failed) {
    done_.store(done, std::memory_order_relaxed);
    failed_.store(failed, std::memory_order_relaxed);
  }
  void set_total(uint64_t total) { total_.store(total, std::memory_order_relaxed); }
  // Prints a whole line above the live one (e.g. one per sizing probe).
  void log(const std::string& line);
  // Erases the line and stops redrawing; the destructor does it too.
  void finish();

 private:
  void draw_locked();
  void loop();

  const std::string unit_;
  const bool enabled_;
  const bool show_failed_;
  const double log_every_;
  const bool rss_;
  std::atomic<uint64_t> done_{0}, failed_{0}, total_{0};
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::thread ticker_;
};

// A RunOptions::on_record tap that counts the requests of a run answered
// (success, failed or rejected) into `line`, over however many runs use it
// (run checks determinism by running twice), in bounded memory.
std::function<void(const TraceRecord&)> answered_requests_tap(ProgressLine& line);

}  // namespace ws
