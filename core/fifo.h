// A first-in first-out queue over one vector that keeps its capacity: a
// queue that is filled and drained forever allocates only while it grows
// past its largest size so far (std::deque allocates a block for every few
// large elements that pass through it). Popped slots are reclaimed when
// the queue empties, or in one move once they are most of the vector.
// push_back may be called while the front is being handled (take the front
// out with take_front first: references do not survive a push).
#pragma once

#include <cassert>
#include <cstddef>
#include <utility>
#include <vector>

namespace ws {

template <class T>
class Fifo {
 public:
  bool empty() const { return head_ == items_.size(); }
  size_t size() const { return items_.size() - head_; }
  T& front() {
    assert(!empty());
    return items_[head_];
  }

  void push_back(T v) {
    if (empty()) {
      items_.clear();
      head_ = 0;
    } else if (head_ >= 64 && head_ * 2 >= items_.size()) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    items_.push_back(std::move(v));
  }

  T take_front() {
    assert(!empty());
    return std::move(items_[head_++]);
  }

  void pop_front() {
    assert(!empty());
    ++head_;
  }

  void clear() {
    items_.clear();
    head_ = 0;
  }

 private:
  std::vector<T> items_;
  size_t head_ = 0;
};

}  // namespace ws
