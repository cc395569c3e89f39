// A fake ws::Context for driving one engine actor directly in unit tests:
// an in-memory log framed with the real append_record/scan_records, a
// recorded outbox, a fixed clock and a counter Rng. Every append is durable
// at once, so send and send_durable behave the same except for the flag.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "core/context.h"
#include "core/event_log.h"
#include "core/messages.h"

namespace ws::testing_support {

class MemoryStorage final : public Storage {
 public:
  void append(std::span<const uint8_t> payload) override { append_record(bytes_, payload); }
  // Raw bytes, e.g. a torn half-record left by a crash mid-write.
  void append_raw(std::span<const uint8_t> bytes) {
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
  }
  void read_all(const std::function<void(std::span<const uint8_t>)>& fn) override {
    LogScan scan = scan_records(bytes_, fn);
    last_scan_torn_ = scan.torn;
  }

  // Every record payload, oldest first (for rebuild()).
  std::vector<std::vector<uint8_t>> records() const {
    std::vector<std::vector<uint8_t>> out;
    scan_records(bytes_, [&](std::span<const uint8_t> r) { out.emplace_back(r.begin(), r.end()); });
    return out;
  }
  size_t record_count() const {
    return scan_records(bytes_, [](std::span<const uint8_t>) {}).records;
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  bool last_scan_torn() const { return last_scan_torn_; }

 private:
  std::vector<uint8_t> bytes_;
  bool last_scan_torn_ = false;
};

class CounterRng final : public Rng {
 public:
  uint64_t next_u64() override { return ++counter_ * 0x9e3779b97f4a7c15ULL; }

 private:
  uint64_t counter_ = 0;
};

struct Sent {
  NodeId to;
  Message msg;
  bool durable;
};

class FakeContext final : public Context {
 public:
  explicit FakeContext(NodeId self, MemoryStorage& storage) : self_(self), storage_(storage) {}

  NodeId self() const override { return self_; }
  Time now() const override { return now_; }
  void send(NodeId to, const Message& m) override { outbox.push_back({to, m, false}); }
  void send_durable(NodeId to, const Message& m) override { outbox.push_back({to, m, true}); }
  void set_timer(Duration after, TimerTag tag) override { timers.push_back({after, tag}); }
  Storage& storage() override { return storage_; }
  Rng& rng() override { return rng_; }

  // The last message sent; the test fails (rather than crashes) when none was.
  const Message& last() const {
    static const Message kNone{};
    return outbox.empty() ? kNone : outbox.back().msg;
  }

  static constexpr Time kNow = 42 * kSecond;
  Time now_ = kNow;  // tests may move the clock forward
  std::vector<Sent> outbox;
  std::vector<std::pair<Duration, TimerTag>> timers;

 private:
  NodeId self_;
  MemoryStorage& storage_;
  CounterRng rng_;
};

}  // namespace ws::testing_support
