// A hash map whose entries sit in one dense array in insertion order, found
// through a separate open-addressing index of 8-byte slots (a tag from the
// hash and the entry's position). For tables that grow large and are
// touched mostly where they were last written, such as a partition's legs:
//   - a lookup of an absent key (every new transfer's Try) reads only the
//     index, a quarter the size of a table holding the entries inline, so
//     it misses the cache and the TLB less;
//   - entries written one after the other sit side by side, so the second
//     phase of a recent transfer finds its entry in cache;
//   - growing rebuilds only the index, reading the entries in order.
// Linear probing, a power-of-two index kept at most half full.
//
// No allocation except when the array or the index grows. References to
// values are invalidated by any insert (the array may grow) and by any
// erase. Iteration is in insertion order, except that erase(k) moves the
// last entry into the hole: the same operations give the same order on
// every platform.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

namespace ws {

template <class K, class V, class Hash, class Eq = std::equal_to<K>>
class DenseMap {
 public:
  DenseMap() = default;

  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }

  void clear() {
    items_.clear();
    for (Slot& s : index_) s = Slot{};
  }

  // Room for n entries without growing.
  void reserve(size_t n) {
    items_.reserve(n);
    if (index_capacity_for(n) > index_.size()) rebuild(index_capacity_for(n));
  }

  V* find(const K& k) {
    const size_t i = slot_of(k);
    return i == kNone ? nullptr : &items_[index_[i].pos - 1].value;
  }
  const V* find(const K& k) const { return const_cast<DenseMap*>(this)->find(k); }
  bool contains(const K& k) const { return find(k) != nullptr; }

  // The value under k, default-constructed and appended if absent; second
  // tells whether it was inserted.
  std::pair<V*, bool> try_emplace(const K& k) {
    if (2 * (items_.size() + 1) > index_.size()) rebuild(index_.empty() ? 16 : 2 * index_.size());
    const size_t h = Hash{}(k);
    const uint32_t t = tag(h);
    size_t i = h & mask_;
    for (; index_[i].pos != 0; i = (i + 1) & mask_) {
      const Slot s = index_[i];
      if (s.tag == t && Eq{}(items_[s.pos - 1].key, k)) return {&items_[s.pos - 1].value, false};
    }
    items_.push_back(Item{k, V{}});
    index_[i] = Slot{t, static_cast<uint32_t>(items_.size())};
    return {&items_.back().value, true};
  }
  V& operator[](const K& k) { return *try_emplace(k).first; }

  // The last entry takes the erased one's place in the array.
  bool erase(const K& k) {
    const size_t i = slot_of(k);
    if (i == kNone) return false;
    const uint32_t pos = index_[i].pos;
    unlink(i);
    const uint32_t last = static_cast<uint32_t>(items_.size());
    if (pos != last) {
      index_[slot_at(last)].pos = pos;
      items_[pos - 1] = std::move(items_.back());
    }
    items_.pop_back();
    return true;
  }

  // Erases every entry for which pred(key, value) is true (pred is called
  // once per entry, in order); those left keep their order. The index is
  // rebuilt, smaller if the table shrank, only if anything was erased.
  template <class Pred>
  size_t erase_if(Pred pred) {
    size_t kept = 0;
    for (size_t i = 0; i < items_.size(); ++i) {
      if (pred(std::as_const(items_[i].key), items_[i].value)) continue;
      if (kept != i) items_[kept] = std::move(items_[i]);
      ++kept;
    }
    const size_t erased = items_.size() - kept;
    if (erased == 0) return 0;
    items_.resize(kept);
    rebuild(index_capacity_for(kept));
    return erased;
  }

  template <class Fn>
  void for_each(Fn fn) const {
    for (const Item& it : items_) fn(it.key, it.value);
  }
  template <class Fn>
  void for_each_mut(Fn fn) {
    for (Item& it : items_) fn(std::as_const(it.key), it.value);
  }

 private:
  struct Item {
    K key;
    V value;
  };
  struct Slot {
    uint32_t tag = 0;
    uint32_t pos = 0;  // the entry's place in items_, plus one; 0: empty
  };
  static constexpr size_t kNone = SIZE_MAX;

  static uint32_t tag(size_t h) { return static_cast<uint32_t>(static_cast<uint64_t>(h) >> 32); }
  static size_t index_capacity_for(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    return cap;
  }

  size_t slot_of(const K& k) const {
    if (items_.empty()) return kNone;
    const size_t h = Hash{}(k);
    const uint32_t t = tag(h);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot s = index_[i];
      if (s.pos == 0) return kNone;
      if (s.tag == t && Eq{}(items_[s.pos - 1].key, k)) return i;
    }
  }
  // The slot that points at the entry at pos (which is in the table).
  size_t slot_at(uint32_t pos) const {
    for (size_t i = Hash{}(items_[pos - 1].key) & mask_;; i = (i + 1) & mask_)
      if (index_[i].pos == pos) return i;
  }

  // Backward-shift deletion of index slot i: each later slot of the probe
  // run moves back into the hole unless its home lies after the hole.
  void unlink(size_t i) {
    for (size_t j = (i + 1) & mask_; index_[j].pos != 0; j = (j + 1) & mask_) {
      const size_t home = Hash{}(items_[index_[j].pos - 1].key) & mask_;
      const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (stays) continue;
      index_[i] = index_[j];
      i = j;
    }
    index_[i] = Slot{};
  }

  void rebuild(size_t capacity) {
    assert((capacity & (capacity - 1)) == 0 && capacity >= 2 * items_.size());
    index_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    for (size_t p = 0; p < items_.size(); ++p) {
      const size_t h = Hash{}(items_[p].key);
      size_t i = h & mask_;
      while (index_[i].pos != 0) i = (i + 1) & mask_;
      index_[i] = Slot{tag(h), static_cast<uint32_t>(p + 1)};
    }
  }

  std::vector<Item> items_;
  std::vector<Slot> index_;
  size_t mask_ = 0;
};

}  // namespace ws
