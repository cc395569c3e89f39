// A min-heap ordered by (time, seq): the simulator's event queue, and the
// deadline heaps of the coordinator's and the workload client's timers.
// seq breaks ties (the insertion number, or an order the owner chooses), so
// what comes out never depends on the heap's internal layout or the standard
// library. Storage is one vector, reused: pushing and popping allocate only
// when it has to grow.
//
// Four children per node, not two: half the levels for a pop to sift
// through, and the four children of a node are adjacent in memory. Sifting
// moves a hole instead of swapping, so each level costs one copy.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/types.h"

namespace ws {

// E needs `Time t` and `uint64_t seq` members.
template <class E>
class TimeQueue {
 public:
  void reserve(size_t n) { heap_.reserve(n); }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  void clear() { heap_.clear(); }
  // Drops every entry for which drop(e) holds. Entries equal in (t, seq)
  // must be interchangeable for the pop order to stay layout-independent.
  template <class Pred>
  void erase_if(Pred drop) {
    heap_.erase(std::remove_if(heap_.begin(), heap_.end(), drop), heap_.end());
    if (heap_.size() < 2) return;
    for (size_t i = (heap_.size() - 2) / kArity + 1; i-- > 0;) sift_down(i, E(heap_[i]));
  }
  void push(const E& e) {
    heap_.push_back(e);
    sift_up(heap_.size() - 1, E(e));
  }
  // Removes and returns the earliest event; the queue must not be empty.
  E pop() {
    E top = heap_.front();
    E last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) sift_down(0, std::move(last));
    return top;
  }
  const E& top() const { return heap_.front(); }

 private:
  static constexpr size_t kArity = 4;
  static bool earlier(const E& a, const E& b) { return (a.t < b.t) | ((a.t == b.t) & (a.seq < b.seq)); }
  void sift_up(size_t i, E x) {
    while (i > 0) {
      const size_t parent = (i - 1) / kArity;
      if (!earlier(x, heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = std::move(x);
  }
  void sift_down(size_t i, E x) {
    const size_t n = heap_.size();
    for (;;) {
      const size_t first = i * kArity + 1;
      if (first >= n) break;
      size_t best = first;
      if (first + kArity <= n) {
        // All four children: a tournament of two pairs, selects not branches.
        const size_t a = first + static_cast<size_t>(earlier(heap_[first + 1], heap_[first]));
        const size_t b = first + 2 + static_cast<size_t>(earlier(heap_[first + 3], heap_[first + 2]));
        best = earlier(heap_[b], heap_[a]) ? b : a;
      } else {
        for (size_t c = first + 1; c < n; ++c) best = earlier(heap_[c], heap_[best]) ? c : best;
      }
      if (!earlier(heap_[best], x)) break;
      heap_[i] = heap_[best];
      i = best;
    }
    heap_[i] = std::move(x);
  }
  std::vector<E> heap_;
};

}  // namespace ws
