// SplitMix64 for tests: a fixed generator, the same on every platform.
#pragma once

#include <cstdint>

#include "core/context.h"

namespace ws::testing_support {

class SplitMix final : public Rng {
 public:
  explicit SplitMix(uint64_t seed) : s_(seed) {}
  uint64_t next_u64() override {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  bool chance(uint32_t per_mille) { return below(1000) < per_mille; }
  bool chance_ppm(uint64_t ppm) { return below(1'000'000) < ppm; }
  int64_t between(int64_t lo, int64_t hi) {  // inclusive
    return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo) + 1));
  }

 private:
  uint64_t s_;
};

}  // namespace ws::testing_support
