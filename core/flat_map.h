// An open-addressing hash map for the engine's hot tables (a partition's
// legs, a coordinator's rows): keys and values inline in one array, linear
// probing, a power-of-two capacity kept at most half full so a probe is
// short, and erasure by backward shift (no tombstones), so a table that is
// filled and emptied forever stays fast.
//
// No allocation except when the table grows; none per insert or erase.
// References to values are invalidated by an insert that grows the table and
// by any erase (entries move). Iteration order depends on the hash and on
// the history of inserts and erases only, never on addresses: the same
// operations give the same order on every platform. Callers that write
// order-dependent output (snapshots, digests) sort first.
#pragma once

#include <cstddef>
#include <cassert>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "core/slot_index.h"

namespace ws {

template <class K, class V, class Hash, class Eq = std::equal_to<K>>
class FlatMap {
 public:
  FlatMap() = default;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  void clear() {
    if (size_ == 0) return;
    for (auto& u : used_) u = 0;
    for (auto& s : slots_) s = Slot{};
    size_ = 0;
  }

  // Room for n entries without growing.
  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    if (cap > slots_.size()) rehash(cap);
  }

  V* find(const K& k) {
    if (size_ == 0) return nullptr;
    for (size_t i = home(k);; i = (i + 1) & mask_) {
      if (!used_[i]) return nullptr;
      if (Eq{}(slots_[i].key, k)) return &slots_[i].value;
    }
  }
  const V* find(const K& k) const { return const_cast<FlatMap*>(this)->find(k); }
  bool contains(const K& k) const { return find(k) != nullptr; }

  // The value under k, default-constructed and inserted if absent; second
  // tells whether it was inserted.
  std::pair<V*, bool> try_emplace(const K& k) {
    if (V* v = find(k)) return {v, false};  // an existing key never moves anything
    if (2 * (size_ + 1) > slots_.size()) rehash(slots_.empty() ? 16 : 2 * slots_.size());
    size_t i = home(k);
    for (; used_[i]; i = (i + 1) & mask_)
      if (Eq{}(slots_[i].key, k)) return {&slots_[i].value, false};
    used_[i] = 1;
    slots_[i].key = k;
    slots_[i].value = V{};
    ++size_;
    return {&slots_[i].value, true};
  }
  V& operator[](const K& k) { return *try_emplace(k).first; }

  bool erase(const K& k) {
    if (size_ == 0) return false;
    for (size_t i = home(k);; i = (i + 1) & mask_) {
      if (!used_[i]) return false;
      if (Eq{}(slots_[i].key, k)) {
        erase_at(i);
        return true;
      }
    }
  }

  // Erases every entry for which pred(key, value) is true; pred may be
  // called more than once for an entry that stays (an entry can move past
  // the scan position when one before it is erased), so it must not count.
  template <class Pred>
  size_t erase_if(Pred pred) {
    size_t erased = 0;
    for (size_t i = 0; i < slots_.size();) {
      if (used_[i] && pred(std::as_const(slots_[i].key), slots_[i].value)) {
        erase_at(i);  // another entry may now sit at i: look again
        ++erased;
      } else {
        ++i;
      }
    }
    return erased;
  }

  template <class Fn>
  void for_each(Fn fn) const {
    for (size_t i = 0; i < slots_.size(); ++i)
      if (used_[i]) fn(slots_[i].key, slots_[i].value);
  }
  template <class Fn>
  void for_each_mut(Fn fn) {
    for (size_t i = 0; i < slots_.size(); ++i)
      if (used_[i]) fn(std::as_const(slots_[i].key), slots_[i].value);
  }

 private:
  struct Slot {
    K key{};
    V value{};
  };

  size_t home(const K& k) const { return static_cast<size_t>(Hash{}(k)) & mask_; }

  // Backward-shift deletion: every entry after the hole in its probe run
  // that may legally sit in the hole moves into it, so no probe ever stops
  // early at a gap it should have crossed.
  void erase_at(size_t hole) {
    for (size_t j = (hole + 1) & mask_; used_[j]; j = (j + 1) & mask_) {
      const size_t want = home(slots_[j].key);
      // j's entry may move to hole if hole lies cyclically in [want, j).
      const bool movable = hole <= j ? (want <= hole || want > j) : (want <= hole && want > j);
      if (!movable) continue;
      slots_[hole] = std::move(slots_[j]);
      hole = j;
    }
    used_[hole] = 0;
    slots_[hole] = Slot{};
    --size_;
  }

  void rehash(size_t cap) {
    std::vector<Slot> old_slots(cap);
    std::vector<uint8_t> old_used(cap, 0);
    old_slots.swap(slots_);
    old_used.swap(used_);
    mask_ = cap - 1;
    for (size_t i = 0; i < old_slots.size(); ++i) {
      if (!old_used[i]) continue;
      size_t j = home(old_slots[i].key);
      while (used_[j]) j = (j + 1) & mask_;
      used_[j] = 1;
      slots_[j] = std::move(old_slots[i]);
    }
  }

  std::vector<Slot> slots_;
  std::vector<uint8_t> used_;
  size_t size_ = 0;
  size_t mask_ = 0;
};

// A map whose values never move: they live in fixed chunks of 256 entries
// (appended to, never shifted), each beside its key, and an open-addressing
// index of 8-byte slots (core/slot_index.h: hash bits and the entry's
// place) finds them. So a reference or pointer to a value stays good until
// that key is erased, whatever else is inserted or erased; erased places
// are reused by later inserts. For tables whose entries are pointed at from
// elsewhere (a coordinator's timer heap). A lookup reads one index slot and
// the entry itself; erasing and growing move index slots without reading
// an entry. Iteration is in the order of the entries' places.
template <class K, class V, class Hash, class Eq = std::equal_to<K>>
class StableMap {
 public:
  StableMap() = default;
  StableMap(const StableMap&) = delete;  // pointers handed out point into this one's values
  StableMap& operator=(const StableMap&) = delete;
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // The last entry found or inserted is checked first, as in DenseMap:
  // a live entry there with the same key is the one.
  V* find(const K& k) {
    const uint32_t pos = locate(k);
    if (pos != 0) last_ = pos;
    return pos == 0 ? nullptr : &item(pos).value;
  }
  const V* find(const K& k) const {
    const uint32_t pos = locate(k);
    return pos == 0 ? nullptr : &item(pos).value;
  }
  bool contains(const K& k) const { return locate(k) != 0; }
  V& at(const K& k) {
    V* v = find(k);
    assert(v && "StableMap::at: no such key");
    return *v;
  }
  const V& at(const K& k) const { return const_cast<StableMap*>(this)->at(k); }
  std::pair<V*, bool> try_emplace(const K& k) {
    if (hinted(k)) return {&item(last_).value, false};
    if (2 * (size_ + 1) > index_.capacity()) index_.grow(index_.capacity() == 0 ? 16 : 2 * index_.capacity());
    const uint32_t h = SlotIndex::hash_bits(Hash{}(k));
    auto [i, found] = index_.probe(h, [&](uint32_t pos) { return Eq{}(item(pos).key, k); });
    if (found) {
      last_ = index_.pos(i);
      return {&item(last_).value, false};
    }
    uint32_t pos;
    if (!free_.empty()) {
      pos = free_.back();
      free_.pop_back();
    } else {
      assert(count_ < UINT32_MAX);
      if (count_ % kChunk == 0) chunks_.push_back(std::make_unique<Item[]>(kChunk));
      pos = static_cast<uint32_t>(++count_);
    }
    Item& it = item(pos);
    it.key = k;
    it.value = V{};
    it.live = true;
    index_.fill(i, h, pos);
    ++size_;
    last_ = pos;
    return {&it.value, true};
  }
  V& operator[](const K& k) { return *try_emplace(k).first; }
  bool erase(const K& k) {
    const size_t i = slot_of(k);
    if (i == SlotIndex::kNone) return false;
    const uint32_t pos = index_.pos(i);
    index_.unlink(i);
    item(pos).live = false;
    free_.push_back(pos);
    --size_;
    return true;
  }
  void clear() {
    index_.clear();
    chunks_.clear();
    free_.clear();
    count_ = 0;
    size_ = 0;
  }
  template <class Fn>
  void for_each(Fn fn) const {
    for (uint32_t pos = 1; pos <= count_; ++pos) {
      const Item& it = item(pos);
      if (it.live) fn(it.key, it.value);
    }
  }

 private:
  struct Item {
    K key{};
    V value{};
    bool live = false;
  };
  static constexpr size_t kChunk = 256;
  Item& item(uint32_t pos) { return chunks_[(pos - 1) / kChunk][(pos - 1) % kChunk]; }
  const Item& item(uint32_t pos) const { return chunks_[(pos - 1) / kChunk][(pos - 1) % kChunk]; }

  bool hinted(const K& k) const {
    return last_ != 0 && last_ <= count_ && item(last_).live && Eq{}(item(last_).key, k);
  }
  uint32_t locate(const K& k) const {
    if (hinted(k)) return last_;
    const size_t i = slot_of(k);
    return i == SlotIndex::kNone ? 0 : index_.pos(i);
  }

  size_t slot_of(const K& k) const {
    if (size_ == 0) return SlotIndex::kNone;
    return index_.find(SlotIndex::hash_bits(Hash{}(k)), [&](uint32_t pos) { return Eq{}(item(pos).key, k); });
  }

  std::vector<std::unique_ptr<Item[]>> chunks_;
  size_t count_ = 0;            // places handed out so far
  SlotIndex index_;
  std::vector<uint32_t> free_;  // places of erased entries, for reuse
  size_t size_ = 0;
  uint32_t last_ = 0;  // the place of the entry last found or inserted (a hint)
};

}  // namespace ws
