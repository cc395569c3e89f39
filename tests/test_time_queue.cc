// core/time_queue.h against a sorted reference: random pushes (many at the
// same time, so seq decides), pops and bulk erase_if, at depths from empty
// to thousands. The queue must hand out exactly the reference's minimum
// every time, whatever its internal layout.
#include <gtest/gtest.h>

#include <set>
#include <utility>

#include "core/time_queue.h"
#include "sim/rng.h"

namespace ws {
namespace {

struct Ev {
  Time t;
  uint64_t seq;
  uint64_t payload;
};

TEST(TimeQueue, PopsInTimeThenSeqOrderAgainstASortedReference) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Xoshiro rng(seed, "time-queue");
    TimeQueue<Ev> q;
    std::set<std::pair<Time, uint64_t>> ref;
    uint64_t seq = 0;
    // Times from a small range so that ties are common.
    const uint64_t span = seed % 2 ? 16 : 1'000'000;
    for (int step = 0; step < 20'000; ++step) {
      const uint64_t dice = rng.below(100);
      if (dice < 55 || ref.empty()) {
        const Time t = static_cast<Time>(rng.below(span));
        // seq is not always increasing: the coordinator chooses its own.
        const uint64_t s = rng.chance_ppm(200'000) ? rng.below(1'000'000'000) : ++seq;
        if (!ref.insert({t, s}).second) continue;
        q.push(Ev{t, s, s * 3});
      } else if (dice < 97) {
        ASSERT_FALSE(q.empty());
        const Ev e = q.pop();
        ASSERT_EQ(std::make_pair(e.t, e.seq), *ref.begin()) << "seed " << seed << " step " << step;
        ASSERT_EQ(e.payload, e.seq * 3);
        ref.erase(ref.begin());
      } else {
        const uint64_t mod = 2 + rng.below(5);
        q.erase_if([&](const Ev& e) { return e.seq % mod == 0; });
        std::erase_if(ref, [&](const auto& k) { return k.second % mod == 0; });
      }
      ASSERT_EQ(q.size(), ref.size());
      if (!ref.empty()) {
        ASSERT_EQ(std::make_pair(q.top().t, q.top().seq), *ref.begin());
      }
    }
    while (!ref.empty()) {
      const Ev e = q.pop();
      ASSERT_EQ(std::make_pair(e.t, e.seq), *ref.begin());
      ref.erase(ref.begin());
    }
    ASSERT_TRUE(q.empty());
  }
}

}  // namespace
}  // namespace ws
