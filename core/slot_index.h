// The index DenseMap and StableMap share: open addressing over 8-byte slots,
// each the low 32 bits of a key's hash (its home slot, and a filter before
// the key is compared) and the entry's place in the map's own storage, plus
// one (0: empty). Linear probing, a power-of-two capacity kept at most half
// full by the map, deletion by backward shift. It never reads an entry:
// moving a slot needs only the hash bits it holds.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace ws {

class SlotIndex {
 public:
  static constexpr size_t kNone = SIZE_MAX;

  static uint32_t hash_bits(size_t h) { return static_cast<uint32_t>(h); }
  // The smallest capacity that keeps n entries at most half full.
  static size_t capacity_for(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    return cap;
  }

  size_t capacity() const { return slots_.size(); }
  uint32_t pos(size_t i) const { return slots_[i].pos; }
  void set_pos(size_t i, uint32_t pos) { slots_[i].pos = pos; }

  // The slot whose entry matches (same hash bits and is(pos) true), and
  // true; or the empty slot where such an entry would go, and false.
  template <class Is>
  std::pair<size_t, bool> probe(uint32_t hash, Is is) const {
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot s = slots_[i];
      if (s.pos == 0) return {i, false};
      if (s.hash == hash && is(s.pos)) return {i, true};
    }
  }
  template <class Is>
  size_t find(uint32_t hash, Is is) const {
    if (slots_.empty()) return kNone;
    auto [i, found] = probe(hash, is);
    return found ? i : kNone;
  }
  void fill(size_t i, uint32_t hash, uint32_t pos) { slots_[i] = Slot{hash, pos}; }
  // Places an entry known to be absent.
  void place(uint32_t hash, uint32_t pos) {
    size_t i = hash & mask_;
    while (slots_[i].pos != 0) i = (i + 1) & mask_;
    slots_[i] = Slot{hash, pos};
  }
  // The slot that holds pos (which is indexed under hash).
  size_t slot_of_pos(uint32_t hash, uint32_t pos) const {
    for (size_t i = hash & mask_;; i = (i + 1) & mask_)
      if (slots_[i].pos == pos) return i;
  }

  // Backward-shift deletion of slot i: each later slot of the probe run
  // moves back into the hole unless its home lies after the hole.
  void unlink(size_t i) {
    for (size_t j = (i + 1) & mask_; slots_[j].pos != 0; j = (j + 1) & mask_) {
      const size_t home = slots_[j].hash & mask_;
      const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (stays) continue;
      slots_[i] = slots_[j];
      i = j;
    }
    slots_[i] = Slot{};
  }

  // Empty, with room for `capacity` slots (a power of two).
  void reset(size_t capacity) {
    assert((capacity & (capacity - 1)) == 0 && capacity - 1 <= UINT32_MAX);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
  }
  void clear() {
    for (Slot& s : slots_) s = Slot{};
  }
  // The same entries in `capacity` slots, moved by the hash bits they hold.
  void grow(size_t capacity) {
    std::vector<Slot> old;
    old.swap(slots_);
    reset(capacity);
    for (const Slot& s : old)
      if (s.pos != 0) place(s.hash, s.pos);
  }

 private:
  struct Slot {
    uint32_t hash = 0;
    uint32_t pos = 0;
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

}  // namespace ws
