// Property tests for core/money and core/txid text forms and arithmetic.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/money.h"
#include "core/txid.h"

namespace ws {
namespace {

// One currency per minor-digit count at least, plus the common ones.
const std::vector<std::string> kCodes = {"USD", "EUR", "GBP", "CHF", "CNY", "JPY",
                                         "KRW", "ISK", "KWD", "BHD", "OMR", "JOD"};

CurrencyInfo GenCurrency() {
  const std::string code = *rc::gen::elementOf(kCodes);
  std::optional<CurrencyInfo> c = find_currency(code);
  RC_ASSERT(c.has_value());
  return *c;
}

// Mostly in-range amounts, with the edges and full-int64 values mixed in so
// that the overflow paths are exercised too.
rc::Gen<int64_t> GenOperand() {
  constexpr int64_t kMin64 = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax64 = std::numeric_limits<int64_t>::max();
  return rc::gen::weightedOneOf<int64_t>(
      {{6, rc::gen::inRange<int64_t>(0, kMaxAmountMinor + 1)},
       {2,
        rc::gen::element<int64_t>(0, 1, kMaxAmountMinor, kMaxAmountMinor + 1, -1, kMin64, kMax64)},
       {1, rc::gen::arbitrary<int64_t>()}});
}

std::string GenDigits(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += static_cast<char>('0' + *rc::gen::inRange(0, 10));
  return s;
}

// A valid, canonical amount text: no leading zero, exactly minor_digits
// fractional digits, at most 15 digits in all so it is within kMaxAmountMinor.
std::string GenCanonicalText(const CurrencyInfo& c) {
  const size_t whole_len = *rc::gen::inRange<size_t>(1, 15 - c.minor_digits + 1);
  std::string s =
      whole_len == 1 ? GenDigits(1)
                     : static_cast<char>('0' + *rc::gen::inRange(1, 10)) + GenDigits(whole_len - 1);
  if (c.minor_digits > 0) s += "." + GenDigits(c.minor_digits);
  return s;
}

RC_GTEST_PROP(MoneyProperties, FormatThenParseRoundTripsEveryAmount, ()) {
  const CurrencyInfo c = GenCurrency();
  const int64_t minor = *rc::gen::inRange<int64_t>(0, kMaxAmountMinor + 1);
  const std::string text = format_amount(Amount{minor}, c);
  const AmountParse p = parse_amount(text, c);
  RC_ASSERT(p.error == "");
  RC_ASSERT(p.amount == std::optional<Amount>(Amount{minor}));
}

RC_GTEST_PROP(MoneyProperties, ParseThenFormatRoundTripsCanonicalText, ()) {
  const CurrencyInfo c = GenCurrency();
  const std::string text = GenCanonicalText(c);
  const AmountParse p = parse_amount(text, c);
  RC_ASSERT(p.amount.has_value());
  RC_ASSERT(format_amount(*p.amount, c) == text);
}

RC_GTEST_PROP(MoneyProperties, ShortFractionsParseToTheirPaddedCanonicalForm, ()) {
  const CurrencyInfo c = GenCurrency();
  RC_PRE(c.minor_digits > 1);
  const std::string canonical = GenCanonicalText(c);
  const size_t dropped = *rc::gen::inRange<size_t>(1, c.minor_digits);
  std::string shortened = canonical.substr(0, canonical.size() - dropped);
  // A missing trailing digit means zero, so the short text prints back padded.
  const std::string padded = shortened + std::string(dropped, '0');
  const AmountParse p = parse_amount(shortened, c);
  RC_ASSERT(p.amount.has_value());
  RC_ASSERT(format_amount(*p.amount, c) == padded);
}

RC_GTEST_PROP(MoneyProperties, NeverAcceptsInsertedSignExponentOrSpace, ()) {
  const CurrencyInfo c = GenCurrency();
  std::string text = GenCanonicalText(c);
  const char bad = *rc::gen::element('-', '+', 'e', 'E', ' ', '\t', '\n', '\r', ',', '_');
  const size_t at = *rc::gen::inRange<size_t>(0, text.size() + 1);
  text.insert(at, 1, bad);
  const AmountParse p = parse_amount(text, c);
  RC_ASSERT_FALSE(p.amount.has_value());
  RC_ASSERT(p.error.find("must contain only digits and one '.'") != std::string::npos);
}

RC_GTEST_PROP(MoneyProperties, CheckedAddAgreesWithWideArithmetic, ()) {
  const int64_t a = *GenOperand();
  const int64_t b = *GenOperand();
  const __int128 exact = static_cast<__int128>(a) + b;
  const bool fits = exact >= 0 && exact <= kMaxAmountMinor;
  Amount out{-42};
  RC_ASSERT(checked_add(Amount{a}, Amount{b}, out) == fits);
  RC_ASSERT(out.minor == (fits ? static_cast<int64_t>(exact) : -42));
}

RC_GTEST_PROP(MoneyProperties, CheckedSubAgreesWithWideArithmetic, ()) {
  const int64_t a = *GenOperand();
  const int64_t b = *GenOperand();
  const __int128 exact = static_cast<__int128>(a) - b;
  const bool fits = exact >= 0 && exact <= kMaxAmountMinor;
  Amount out{-42};
  RC_ASSERT(checked_sub(Amount{a}, Amount{b}, out) == fits);
  RC_ASSERT(out.minor == (fits ? static_cast<int64_t>(exact) : -42));
}

RC_GTEST_PROP(TxIdProperties, FormatThenParseRoundTripsV4Ids, (uint64_t r1, uint64_t r2)) {
  const TxId id = make_v4_txid(r1, r2);
  const std::string text = format_txid(id);
  RC_ASSERT(text.size() == 36u);
  RC_ASSERT(text[14] == '4');
  RC_ASSERT(std::string("89ab").find(text[19]) != std::string::npos);
  const TxIdParse p = parse_txid(text);
  RC_ASSERT(p.error == "");
  RC_ASSERT(p.id == std::optional<TxId>(id));
}

RC_GTEST_PROP(TxIdProperties, ParseIsCaseInsensitive, (uint64_t r1, uint64_t r2)) {
  const TxId id = make_v4_txid(r1, r2);
  std::string text = format_txid(id);
  for (char& ch : text) {
    if (ch >= 'a' && ch <= 'f' && *rc::gen::arbitrary<bool>()) ch = static_cast<char>(ch - 32);
  }
  RC_ASSERT(parse_txid(text).id == std::optional<TxId>(id));
}

}  // namespace
}  // namespace ws
