// Unit tests for core/money (ISO 4217 amounts) and core/checksum (CRC-32C).
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <string>

#include "core/checksum.h"
#include "core/money.h"

namespace ws {
namespace {

::testing::AssertionResult HasSubstr(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << '"' << text << "\" does not contain \"" << part << '"';
}

CurrencyInfo Currency(std::string_view code) {
  std::optional<CurrencyInfo> c = find_currency(code);
  EXPECT_TRUE(c.has_value()) << code;
  return c.value_or(CurrencyInfo{"???", 2});
}

// Expects `text` to be rejected for `code` and returns the error message.
std::string RejectionOf(std::string_view text, std::string_view code = "USD") {
  AmountParse p = parse_amount(text, Currency(code));
  EXPECT_FALSE(p.amount.has_value()) << '"' << text << "\" parsed as " << p.amount->minor;
  EXPECT_FALSE(p.error.empty()) << '"' << text << '"';
  return p.error;
}

int64_t MinorOf(std::string_view text, std::string_view code = "USD") {
  AmountParse p = parse_amount(text, Currency(code));
  EXPECT_TRUE(p.amount.has_value()) << '"' << text << "\": " << p.error;
  EXPECT_TRUE(p.error.empty()) << p.error;
  return p.amount.value_or(Amount{-1}).minor;
}

// --- CRC-32C ---------------------------------------------------------------

TEST(Crc32c, MatchesCastagnoliCheckValue) { EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u); }

TEST(Crc32c, EmptyInputIsZero) { EXPECT_EQ(crc32c("", 0), 0u); }

// Vectors from RFC 3720 (iSCSI), appendix B.4.
TEST(Crc32c, MatchesIscsiTestVectors) {
  std::array<uint8_t, 32> buf{};
  EXPECT_EQ(crc32c(buf.data(), buf.size()), 0x8A9136AAu);
  buf.fill(0xFF);
  EXPECT_EQ(crc32c(buf.data(), buf.size()), 0x62A8AB43u);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(crc32c(buf.data(), buf.size()), 0x46DD794Eu);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<uint8_t>(31 - i);
  EXPECT_EQ(crc32c(buf.data(), buf.size()), 0x113FDB5Cu);
}

TEST(Crc32c, ChainingOverAnySplitEqualsOneShot) {
  const std::string data = "The quick brown fox jumps over the lazy dog";
  const uint32_t whole = crc32c(data.data(), data.size());
  for (size_t cut = 0; cut <= data.size(); ++cut) {
    uint32_t first = crc32c(data.data(), cut);
    EXPECT_EQ(crc32c(data.data() + cut, data.size() - cut, first), whole) << "cut at " << cut;
  }
}

TEST(Crc32c, DetectsEverySingleBitFlip) {
  std::string data = "walletsim record payload";
  const uint32_t good = crc32c(data.data(), data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      data[i] = static_cast<char>(data[i] ^ (1 << bit));
      EXPECT_NE(crc32c(data.data(), data.size()), good) << "byte " << i << " bit " << bit;
      data[i] = static_cast<char>(data[i] ^ (1 << bit));
    }
  }
}

// --- Currency table ----------------------------------------------------------

TEST(Currency, KnowsIso4217MinorDigits) {
  const std::pair<const char*, int> expected[] = {
      {"USD", 2}, {"EUR", 2}, {"GBP", 2}, {"CHF", 2}, {"CNY", 2}, {"CAD", 2},
      {"AUD", 2}, {"SEK", 2}, {"NOK", 2}, {"INR", 2}, {"JPY", 0}, {"KRW", 0},
      {"ISK", 0}, {"CLP", 0}, {"KWD", 3}, {"BHD", 3}, {"OMR", 3}, {"JOD", 3}};
  for (const auto& [code, digits] : expected) {
    std::optional<CurrencyInfo> c = find_currency(code);
    ASSERT_TRUE(c.has_value()) << code;
    EXPECT_EQ(std::string(c->code), code);
    EXPECT_EQ(c->minor_digits, digits) << code;
  }
}

TEST(Currency, LookupIsExactAndUpperCase) {
  EXPECT_FALSE(find_currency("usd").has_value());
  EXPECT_FALSE(find_currency("Usd").has_value());
  EXPECT_FALSE(find_currency("US").has_value());
  EXPECT_FALSE(find_currency("USDX").has_value());
  EXPECT_FALSE(find_currency(" USD").has_value());
  EXPECT_FALSE(find_currency("").has_value());
  EXPECT_FALSE(find_currency(std::string_view("USD\0", 4)).has_value());
}

TEST(Currency, RejectsUnknownCode) { EXPECT_FALSE(find_currency("XYZ").has_value()); }

// --- parse_amount: accepted forms ---------------------------------------------

TEST(ParseAmount, AcceptsWholeAndFractionalAmounts) {
  EXPECT_EQ(MinorOf("12"), 1200);
  EXPECT_EQ(MinorOf("12.3"), 1230);
  EXPECT_EQ(MinorOf("12.30"), 1230);
  EXPECT_EQ(MinorOf("12.05"), 1205);
  EXPECT_EQ(MinorOf("0"), 0);
  EXPECT_EQ(MinorOf("0.5"), 50);
  EXPECT_EQ(MinorOf("0.00"), 0);
  EXPECT_EQ(MinorOf("100"), 10000);
}

TEST(ParseAmount, TreatsZeroDigitCurrencyAmountsAsMinorUnits) {
  EXPECT_EQ(MinorOf("1000", "JPY"), 1000);
  EXPECT_EQ(MinorOf("0", "KRW"), 0);
}

TEST(ParseAmount, ScalesThreeDigitCurrencyByAThousand) {
  EXPECT_EQ(MinorOf("1.234", "KWD"), 1234);
  EXPECT_EQ(MinorOf("1.2", "BHD"), 1200);
  EXPECT_EQ(MinorOf("7", "OMR"), 7000);
}

TEST(ParseAmount, AcceptsExactlyTheMaximum) {
  EXPECT_EQ(MinorOf("9999999999999.99", "USD"), kMaxAmountMinor);
  EXPECT_EQ(MinorOf("999999999999999", "JPY"), kMaxAmountMinor);
  EXPECT_EQ(MinorOf("999999999999.999", "KWD"), kMaxAmountMinor);
}

// --- parse_amount: rejected forms ---------------------------------------------

TEST(ParseAmount, RejectsEmptyText) { EXPECT_EQ(RejectionOf(""), "amount \"\" is empty"); }

TEST(ParseAmount, RejectsSigns) {
  EXPECT_EQ(RejectionOf("-1"),
            "amount \"-1\" must contain only digits and one '.' (found '-' at position 0)");
  EXPECT_TRUE(HasSubstr(RejectionOf("+1"), "must contain only digits and one '.'"));
  EXPECT_TRUE(HasSubstr(RejectionOf("-0"), "'-'"));
  EXPECT_TRUE(HasSubstr(RejectionOf("1-"), "'-' at position 1"));
}

TEST(ParseAmount, RejectsExponents) {
  EXPECT_EQ(RejectionOf("1e3"),
            "amount \"1e3\" must contain only digits and one '.' (found 'e' at position 1)");
  EXPECT_TRUE(HasSubstr(RejectionOf("1E3", "JPY"), "'E' at position 1"));
  EXPECT_TRUE(HasSubstr(RejectionOf("1.5e-1"), "'e' at position 3"));
}

TEST(ParseAmount, RejectsWhitespaceAnywhere) {
  EXPECT_TRUE(HasSubstr(RejectionOf(" 1"), "' ' at position 0"));
  EXPECT_TRUE(HasSubstr(RejectionOf("1 "), "' ' at position 1"));
  EXPECT_TRUE(HasSubstr(RejectionOf("1 000"), "' ' at position 1"));
  // Control characters are escaped so the message stays on one line.
  EXPECT_EQ(RejectionOf("1\n"),
            "amount \"1\\x0A\" must contain only digits and one '.' (found byte 0x0A at "
            "position 1)");
  EXPECT_TRUE(HasSubstr(RejectionOf("\t1"), "byte 0x09 at position 0"));
}

TEST(ParseAmount, RejectsOtherSeparatorsAndNonDigits) {
  EXPECT_TRUE(HasSubstr(RejectionOf("1,000"), "',' at position 1"));
  EXPECT_TRUE(HasSubstr(RejectionOf("1_000"), "'_' at position 1"));
  EXPECT_TRUE(HasSubstr(RejectionOf("$1"), "'$' at position 0"));
  EXPECT_TRUE(HasSubstr(RejectionOf("0x10"), "'x' at position 1"));
  EXPECT_TRUE(HasSubstr(RejectionOf("\xd9\xa1"), "byte 0xD9 at position 0"));  // Arabic one
  EXPECT_TRUE(HasSubstr(RejectionOf(std::string_view("1\0", 2)), "byte 0x00 at position 1"));
}

TEST(ParseAmount, RejectsMoreThanOneDot) {
  EXPECT_EQ(RejectionOf("1.2.3"),
            "amount \"1.2.3\" must contain only digits and one '.' (found a second '.' at "
            "position 3)");
  EXPECT_TRUE(HasSubstr(RejectionOf("1..2"), "a second '.' at position 2"));
}

TEST(ParseAmount, RejectsDotWithoutDigitsBefore) {
  EXPECT_EQ(RejectionOf(".5"), "amount \".5\" has no digits before the '.'");
  EXPECT_TRUE(HasSubstr(RejectionOf("."), "no digits before"));
}

TEST(ParseAmount, RejectsDotWithoutDigitsAfter) {
  EXPECT_EQ(RejectionOf("1."), "amount \"1.\" has no digits after the '.'");
}

TEST(ParseAmount, RejectsLeadingZeros) {
  EXPECT_EQ(RejectionOf("01"), "amount \"01\" has a leading zero");
  EXPECT_TRUE(HasSubstr(RejectionOf("00"), "leading zero"));
  EXPECT_TRUE(HasSubstr(RejectionOf("00.5"), "leading zero"));
  EXPECT_TRUE(HasSubstr(RejectionOf("007", "JPY"), "leading zero"));
}

TEST(ParseAmount, RejectsMoreFractionalDigitsThanCurrencyAllows) {
  EXPECT_EQ(RejectionOf("1.234", "USD"),
            "amount \"1.234\" has 3 fractional digits but USD allows at most 2");
  EXPECT_EQ(RejectionOf("1.2345", "KWD"),
            "amount \"1.2345\" has 4 fractional digits but KWD allows at most 3");
  // Trailing zeros still count: they would claim a precision the currency lacks.
  EXPECT_TRUE(HasSubstr(RejectionOf("1.000", "EUR"), "3 fractional digits"));
}

TEST(ParseAmount, RejectsAnyFractionForZeroDigitCurrency) {
  EXPECT_EQ(RejectionOf("1.5", "JPY"), "amount \"1.5\" has a '.' but JPY has no minor units");
  EXPECT_TRUE(HasSubstr(RejectionOf("1.0", "KRW"), "KRW has no minor units"));
  EXPECT_TRUE(HasSubstr(RejectionOf("1.", "ISK"), "ISK has no minor units"));
}

TEST(ParseAmount, RejectsOneMinorUnitAboveTheMaximum) {
  EXPECT_EQ(RejectionOf("10000000000000", "USD"),
            "amount \"10000000000000\" exceeds the maximum 9999999999999.99 USD");
  EXPECT_TRUE(HasSubstr(RejectionOf("10000000000000.00", "USD"), "exceeds the maximum"));
  EXPECT_TRUE(HasSubstr(RejectionOf("1000000000000000", "JPY"), "maximum 999999999999999 JPY"));
  EXPECT_TRUE(HasSubstr(RejectionOf("1000000000000", "KWD"), "maximum 999999999999.999 KWD"));
}

TEST(ParseAmount, RejectsValuesBeyondInt64WithoutOverflow) {
  EXPECT_EQ(RejectionOf("99999999999999999999", "USD"),
            "amount \"99999999999999999999\" exceeds the maximum 9999999999999.99 USD");
  EXPECT_TRUE(HasSubstr(RejectionOf("18446744073709551617", "JPY"), "exceeds the maximum"));
}

TEST(ParseAmount, ShortensVeryLongInputInErrorMessage) {
  const std::string huge(10'000, '9');
  std::string error = RejectionOf(huge);
  EXPECT_TRUE(HasSubstr(error, "(10000 characters) exceeds the maximum"));
  EXPECT_LT(error.size(), 200u);
}

// --- format_amount -----------------------------------------------------------

TEST(FormatAmount, PrintsExactlyTheCurrencyMinorDigits) {
  EXPECT_EQ(format_amount(Amount{1230}, Currency("USD")), "12.30");
  EXPECT_EQ(format_amount(Amount{1200}, Currency("USD")), "12.00");
  EXPECT_EQ(format_amount(Amount{5}, Currency("USD")), "0.05");
  EXPECT_EQ(format_amount(Amount{0}, Currency("USD")), "0.00");
  EXPECT_EQ(format_amount(Amount{1000}, Currency("JPY")), "1000");
  EXPECT_EQ(format_amount(Amount{0}, Currency("JPY")), "0");
  EXPECT_EQ(format_amount(Amount{1}, Currency("KWD")), "0.001");
  EXPECT_EQ(format_amount(Amount{1234}, Currency("KWD")), "1.234");
  EXPECT_EQ(format_amount(Amount{kMaxAmountMinor}, Currency("USD")), "9999999999999.99");
}

TEST(FormatAmount, OutputParsesBackToTheSameAmount) {
  for (const char* code : {"USD", "JPY", "KWD"}) {
    for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{10}, int64_t{999}, kMaxAmountMinor}) {
      const std::string text = format_amount(Amount{v}, Currency(code));
      EXPECT_EQ(MinorOf(text, code), v) << code << " " << text;
    }
  }
}

TEST(FormatAmount, MarksNegativeValuesWithSignSoTheyCannotRoundTrip) {
  EXPECT_EQ(format_amount(Amount{-5}, Currency("USD")), "-0.05");
  EXPECT_EQ(format_amount(Amount{std::numeric_limits<int64_t>::min()}, Currency("JPY")),
            "-9223372036854775808");
}

// --- checked arithmetic ------------------------------------------------------

TEST(CheckedArithmetic, AddsWithinRange) {
  Amount out{-1};
  ASSERT_TRUE(checked_add(Amount{150}, Amount{250}, out));
  EXPECT_EQ(out, Amount{400});
  ASSERT_TRUE(checked_add(Amount{kMaxAmountMinor - 1}, Amount{1}, out));
  EXPECT_EQ(out, Amount{kMaxAmountMinor});
}

TEST(CheckedArithmetic, AddPastMaximumFailsAndLeavesOutUntouched) {
  Amount out{42};
  EXPECT_FALSE(checked_add(Amount{kMaxAmountMinor}, Amount{1}, out));
  EXPECT_FALSE(checked_add(Amount{kMaxAmountMinor}, Amount{kMaxAmountMinor}, out));
  EXPECT_EQ(out, Amount{42});
}

TEST(CheckedArithmetic, AddNeverOverflowsInt64) {
  constexpr int64_t kMax64 = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin64 = std::numeric_limits<int64_t>::min();
  Amount out{42};
  EXPECT_FALSE(checked_add(Amount{kMax64}, Amount{kMax64}, out));
  EXPECT_FALSE(checked_add(Amount{kMin64}, Amount{kMin64}, out));
  EXPECT_FALSE(checked_add(Amount{kMin64}, Amount{0}, out));
  EXPECT_EQ(out, Amount{42});
}

TEST(CheckedArithmetic, SubtractsDownToZero) {
  Amount out{-1};
  ASSERT_TRUE(checked_sub(Amount{400}, Amount{150}, out));
  EXPECT_EQ(out, Amount{250});
  ASSERT_TRUE(checked_sub(Amount{400}, Amount{400}, out));
  EXPECT_EQ(out, Amount{0});
}

TEST(CheckedArithmetic, SubBelowZeroFailsAndLeavesOutUntouched) {
  Amount out{42};
  EXPECT_FALSE(checked_sub(Amount{0}, Amount{1}, out));
  EXPECT_FALSE(checked_sub(Amount{100}, Amount{kMaxAmountMinor}, out));
  EXPECT_FALSE(checked_sub(Amount{0}, Amount{std::numeric_limits<int64_t>::min()}, out));
  EXPECT_FALSE(checked_sub(Amount{std::numeric_limits<int64_t>::min()}, Amount{1}, out));
  EXPECT_EQ(out, Amount{42});
}

}  // namespace
}  // namespace ws
