#include "core/money.h"

#include "core/text.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

namespace ws {
namespace {

// Minor-unit digits from ISO 4217. Kept small and explicit: a currency missing
// here is rejected rather than guessed, because a wrong exponent silently
// scales every balance by a power of ten.
// clang-format off
constexpr CurrencyInfo kCurrencies[] = {
    // Two minor digits.
    {"USD", 2}, {"EUR", 2}, {"GBP", 2}, {"CHF", 2}, {"CNY", 2}, {"CAD", 2}, {"AUD", 2},
    {"NZD", 2}, {"SEK", 2}, {"NOK", 2}, {"DKK", 2}, {"PLN", 2}, {"CZK", 2}, {"HUF", 2},
    {"INR", 2}, {"HKD", 2}, {"SGD", 2}, {"MXN", 2}, {"BRL", 2}, {"ZAR", 2}, {"TRY", 2},
    {"ILS", 2}, {"AED", 2}, {"SAR", 2},
    // Zero minor digits.
    {"JPY", 0}, {"KRW", 0}, {"ISK", 0}, {"CLP", 0}, {"VND", 0}, {"PYG", 0}, {"UGX", 0},
    {"XOF", 0}, {"XAF", 0},
    // Three minor digits.
    {"KWD", 3}, {"BHD", 3}, {"OMR", 3}, {"JOD", 3}, {"TND", 3}, {"LYD", 3}, {"IQD", 3},
};
// clang-format on

// A CurrencyInfo may be built by hand, so its code is not trusted to be
// NUL-terminated.
std::string_view code_of(const CurrencyInfo& currency) {
  const char* end = std::find(std::begin(currency.code), std::end(currency.code), '\0');
  return std::string_view(currency.code, static_cast<size_t>(end - currency.code));
}

std::string describe(char ch) {
  auto c = static_cast<unsigned char>(ch);
  if (c < 0x20 || c >= 0x7F) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "byte 0x%02X", c);
    return buf;
  }
  return std::string("'") + ch + "'";
}

AmountParse fail(std::string_view text, const std::string& what) {
  return AmountParse{std::nullopt, "amount " + quote_input(text) + " " + what};
}

}  // namespace

std::optional<CurrencyInfo> find_currency(std::string_view code) {
  for (const CurrencyInfo& c : kCurrencies) {
    if (code_of(c) == code) return c;
  }
  return std::nullopt;
}

AmountParse parse_amount(std::string_view text, const CurrencyInfo& currency) {
  if (text.empty()) return fail(text, "is empty");

  size_t dot = std::string_view::npos;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= '0' && c <= '9') continue;
    if (c == '.' && dot == std::string_view::npos) {
      dot = i;
      continue;
    }
    std::string found = c == '.' ? "a second '.'" : describe(c);
    return fail(text, "must contain only digits and one '.' (found " + found + " at position " +
                          std::to_string(i) + ")");
  }

  const std::string_view whole = text.substr(0, dot);
  const std::string_view frac =
      dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  const size_t minor_digits = currency.minor_digits;

  if (whole.empty()) return fail(text, "has no digits before the '.'");
  // Some readers take a leading zero as octal; refusing it keeps every client's
  // reading of the text the same.
  if (whole.size() > 1 && whole[0] == '0') return fail(text, "has a leading zero");
  if (dot != std::string_view::npos) {
    if (minor_digits == 0) {
      return fail(text, "has a '.' but " + std::string(code_of(currency)) + " has no minor units");
    }
    if (frac.empty()) return fail(text, "has no digits after the '.'");
    if (frac.size() > minor_digits) {
      return fail(text, "has " + std::to_string(frac.size()) + " fractional digits but " +
                            std::string(code_of(currency)) + " allows at most " +
                            std::to_string(minor_digits));
    }
  }

  // Checking after every digit keeps `value * 10 + 9` far from INT64_MAX, so
  // an input of any length is rejected without overflowing.
  int64_t value = 0;
  auto push = [&value](int digit) {
    value = value * 10 + digit;
    return value <= kMaxAmountMinor;
  };
  bool ok = true;
  for (size_t i = 0; ok && i < whole.size(); ++i) ok = push(whole[i] - '0');
  for (size_t i = 0; ok && i < minor_digits; ++i) ok = push(i < frac.size() ? frac[i] - '0' : 0);
  if (!ok) {
    return fail(text, "exceeds the maximum " + format_amount(Amount{kMaxAmountMinor}, currency) +
                          " " + std::string(code_of(currency)));
  }
  return AmountParse{Amount{value}, ""};
}

std::string format_amount(Amount a, const CurrencyInfo& currency) {
  // Negative values never come out of parse_amount, but printing them (with a
  // sign, so they visibly fail to round-trip) beats printing garbage.
  const uint64_t magnitude =
      a.minor < 0 ? 0 - static_cast<uint64_t>(a.minor) : static_cast<uint64_t>(a.minor);
  const size_t minor_digits = currency.minor_digits;
  std::string s = std::to_string(magnitude);
  if (s.size() <= minor_digits) s.insert(0, minor_digits + 1 - s.size(), '0');
  if (minor_digits > 0) s.insert(s.size() - minor_digits, 1, '.');
  if (a.minor < 0) s.insert(0, 1, '-');
  return s;
}

// Only the result is range-checked, as the header promises; the builtins keep
// even out-of-range operands from overflowing int64_t on the way there.
bool checked_add(Amount a, Amount b, Amount& out) {
  int64_t r;
  if (__builtin_add_overflow(a.minor, b.minor, &r) || r < 0 || r > kMaxAmountMinor) return false;
  out = Amount{r};
  return true;
}

bool checked_sub(Amount a, Amount b, Amount& out) {
  int64_t r;
  if (__builtin_sub_overflow(a.minor, b.minor, &r) || r < 0 || r > kMaxAmountMinor) return false;
  out = Amount{r};
  return true;
}

}  // namespace ws
