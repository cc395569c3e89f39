#include "core/checksum.h"

#include <array>
#include <atomic>
#include <cstring>

namespace ws {
namespace {

// Slicing-by-8 tables, built at compile time so the checksum never depends on
// static-init order. Table 0 is the classic byte-at-a-time table; table k
// advances a byte through k further zero bytes, so eight input bytes are
// folded per step. Portable and the same on every machine (no CPU
// instructions chosen at run time), about five times the byte loop.
using Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Tables make_tables() {
  Tables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; ++i)
    for (int k = 1; k < 8; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFFu];
  return t;
}

constexpr Tables kTables = make_tables();

}  // namespace

uint32_t crc32c_portable(const void* data, size_t n, uint32_t crc) {
  const auto* p = static_cast<const unsigned char*>(data);
  // Undoing the final xor on entry is what lets a previous result be passed
  // back in as `crc` to checksum a buffer in pieces.
  crc = ~crc;
  while (n >= 8) {
    uint32_t lo = crc ^ (uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24);
    uint32_t hi = uint32_t{p[4]} | uint32_t{p[5]} << 8 | uint32_t{p[6]} << 16 | uint32_t{p[7]} << 24;
    crc = kTables[7][lo & 0xFF] ^ kTables[6][(lo >> 8) & 0xFF] ^ kTables[5][(lo >> 16) & 0xFF] ^
          kTables[4][lo >> 24] ^ kTables[3][hi & 0xFF] ^ kTables[2][(hi >> 8) & 0xFF] ^
          kTables[1][(hi >> 16) & 0xFF] ^ kTables[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = kTables[0][(crc ^ *p++) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
namespace {

__attribute__((target("sse4.2"))) uint32_t crc32c_sse42(const void* data, size_t n, uint32_t crc) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t c = ~crc;
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = __builtin_ia32_crc32di(c, v);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<uint32_t>(c);
  if (n >= 4) {  // a record's 5-byte header and most tails: one step, not four
    uint32_t v;
    std::memcpy(&v, p, 4);
    c32 = __builtin_ia32_crc32si(c32, v);
    p += 4;
    n -= 4;
  }
  while (n-- > 0) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return ~c32;
}

// Asked on first use, not during static initialisation, which may run before
// the runtime has read the CPU's features.
bool have_sse42() {
  static const bool have = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") != 0;
  }();
  return have;
}

// crc32c calls through a pointer that its first call sets to the chosen
// implementation: a record's two checksums then cost one indirect call
// each, not a guarded static and the registers saved around its slow path.
using CrcFn = uint32_t (*)(const void*, size_t, uint32_t);
uint32_t crc32c_choose(const void* data, size_t n, uint32_t crc);
std::atomic<CrcFn> g_crc32c{crc32c_choose};
uint32_t crc32c_choose(const void* data, size_t n, uint32_t crc) {
  const CrcFn fn = have_sse42() ? crc32c_sse42 : crc32c_portable;
  g_crc32c.store(fn, std::memory_order_relaxed);
  return fn(data, n, crc);
}

}  // namespace

uint32_t crc32c(const void* data, size_t n, uint32_t crc) {
  return g_crc32c.load(std::memory_order_relaxed)(data, n, crc);
}
bool crc32c_hardware() { return have_sse42(); }
#else
uint32_t crc32c(const void* data, size_t n, uint32_t crc) { return crc32c_portable(data, n, crc); }
bool crc32c_hardware() { return false; }
#endif

}  // namespace ws
