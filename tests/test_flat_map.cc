// core/flat_map.h against std::map as the reference: random inserts,
// lookups, erases and bulk erase_if over a small key space (so probe runs
// collide, wrap around the end of the table and are shifted back on erase),
// then the same checks for StableMap plus its promise that values never move,
// and for core/dense_map.h plus its insertion order.
#include <gtest/gtest.h>

#include <map>

#include "core/dense_map.h"
#include "core/flat_map.h"
#include "core/hash.h"
#include "sim/rng.h"

namespace ws {
namespace {

// A deliberately poor hash: many keys share a home slot, so deletion by
// backward shift and wrap-around are exercised constantly.
struct PoorHash {
  size_t operator()(uint64_t k) const { return static_cast<size_t>((k * 0x9E3779B97F4A7C15ULL) >> 61); }
};
struct GoodHash {
  size_t operator()(uint64_t k) const { return static_cast<size_t>(mix64(k)); }
};

template <class Map>
void same_contents(const Map& m, const std::map<uint64_t, uint64_t>& ref) {
  ASSERT_EQ(m.size(), ref.size());
  for (const auto& [k, v] : ref) {
    const uint64_t* got = m.find(k);
    ASSERT_NE(got, nullptr) << "key " << k << " lost";
    ASSERT_EQ(*got, v);
  }
  size_t seen = 0;
  m.for_each([&](uint64_t k, uint64_t v) {
    ++seen;
    ASSERT_EQ(ref.at(k), v);
  });
  ASSERT_EQ(seen, ref.size());
}

// With repeat, half the operations name the key of the one before, as a
// handler's lookup and its event's apply do: this exercises the maps' hint
// (the last entry found) across erases, reuse of places and erase_if.
template <class Map>
void random_operations(uint64_t seed, uint64_t key_space, bool repeat = false) {
  Map m;
  std::map<uint64_t, uint64_t> ref;
  Xoshiro rng(seed, "flat-map");
  uint64_t k = 0;
  for (int step = 0; step < 20000; ++step) {
    if (!repeat || rng.below(2) == 0) k = rng.below(key_space);
    switch (rng.below(5)) {
      case 0:
      case 1: {
        auto [v, fresh] = m.try_emplace(k);
        ASSERT_EQ(fresh, ref.count(k) == 0);
        *v = step;
        ref[k] = static_cast<uint64_t>(step);
        break;
      }
      case 2:
        ASSERT_EQ(m.erase(k), ref.erase(k) == 1);
        break;
      case 3:
        ASSERT_EQ(m.find(k) != nullptr, ref.count(k) == 1);
        break;
      case 4:
        if (rng.below(50) == 0) {
          const uint64_t mod = 2 + rng.below(4);
          size_t erased = 0;
          if constexpr (requires { m.erase_if([](uint64_t, uint64_t&) { return false; }); })
            erased = m.erase_if([&](uint64_t key, uint64_t&) { return key % mod == 0; });
          else
            continue;
          size_t want = std::erase_if(ref, [&](const auto& kv) { return kv.first % mod == 0; });
          ASSERT_EQ(erased, want);
        }
        break;
    }
    if (step % 997 == 0) same_contents(m, ref);
  }
  same_contents(m, ref);
  m.clear();
  EXPECT_EQ(m.size(), 0u);
  EXPECT_EQ(m.find(1), nullptr);
  EXPECT_EQ(m.find(k), nullptr);  // the hint does not outlive clear()
}

TEST(FlatMap, AgreesWithStdMapUnderRandomOperations) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    random_operations<FlatMap<uint64_t, uint64_t, PoorHash>>(seed, 300);
    random_operations<FlatMap<uint64_t, uint64_t, GoodHash>>(seed, 5000);
    random_operations<FlatMap<uint64_t, uint64_t, PoorHash>>(seed, 300, true);
    random_operations<FlatMap<uint64_t, uint64_t, GoodHash>>(seed, 5000, true);
  }
}

TEST(StableMap, AgreesWithStdMapUnderRandomOperations) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    random_operations<StableMap<uint64_t, uint64_t, PoorHash>>(seed, 300);
    random_operations<StableMap<uint64_t, uint64_t, GoodHash>>(seed, 5000);
    random_operations<StableMap<uint64_t, uint64_t, PoorHash>>(seed, 300, true);
    random_operations<StableMap<uint64_t, uint64_t, GoodHash>>(seed, 5000, true);
  }
}

TEST(DenseMap, AgreesWithStdMapUnderRandomOperations) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    random_operations<DenseMap<uint64_t, uint64_t, PoorHash>>(seed, 300);
    random_operations<DenseMap<uint64_t, uint64_t, GoodHash>>(seed, 5000);
    random_operations<DenseMap<uint64_t, uint64_t, PoorHash>>(seed, 300, true);
    random_operations<DenseMap<uint64_t, uint64_t, GoodHash>>(seed, 5000, true);
  }
}

// Entries come back in the order they were inserted; erase_if keeps the
// order of those left, and erase(k) puts the last entry in the hole.
TEST(DenseMap, IteratesInInsertionOrder) {
  DenseMap<uint64_t, uint64_t, GoodHash> m;
  std::vector<uint64_t> want;
  for (uint64_t k = 0; k < 3000; ++k) {
    m[k * 7919 + 1] = k;
    want.push_back(k * 7919 + 1);
  }
  auto order = [&] {
    std::vector<uint64_t> got;
    m.for_each([&](uint64_t k, uint64_t v) {
      got.push_back(k);
      EXPECT_EQ(k, v * 7919 + 1);
    });
    return got;
  };
  EXPECT_EQ(order(), want);
  EXPECT_EQ(m.erase_if([](uint64_t k, uint64_t&) { return k % 3 == 0; }), 1000u);
  std::erase_if(want, [](uint64_t k) { return k % 3 == 0; });
  EXPECT_EQ(order(), want);
  EXPECT_EQ(m.erase_if([](uint64_t, uint64_t&) { return false; }), 0u);
  ASSERT_TRUE(m.erase(want[5]));
  want[5] = want.back();
  want.pop_back();
  EXPECT_EQ(order(), want);
  for (uint64_t k : want) ASSERT_NE(m.find(k), nullptr) << k;
}

TEST(StableMap, ValuesNeverMoveWhileTheirKeyStays) {
  StableMap<uint64_t, uint64_t, GoodHash> m;
  std::map<uint64_t, const uint64_t*> where;
  for (uint64_t k = 0; k < 50000; ++k) {
    auto [v, fresh] = m.try_emplace(k);
    ASSERT_TRUE(fresh);
    *v = k;
    where[k] = v;
    if (k % 3 == 0 && k > 0) {
      m.erase(k - 1);
      where.erase(k - 1);
    }
  }
  for (const auto& [k, p] : where) {
    ASSERT_EQ(m.find(k), p) << "value of key " << k << " moved";
    ASSERT_EQ(*p, k);
  }
}

TEST(FlatMap, TheSameOperationsGiveTheSameIterationOrder) {
  auto build = [] {
    FlatMap<uint64_t, uint64_t, GoodHash> m;
    for (uint64_t k = 0; k < 1000; ++k) m[k * 7919] = k;
    for (uint64_t k = 0; k < 1000; k += 3) m.erase(k * 7919);
    std::vector<uint64_t> order;
    m.for_each([&](uint64_t k, uint64_t) { order.push_back(k); });
    return order;
  };
  EXPECT_EQ(build(), build());
}

}  // namespace
}  // namespace ws
