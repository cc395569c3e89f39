// Fixed, documented hashes. std::hash is implementation-defined and must not
// decide placement or output (DESIGN.md section 4).
//   fnv1a64: FNV-1a, 64-bit, offset basis 0xcbf29ce484222325, prime 0x100000001b3.
//   mix64:   the SplitMix64 finalizer, used to fold integers into a trace hash.
//   mum64:   the 128-bit product of two words, its halves xored (wyhash's
//            "mum"), used to mix a trace record's words.
//   words_hash64: hash_combine over little-endian 8-byte words, then the tail and length.
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

constexpr uint64_t mum64(uint64_t a, uint64_t b) {
  const unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(p) ^ static_cast<uint64_t>(p >> 64);
}

// Eight bytes at a time (little-endian words, then the tail and the
// length), for comparing long byte strings by hash where FNV's byte loop
// is too slow (a checker's fingerprint of every applied entry).
inline uint64_t words_hash64(const void* data, size_t n, uint64_t h = kFnvOffset) {
  const auto* p = static_cast<const unsigned char*>(data);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w = 0;
    for (int k = 0; k < 8; ++k) w |= uint64_t{p[i + k]} << (8 * k);  // compiles to one load
    h = hash_combine(h, w);
  }
  uint64_t tail = 0;
  for (size_t k = 0; i + k < n; ++k) tail |= uint64_t{p[i + k]} << (8 * k);
  return hash_combine(hash_combine(h, tail), n);
}

// The partition map of DESIGN.md section 1: stable_hash(account) % P, where
// stable_hash is fnv1a64 over the account's textual name.
inline uint32_t partition_of(std::string_view account_name, uint32_t partitions) {
  return static_cast<uint32_t>(fnv1a64(account_name) % partitions);
}

}  // namespace ws
