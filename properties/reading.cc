#include "properties/reading.h"

#include <array>
#include <charconv>

namespace ws::reading {
namespace {

bool all_digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Reads up to 18 decimal digits with from_chars; longer runs are rejected by
// the caller before they get here.
std::optional<uint64_t> whole_number(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<int64_t> amount_minor(std::string_view text, int minor_digits) {
  // Split at the first '.'; the rest must be digits on both sides.
  const size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() || !all_digits(whole) || !all_digits(frac)) return std::nullopt;
  if (dot != std::string_view::npos && (frac.empty() || minor_digits == 0)) return std::nullopt;
  if (static_cast<int>(frac.size()) > minor_digits) return std::nullopt;
  if (whole.size() > 1 && whole.front() == '0') return std::nullopt;
  // 10^15 minor units is the first amount too large; with the fraction padded
  // to minor_digits, that is a text of more than 15 significant digits.
  constexpr int kMaxDigits = 15;
  if (static_cast<int>(whole.size()) + minor_digits > kMaxDigits + 3) return std::nullopt;
  std::array<char, 40> padded{};
  size_t n = 0;
  for (char c : whole) padded[n++] = c;
  for (char c : frac) padded[n++] = c;
  for (int i = static_cast<int>(frac.size()); i < minor_digits; ++i) padded[n++] = '0';
  std::optional<uint64_t> v = whole_number(std::string_view(padded.data(), n));
  constexpr uint64_t kLimit = 1'000'000'000'000'000ULL;  // 10^15
  if (!v || *v >= kLimit) return std::nullopt;
  return static_cast<int64_t>(*v);
}

std::optional<TxId> txid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  // 8-4-4-4-12: dashes at 8, 13, 18 and 23, hex digits everywhere else,
  // read as two 64-bit halves. A table gives each byte's value, so the
  // loop has no branch on which kind of digit it meets.
  if (text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-') return std::nullopt;
  static constexpr std::array<uint8_t, 256> kHex = [] {
    std::array<uint8_t, 256> t{};
    t.fill(0xFF);
    for (int c = 0; c < 10; ++c) t['0' + c] = static_cast<uint8_t>(c);
    for (int c = 0; c < 6; ++c) t['a' + c] = t['A' + c] = static_cast<uint8_t>(10 + c);
    return t;
  }();
  static constexpr std::array<uint8_t, 32> kAt = {0,  1,  2,  3,  4,  5,  6,  7,  9,  10, 11,
                                                  12, 14, 15, 16, 17, 19, 20, 21, 22, 24, 25,
                                                  26, 27, 28, 29, 30, 31, 32, 33, 34, 35};
  TxId id;
  uint8_t bad = 0;
  for (size_t k = 0; k < 32; ++k) {
    const uint8_t v = kHex[static_cast<unsigned char>(text[kAt[k]])];
    bad |= v;
    uint64_t& half = k < 16 ? id.hi : id.lo;
    half = half << 4 | (v & 0xF);
  }
  if (bad & 0xF0) return std::nullopt;  // some byte was not a hex digit
  const unsigned version = static_cast<unsigned>(id.hi >> 12) & 0xF;
  const unsigned variant = static_cast<unsigned>(id.lo >> 62);
  if (version < 1 || version > 5 || variant != 2 || id.is_nil()) return std::nullopt;
  return id;
}

}  // namespace ws::reading
