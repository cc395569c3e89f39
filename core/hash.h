// Fixed, documented hashes. std::hash is implementation-defined and must not
// decide placement or output (DESIGN.md section 4).
//   fnv1a64: FNV-1a, 64-bit, offset basis 0xcbf29ce484222325, prime 0x100000001b3.
//   mix64:   the SplitMix64 finalizer, used to fold integers into a trace hash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ws {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

constexpr uint64_t fnv1a64(const void* data, size_t n, uint64_t h = kFnvOffset) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= kFnvPrime;
  }
  return h;
}

constexpr uint64_t fnv1a64(std::string_view s, uint64_t h = kFnvOffset) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= kFnvPrime;
  }
  return h;
}

constexpr uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Order-sensitive combination of a running hash with one more value.
constexpr uint64_t hash_combine(uint64_t h, uint64_t v) { return mix64(h ^ mix64(v)); }

// The partition map of DESIGN.md section 1: stable_hash(account) % P, where
// stable_hash is fnv1a64 over the account's textual name.
inline uint32_t partition_of(std::string_view account_name, uint32_t partitions) {
  return static_cast<uint32_t>(fnv1a64(account_name) % partitions);
}

}  // namespace ws
