// Money: ISO 4217 currencies with their minor-unit digits, and amounts held as
// integer minor units. Parsing is strict: a decimal string, no sign, no
// exponent, no more fractional digits than the currency allows, bounded.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ws {

struct CurrencyInfo {
  char code[4];        // "USD\0"
  uint8_t minor_digits;  // 2 for USD, 0 for JPY, 3 for KWD
};

// Looks up an ISO 4217 code in the built-in table (exact, upper case).
std::optional<CurrencyInfo> find_currency(std::string_view code);

// The largest amount any single value may hold, in minor units (10^15 - 1),
// far below INT64_MAX so that sums of many balances cannot overflow.
constexpr int64_t kMaxAmountMinor = 999'999'999'999'999LL;

struct Amount {
  int64_t minor = 0;
  friend bool operator==(Amount, Amount) = default;
  friend auto operator<=>(Amount, Amount) = default;
};

// Result of parsing: either an amount or an error message naming the problem.
struct AmountParse {
  std::optional<Amount> amount;
  std::string error;  // empty when amount is set
};

// Parses "12", "12.3", "12.30" for USD; "1000" for JPY; rejects "", "-1",
// "+1", "1e3", "1.", ".5", "01" (leading zero before more digits), "1.234"
// (USD), "1.5" (JPY), whitespace and anything above kMaxAmountMinor.
AmountParse parse_amount(std::string_view text, const CurrencyInfo& currency);

// Canonical text: always exactly minor_digits fractional digits ("12.30").
std::string format_amount(Amount a, const CurrencyInfo& currency);

// Checked arithmetic: false (and out untouched) on overflow past
// kMaxAmountMinor or below zero.
bool checked_add(Amount a, Amount b, Amount& out);
bool checked_sub(Amount a, Amount b, Amount& out);

}  // namespace ws
