// Unit tests for core/txid: strict RFC 4122 transaction ids.
#include <gtest/gtest.h>

#include <string>
#include <unordered_set>

#include "core/hash.h"
#include "core/txid.h"

namespace ws {
namespace {

constexpr const char* kValid = "f47ac10b-58cc-4372-a567-0e02b2c3d479";
constexpr TxId kValidId{0xf47ac10b58cc4372ULL, 0xa5670e02b2c3d479ULL};

::testing::AssertionResult HasSubstr(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << '"' << text << "\" does not contain \"" << part << '"';
}

// Expects `text` to be rejected and returns the error message.
std::string RejectionOf(std::string_view text) {
  TxIdParse p = parse_txid(text);
  EXPECT_FALSE(p.id.has_value()) << '"' << text << "\" was accepted";
  EXPECT_FALSE(p.error.empty()) << '"' << text << '"';
  return p.error;
}

TxId Parsed(std::string_view text) {
  TxIdParse p = parse_txid(text);
  EXPECT_TRUE(p.id.has_value()) << '"' << text << "\": " << p.error;
  EXPECT_TRUE(p.error.empty()) << p.error;
  return p.id.value_or(TxId{});
}

// Returns kValid with the character at `pos` replaced.
std::string ValidWith(size_t pos, char c) {
  std::string s = kValid;
  s[pos] = c;
  return s;
}

// --- parse_txid: accepted forms ----------------------------------------------

TEST(ParseTxId, ReadsDigitsAsBigEndianHalves) { EXPECT_EQ(Parsed(kValid), kValidId); }

TEST(ParseTxId, AcceptsUpperAndMixedCaseHex) {
  EXPECT_EQ(Parsed("F47AC10B-58CC-4372-A567-0E02B2C3D479"), kValidId);
  EXPECT_EQ(Parsed("f47AC10b-58Cc-4372-A567-0e02b2C3d479"), kValidId);
}

TEST(ParseTxId, AcceptsVersionsOneThroughFive) {
  EXPECT_EQ(Parsed("6ba7b810-9dad-11d1-80b4-00c04fd430c8").hi, 0x6ba7b8109dad11d1ULL);
  for (char v : {'1', '2', '3', '4', '5'}) Parsed(ValidWith(14, v));
}

TEST(ParseTxId, AcceptsAllFourRfc4122VariantNibbles) {
  for (char v : {'8', '9', 'a', 'b', 'A', 'B'}) Parsed(ValidWith(19, v));
}

// --- parse_txid: rejected forms ----------------------------------------------

TEST(ParseTxId, RejectsDesignDocumentSampleId) {
  EXPECT_EQ(RejectionOf("01589980-2434-33dx-1532-1423gb420530"),
            "transaction_id \"01589980-2434-33dx-1532-1423gb420530\" is not a UUID: character "
            "'x' at position 17 is not a hex digit");
}

TEST(ParseTxId, RejectsNonHexLetter) {
  EXPECT_TRUE(HasSubstr(RejectionOf(ValidWith(0, 'g')), "character 'g' at position 0"));
  EXPECT_TRUE(HasSubstr(RejectionOf(ValidWith(35, 'Z')), "character 'Z' at position 35"));
}

TEST(ParseTxId, RejectsControlAndNonAsciiBytesWithEscapedMessage) {
  EXPECT_EQ(RejectionOf(ValidWith(3, '\n')),
            "transaction_id \"f47\\x0Ac10b-58cc-4372-a567-0e02b2c3d479\" is not a UUID: byte "
            "0x0A at position 3 is not a hex digit");
  EXPECT_TRUE(HasSubstr(RejectionOf(ValidWith(30, '\xff')), "byte 0xFF at position 30"));
  EXPECT_TRUE(HasSubstr(RejectionOf(ValidWith(1, '\0')), "byte 0x00 at position 1"));
}

TEST(ParseTxId, RejectsWrongLength) {
  EXPECT_EQ(RejectionOf(""),
            "transaction_id \"\" is not a UUID: it has 0 characters, expected 36 (8-4-4-4-12 "
            "hex digits)");
  const std::string valid = kValid;
  EXPECT_TRUE(HasSubstr(RejectionOf(valid.substr(0, 35)), "it has 35 characters"));
  EXPECT_TRUE(HasSubstr(RejectionOf(valid + "0"), "it has 37 characters"));
  EXPECT_TRUE(HasSubstr(RejectionOf(" " + valid), "it has 37 characters"));
}

TEST(ParseTxId, RejectsOtherUuidSpellings) {
  const std::string valid = kValid;
  EXPECT_TRUE(HasSubstr(RejectionOf("{" + valid + "}"), "it has 38 characters"));
  EXPECT_TRUE(HasSubstr(RejectionOf("urn:uuid:" + valid), "it has 45 characters"));
  EXPECT_TRUE(HasSubstr(RejectionOf("f47ac10b58cc4372a5670e02b2c3d479"), "it has 32 characters"));
}

TEST(ParseTxId, RejectsMissingHyphen) {
  EXPECT_EQ(RejectionOf(ValidWith(13, '0')),
            "transaction_id \"f47ac10b-58cc04372-a567-0e02b2c3d479\" is not a UUID: expected '-' "
            "at position 13, found character '0'");
  EXPECT_TRUE(HasSubstr(RejectionOf(ValidWith(23, '_')), "expected '-' at position 23"));
}

TEST(ParseTxId, RejectsHyphensMisplaced) {
  // Same 32 digits and four hyphens, first group one digit short.
  EXPECT_EQ(RejectionOf("f47ac10-b58cc-4372-a567-0e02b2c3d479"),
            "transaction_id \"f47ac10-b58cc-4372-a567-0e02b2c3d479\" is not a UUID: character "
            "'-' at position 7 is not a hex digit (hyphens belong at positions 8, 13, 18 and 23)");
  EXPECT_TRUE(HasSubstr(RejectionOf("f47ac10b5-8cc-4372-a567-0e02b2c3d479"),
                        "expected '-' at position 8, found character '5'"));
}

TEST(ParseTxId, RejectsVersionNibbleOutsideOneToFive) {
  EXPECT_EQ(RejectionOf(ValidWith(14, '0')),
            "transaction_id \"f47ac10b-58cc-0372-a567-0e02b2c3d479\" is not a UUID: version "
            "nibble '0' at position 14 is not 1..5");
  for (char v : {'6', '7', '9', 'a', 'f', 'F'}) {
    EXPECT_TRUE(HasSubstr(RejectionOf(ValidWith(14, v)), "version nibble")) << v;
  }
}

TEST(ParseTxId, RejectsVariantBitsOtherThan10) {
  EXPECT_EQ(RejectionOf(ValidWith(19, '7')),
            "transaction_id \"f47ac10b-58cc-4372-7567-0e02b2c3d479\" is not a UUID: variant "
            "nibble '7' at position 19 is not 8, 9, a or b (RFC 4122 variant bits 10xx)");
  for (char v : {'0', '1', '6', 'c', 'd', 'e', 'f', 'C'}) {
    EXPECT_TRUE(HasSubstr(RejectionOf(ValidWith(19, v)), "variant nibble")) << v;
  }
}

TEST(ParseTxId, RejectsNilUuid) {
  EXPECT_EQ(RejectionOf("00000000-0000-0000-0000-000000000000"),
            "transaction_id \"00000000-0000-0000-0000-000000000000\" is not a UUID: the nil UUID "
            "cannot identify a transaction");
}

// --- format_txid / make_v4_txid ----------------------------------------------

TEST(FormatTxId, PrintsLowerCaseCanonicalForm) {
  EXPECT_EQ(format_txid(kValidId), kValid);
  EXPECT_EQ(format_txid(Parsed("F47AC10B-58CC-4372-A567-0E02B2C3D479")), kValid);
  EXPECT_EQ(format_txid(TxId{}), "00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(format_txid(TxId{1, 2}), "00000000-0000-0001-0000-000000000002");
}

TEST(MakeV4TxId, ForcesVersionAndVariantBitsOnly) {
  EXPECT_EQ(format_txid(make_v4_txid(0, 0)), "00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(format_txid(make_v4_txid(~0ULL, ~0ULL)), "ffffffff-ffff-4fff-bfff-ffffffffffff");
  EXPECT_EQ(make_v4_txid(kValidId.hi, kValidId.lo), kValidId);
}

TEST(MakeV4TxId, EvenAllZeroRandomBitsGiveAParsableNonNilId) {
  const TxId id = make_v4_txid(0, 0);
  EXPECT_FALSE(id.is_nil());
  EXPECT_EQ(Parsed(format_txid(id)), id);
}

// --- TxIdHash ----------------------------------------------------------------

TEST(TxIdHash, IsTheDocumentedFixedMix) {
  const TxIdHash h;
  EXPECT_EQ(h(kValidId), static_cast<size_t>(mix64(kValidId.hi ^ (kValidId.lo * 0x9E3779B97F4A7C15ULL))));
  // Pinned so that a change to the mixing cannot pass unnoticed. (Nothing
  // may depend on hashed containers' order, but a change should be a choice.)
  if constexpr (sizeof(size_t) == sizeof(uint64_t)) {
    EXPECT_EQ(static_cast<uint64_t>(h(TxId{})), 0xE220A8397B1DCDAFULL);
    EXPECT_EQ(static_cast<uint64_t>(h(kValidId)), 0xB8D319EF5E39B43CULL);
  }
}

TEST(TxIdHash, SeparatesHalvesAndOrder) {
  const TxIdHash h;
  EXPECT_NE(h(TxId{1, 2}), h(TxId{2, 1}));
  EXPECT_NE(h(TxId{0, 1}), h(TxId{1, 0}));
  EXPECT_EQ(h(kValidId), h(Parsed(kValid)));
}

TEST(TxIdHash, WorksAsUnorderedSetHasher) {
  std::unordered_set<TxId, TxIdHash> seen;
  for (uint64_t i = 0; i < 1000; ++i) seen.insert(make_v4_txid(i, i * 7));
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_TRUE(seen.contains(make_v4_txid(5, 35)));
  EXPECT_FALSE(seen.contains(kValidId));
}

}  // namespace
}  // namespace ws
