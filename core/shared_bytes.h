// Immutable bytes that every copy shares: a Raft entry's data is written
// once (proposed, or read from a log or a frame) and then copied into the
// log, into each Append of each follower, into the persist and apply lists
// of a Ready, and into the simulator's message slots. With SharedBytes each
// of those copies costs a reference count instead of a heap allocation and
// a memcpy. Nothing can change the bytes after construction, so sharing is
// never visible: equality compares contents, and a copy is as good as a
// deep copy.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <vector>

namespace ws {

class SharedBytes {
 public:
  SharedBytes() = default;
  SharedBytes(std::span<const uint8_t> bytes) { assign(bytes.begin(), bytes.end()); }
  SharedBytes(const std::vector<uint8_t>& bytes) : SharedBytes(std::span<const uint8_t>(bytes)) {}
  SharedBytes(std::vector<uint8_t>&& bytes) {
    if (!bytes.empty()) p_ = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  }
  SharedBytes(std::initializer_list<uint8_t> bytes) : SharedBytes(std::span<const uint8_t>(bytes.begin(), bytes.size())) {}

  template <class It>
  void assign(It first, It last) {
    if (first == last) {
      p_.reset();
      return;
    }
    p_ = std::make_shared<const std::vector<uint8_t>>(first, last);
  }

  const uint8_t* data() const { return p_ ? p_->data() : nullptr; }
  size_t size() const { return p_ ? p_->size() : 0; }
  bool empty() const { return size() == 0; }
  const uint8_t* begin() const { return data(); }
  const uint8_t* end() const { return data() + size(); }
  uint8_t operator[](size_t i) const { return (*p_)[i]; }
  std::span<const uint8_t> span() const { return {data(), size()}; }
  operator std::span<const uint8_t>() const { return span(); }
  // Both are copies of one non-empty buffer (so their bytes are equal). A
  // holder of both keeps the buffer alive, so its address cannot be reused
  // meanwhile. Two empty ones are not "the same buffer": one may stand for
  // bytes that were let go.
  bool same_buffer(const SharedBytes& o) const { return p_ != nullptr && p_ == o.p_; }

  friend bool operator==(const SharedBytes& a, const SharedBytes& b) {
    return a.p_ == b.p_ || std::ranges::equal(a.span(), b.span());
  }
  friend bool operator==(const SharedBytes& a, const std::vector<uint8_t>& b) {
    return std::ranges::equal(a.span(), std::span<const uint8_t>(b));
  }

 private:
  std::shared_ptr<const std::vector<uint8_t>> p_;
};

}  // namespace ws
