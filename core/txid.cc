#include "core/txid.h"

#include "core/text.h"

#include <array>
#include <cstdio>

#include "core/hash.h"

namespace ws {
namespace {

constexpr size_t kTxIdTextLength = 36;
constexpr size_t kVersionPos = 14;                        // first digit of the third group
constexpr size_t kVariantPos = 19;                        // first digit of the fourth group
constexpr uint64_t kVersionMask = 0xF000ULL;              // bits of hi
constexpr uint64_t kVariantMask = 0xC000000000000000ULL;  // bits of lo
constexpr uint64_t kVariantRfc4122 = 0x8000000000000000ULL;

constexpr bool is_hyphen_pos(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

constexpr int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string describe(char ch) {
  auto c = static_cast<unsigned char>(ch);
  if (c < 0x20 || c >= 0x7F) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "byte 0x%02X", c);
    return buf;
  }
  return std::string("character '") + ch + "'";
}

TxIdParse fail(std::string_view text, const std::string& what) {
  return TxIdParse{std::nullopt, "transaction_id " + quote_input(text) + " is not a UUID: " + what};
}


// Hex digit values, -1 for anything else: the fast path's one lookup per byte.
constexpr std::array<int8_t, 256> make_hex_table() {
  std::array<int8_t, 256> t{};
  for (int i = 0; i < 256; ++i) t[i] = static_cast<int8_t>(hex_value(static_cast<char>(i)));
  return t;
}
constexpr std::array<int8_t, 256> kHex = make_hex_table();

// The well-formed case without building any message; nullopt sends the
// caller down the careful path, which names what is wrong.
// Where the 32 hex digits of the 8-4-4-4-12 layout sit.
constexpr std::array<uint8_t, 32> kDigitPos = [] {
  std::array<uint8_t, 32> p{};
  size_t n = 0;
  for (uint8_t i = 0; i < kTxIdTextLength; ++i)
    if (!is_hyphen_pos(i)) p[n++] = i;
  return p;
}();

// Sixteen hex digits into one half, with no branch per digit: a non-hex
// byte turns `bad` negative.
inline uint64_t hex_half(const char* text, const uint8_t* pos, int& bad) {
  uint64_t v = 0;
  for (size_t i = 0; i < 16; ++i) {
    const int d = kHex[static_cast<unsigned char>(text[pos[i]])];
    bad |= d;
    v = (v << 4) | static_cast<uint64_t>(d & 0xF);
  }
  return v;
}

std::optional<TxId> parse_fast(std::string_view text) {
  if (text.size() != kTxIdTextLength || text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-')
    return std::nullopt;
  int bad = 0;
  TxId id;
  id.hi = hex_half(text.data(), kDigitPos.data(), bad);
  id.lo = hex_half(text.data(), kDigitPos.data() + 16, bad);
  if (bad < 0 || id.is_nil()) return std::nullopt;
  const uint64_t version = (id.hi & kVersionMask) >> 12;
  if (version < 1 || version > 5 || (id.lo & kVariantMask) != kVariantRfc4122) return std::nullopt;
  return id;
}

}  // namespace

TxIdParse parse_txid(std::string_view text) {
  if (auto id = parse_fast(text)) return TxIdParse{*id, {}};
  if (text.size() != kTxIdTextLength) {
    return fail(text, "it has " + std::to_string(text.size()) +
                          " characters, expected 36 (8-4-4-4-12 hex digits)");
  }
  TxId id;
  size_t digits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (is_hyphen_pos(i)) {
      if (c != '-') {
        return fail(text,
                    "expected '-' at position " + std::to_string(i) + ", found " + describe(c));
      }
      continue;
    }
    const int v = hex_value(c);
    if (v < 0) {
      // Name the layout for a stray hyphen: the likely mistake is a shifted group.
      const char* hint = c == '-' ? " (hyphens belong at positions 8, 13, 18 and 23)" : "";
      return fail(text,
                  describe(c) + " at position " + std::to_string(i) + " is not a hex digit" + hint);
    }
    uint64_t& half = digits < 16 ? id.hi : id.lo;
    half = (half << 4) | static_cast<uint64_t>(v);
    ++digits;
  }

  // Checked before version and variant, which the nil UUID also fails, so the
  // message names the real reason.
  if (id.is_nil()) return fail(text, "the nil UUID cannot identify a transaction");
  const uint64_t version = (id.hi & kVersionMask) >> 12;
  if (version < 1 || version > 5) {
    return fail(text, "version nibble '" + std::string(1, text[kVersionPos]) + "' at position " +
                          std::to_string(kVersionPos) + " is not 1..5");
  }
  if ((id.lo & kVariantMask) != kVariantRfc4122) {
    return fail(text, "variant nibble '" + std::string(1, text[kVariantPos]) + "' at position " +
                          std::to_string(kVariantPos) +
                          " is not 8, 9, a or b (RFC 4122 variant bits 10xx)");
  }
  return TxIdParse{id, ""};
}

void append_txid(std::string& out, TxId id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  // Every digit to its fixed place, hyphens after: no branch per digit.
  char text[kTxIdTextLength];
  for (size_t i = 0; i < 16; ++i) {
    text[kDigitPos[i]] = kDigits[(id.hi >> (60 - 4 * i)) & 0xF];
    text[kDigitPos[16 + i]] = kDigits[(id.lo >> (60 - 4 * i)) & 0xF];
  }
  text[8] = text[13] = text[18] = text[23] = '-';
  out.append(text, kTxIdTextLength);
}

std::string format_txid(TxId id) {
  std::string out;
  out.reserve(kTxIdTextLength);
  append_txid(out, id);
  return out;
}

TxId make_v4_txid(uint64_t r1, uint64_t r2) {
  return TxId{(r1 & ~kVersionMask) | (uint64_t{4} << 12), (r2 & ~kVariantMask) | kVariantRfc4122};
}

size_t TxIdHash::operator()(TxId id) const {
  // Fixed mixing so that iteration order of hashed containers, and anything
  // derived from it, is the same on every standard library. Chained from a
  // seed rather than hash_combine(mix64(hi), lo): that form is symmetric in
  // hi and lo, so {a, b} and {b, a} would always collide. One finalizer
  // round over hi and an odd multiple of lo: ids are hashed on every message.
  return static_cast<size_t>(mix64(id.hi ^ (id.lo * 0x9E3779B97F4A7C15ULL)));
}

}  // namespace ws
