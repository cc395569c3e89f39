// A hash map whose entries sit in one dense array in insertion order, found
// through a separate open-addressing index of 8-byte slots (core/slot_index.h:
// hash bits and the entry's position). For tables that grow large and are
// touched mostly where they were last written, such as a partition's legs:
//   - a lookup of an absent key (every new transfer's Try) reads only the
//     index, a quarter the size of a table holding the entries inline, so
//     it misses the cache and the TLB less;
//   - entries written one after the other sit side by side, so the second
//     phase of a recent transfer finds its entry in cache;
//   - growing moves only index slots, without reading an entry.
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

#include "core/slot_index.h"

namespace ws {

template <class K, class V, class Hash, class Eq = std::equal_to<K>>
class DenseMap {
 public:
  DenseMap() = default;

  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }

  void clear() {
    items_.clear();
    index_.clear();
  }

  // Room for n entries without growing.
  void reserve(size_t n) {
    items_.reserve(n);
    if (SlotIndex::capacity_for(n) > index_.capacity()) index_.grow(SlotIndex::capacity_for(n));
  }

  // A handler looks up the entry its message names, then applies an event
  // about the same key: the last entry found is checked first. Keys are
  // unique, so whatever entry now sits at that place is the right one if
  // its key matches; nothing needs to invalidate the hint.
  V* find(const K& k) {
    const uint32_t pos = locate(k);
    if (pos != 0) last_ = pos;
    return pos == 0 ? nullptr : &items_[pos - 1].value;
  }
  const V* find(const K& k) const {
    const uint32_t pos = locate(k);
    return pos == 0 ? nullptr : &items_[pos - 1].value;
  }
  bool contains(const K& k) const { return locate(k) != 0; }

  // The value under k, default-constructed and appended if absent; second
  // tells whether it was inserted.
  std::pair<V*, bool> try_emplace(const K& k) {
    if (hinted(k)) return {&items_[last_ - 1].value, false};
    if (2 * (items_.size() + 1) > index_.capacity())
      index_.grow(index_.capacity() == 0 ? 16 : 2 * index_.capacity());
    const uint32_t h = SlotIndex::hash_bits(Hash{}(k));
    auto [i, found] = index_.probe(h, [&](uint32_t pos) { return Eq{}(items_[pos - 1].key, k); });
    if (found) {
      last_ = index_.pos(i);
      return {&items_[last_ - 1].value, false};
    }
    assert(items_.size() < UINT32_MAX);
    items_.push_back(Item{k, V{}});
    last_ = static_cast<uint32_t>(items_.size());
    index_.fill(i, h, last_);
    return {&items_.back().value, true};
  }
  V& operator[](const K& k) { return *try_emplace(k).first; }

  // The last entry takes the erased one's place in the array.
  bool erase(const K& k) {
    const size_t i = slot_of(k);
    if (i == SlotIndex::kNone) return false;
    const uint32_t pos = index_.pos(i);
    index_.unlink(i);
    const uint32_t last = static_cast<uint32_t>(items_.size());
    if (pos != last) {
      index_.set_pos(index_.slot_of_pos(SlotIndex::hash_bits(Hash{}(items_.back().key)), last), pos);
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
    index_.reset(SlotIndex::capacity_for(kept));
    for (size_t p = 0; p < kept; ++p)
      index_.place(SlotIndex::hash_bits(Hash{}(items_[p].key)), static_cast<uint32_t>(p + 1));
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

  bool hinted(const K& k) const { return last_ != 0 && last_ <= items_.size() && Eq{}(items_[last_ - 1].key, k); }
  // The entry's place (1-based), or 0.
  uint32_t locate(const K& k) const {
    if (hinted(k)) return last_;
    const size_t i = slot_of(k);
    return i == SlotIndex::kNone ? 0 : index_.pos(i);
  }

  size_t slot_of(const K& k) const {
    if (items_.empty()) return SlotIndex::kNone;
    return index_.find(SlotIndex::hash_bits(Hash{}(k)), [&](uint32_t pos) { return Eq{}(items_[pos - 1].key, k); });
  }

  std::vector<Item> items_;
  SlotIndex index_;
  uint32_t last_ = 0;  // the place of the entry last found or inserted (a hint)
};

}  // namespace ws
