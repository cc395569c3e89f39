// Runs fn(seed) for every seed in [first, last) on `jobs` threads. Each
// simulation stays single-threaded; parallelism is only across seeds, and
// callers must combine results in an order that does not depend on timing.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace ws {

inline void for_each_seed(uint64_t first, uint64_t last, unsigned jobs,
                          const std::function<void(uint64_t seed)>& fn,
                          std::atomic<uint64_t>* done = nullptr) {
  std::atomic<uint64_t> next{first};
  auto worker = [&] {
    for (uint64_t seed; (seed = next.fetch_add(1)) < last;) {
      fn(seed);
      if (done) ++*done;
    }
  };
  if (jobs <= 1) {
    worker();
    return;
  }
  std::vector<std::thread> pool;
  for (unsigned i = 0; i < jobs; ++i) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
}

}  // namespace ws
