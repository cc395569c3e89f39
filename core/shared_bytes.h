// Immutable bytes that every copy shares: a Raft entry's data is written
// once (proposed, or read from a log or a frame) and then copied into the
// log, into each Append of each follower, into the persist and apply lists
// of a Ready, and into the simulator's message slots. With SharedBytes each
// of those copies costs a reference count instead of a heap allocation and
// a memcpy; making one costs a single allocation. Nothing can change the
// bytes after construction, so sharing is never visible: equality compares
// contents, and a copy is as good as a deep copy.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <new>
#include <span>
#include <vector>

namespace ws {

class SharedBytes {
 public:
  SharedBytes() = default;
  SharedBytes(std::span<const uint8_t> bytes) { assign(bytes.begin(), bytes.end()); }
  SharedBytes(const std::vector<uint8_t>& bytes) : SharedBytes(std::span<const uint8_t>(bytes)) {}
  SharedBytes(std::initializer_list<uint8_t> bytes) : SharedBytes(std::span<const uint8_t>(bytes.begin(), bytes.size())) {}
  SharedBytes(const SharedBytes& o) noexcept : b_(o.b_) {
    if (b_) b_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  SharedBytes(SharedBytes&& o) noexcept : b_(o.b_) { o.b_ = nullptr; }
  SharedBytes& operator=(const SharedBytes& o) noexcept {
    SharedBytes copy(o);
    std::swap(b_, copy.b_);
    return *this;
  }
  SharedBytes& operator=(SharedBytes&& o) noexcept {
    std::swap(b_, o.b_);
    return *this;
  }
  ~SharedBytes() { release(); }

  template <class It>
  void assign(It first, It last) {
    release();
    const auto n = static_cast<size_t>(std::distance(first, last));
    if (n == 0) return;
    // One allocation holds the count, the size and the bytes.
    void* raw = ::operator new(sizeof(Block) + n);
    b_ = new (raw) Block{{1}, n};
    std::copy(first, last, b_->bytes());
  }

  const uint8_t* data() const { return b_ ? b_->bytes() : nullptr; }
  size_t size() const { return b_ ? b_->size : 0; }
  bool empty() const { return size() == 0; }
  const uint8_t* begin() const { return data(); }
  const uint8_t* end() const { return data() + size(); }
  uint8_t operator[](size_t i) const { return data()[i]; }
  std::span<const uint8_t> span() const { return {data(), size()}; }
  operator std::span<const uint8_t>() const { return span(); }
  // Both are copies of one non-empty buffer (so their bytes are equal). A
  // holder of both keeps the buffer alive, so its address cannot be reused
  // meanwhile. Two empty ones are not "the same buffer": one may stand for
  // bytes that were let go.
  bool same_buffer(const SharedBytes& o) const { return b_ != nullptr && b_ == o.b_; }

  friend bool operator==(const SharedBytes& a, const SharedBytes& b) {
    return a.b_ == b.b_ || std::ranges::equal(a.span(), b.span());
  }
  friend bool operator==(const SharedBytes& a, const std::vector<uint8_t>& b) {
    return std::ranges::equal(a.span(), std::span<const uint8_t>(b));
  }

 private:
  // The bytes follow the header in the same allocation. The count is
  // atomic: walletd's threads may hold copies of one entry.
  struct Block {
    std::atomic<size_t> refs;
    size_t size;
    uint8_t* bytes() { return reinterpret_cast<uint8_t*>(this + 1); }
    const uint8_t* bytes() const { return reinterpret_cast<const uint8_t*>(this + 1); }
  };
  static_assert(alignof(Block) <= alignof(std::max_align_t));

  void release() noexcept {
    if (b_ && b_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      b_->~Block();
      ::operator delete(static_cast<void*>(b_));
    }
    b_ = nullptr;
  }

  Block* b_ = nullptr;
};

}  // namespace ws
