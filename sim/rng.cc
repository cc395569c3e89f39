#include "sim/rng.h"

#include "core/hash.h"

namespace ws {
namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
}  // namespace

void Xoshiro::reseed(uint64_t seed, std::string_view stream) { reseed_raw(seed ^ fnv1a64(stream)); }

void Xoshiro::reseed_raw(uint64_t s) {
  uint64_t x = s;
  for (auto& w : s_) w = splitmix64(x);
  if ((s_[0] | s_[1] | s_[2] | s_[3]) == 0) s_[0] = 1;
}

}  // namespace ws
