// A binary min-heap ordered by (time, seq): the simulator's event queue, and
// the deadline heaps of the coordinator's and the workload client's timers.
// seq breaks ties (the insertion number, or an order the owner chooses), so
// what comes out never depends on the heap's internal layout or the standard
// library. Storage is one vector, reused: pushing and popping allocate only
// when it has to grow.
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
    std::make_heap(heap_.begin(), heap_.end(), Later{});
  }
  void push(const E& e) {
    heap_.push_back(e);
    std::push_heap(heap_.begin(), heap_.end(), Later{});
  }
  // Removes and returns the earliest event; the queue must not be empty.
  E pop() {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    E e = heap_.back();
    heap_.pop_back();
    return e;
  }
  const E& top() const { return heap_.front(); }

 private:
  struct Later {
    bool operator()(const E& a, const E& b) const { return a.t != b.t ? a.t > b.t : a.seq > b.seq; }
  };
  std::vector<E> heap_;
};

}  // namespace ws
