// Little-endian integers in byte buffers. Every on-disk and on-wire format
// of the engine (event records, snapshots, Raft records, replica entries)
// is little-endian, so that the layout does not depend on the host.
//
// On a little-endian host an integer is copied as a whole (one load or
// store; memcpy makes no alignment assumption). Elsewhere it is written
// byte by byte. GCC 12 does not merge the byte loop into one load: it was
// a load (or store) per byte, 240 instructions to decode one event.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <vector>

namespace ws {

namespace le_detail {
template <class T>
inline void store(uint8_t* p, T v) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &v, sizeof v);
  } else {
    for (size_t i = 0; i < sizeof v; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
  }
}
template <class T>
inline T load(const uint8_t* p) {
  T v = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&v, p, sizeof v);
  } else {
    for (size_t i = 0; i < sizeof v; ++i) v |= static_cast<T>(static_cast<T>(p[i]) << (8 * i));
  }
  return v;
}
}  // namespace le_detail

inline void store_le32(uint8_t* p, uint32_t v) { le_detail::store(p, v); }
inline void store_le64(uint8_t* p, uint64_t v) { le_detail::store(p, v); }
inline uint32_t load_le32(const uint8_t* p) { return le_detail::load<uint32_t>(p); }
inline uint64_t load_le64(const uint8_t* p) { return le_detail::load<uint64_t>(p); }
inline void append_le32(std::vector<uint8_t>& out, uint32_t v) {
  out.resize(out.size() + 4);
  store_le32(out.data() + out.size() - 4, v);
}
inline void append_le64(std::vector<uint8_t>& out, uint64_t v) {
  out.resize(out.size() + 8);
  store_le64(out.data() + out.size() - 8, v);
}

}  // namespace ws
