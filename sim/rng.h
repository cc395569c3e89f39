// Deterministic random streams. One seed drives a run; each component draws
// from its own stream derived from (seed, stream name):
//   stream_seed = splitmix64(seed ^ fnv1a64(name)), expanded by SplitMix64
//   into the four words of a xoshiro256** state.
// Bounded integers and probabilities are computed here, never with
// std::uniform_*_distribution (its output differs between libraries).
#pragma once

#include <bit>
#include <cstdint>
#include <string_view>

#include "core/context.h"

namespace ws {

class Xoshiro final : public Rng {
 public:
  Xoshiro() = default;
  Xoshiro(uint64_t seed, std::string_view stream) { reseed(seed, stream); }
  void reseed(uint64_t seed, std::string_view stream);
  void reseed_raw(uint64_t s);
  // xoshiro256**, here so that the simulator's draws inline.
  uint64_t next_u64() override {
    const uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = std::rotl(s_[3], 45);
    return result;
  }
  // True with probability ppm / 1,000,000.
  bool chance_ppm(uint32_t ppm) { return ppm != 0 && below(1'000'000) < ppm; }
  // Uniform in [lo, hi] inclusive.
  int64_t between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo) + 1));
  }

 private:
  uint64_t s_[4] = {1, 2, 3, 4};
};

}  // namespace ws
