// The checker reads amounts and transaction ids its own way
// (properties/reading.h), sharing no code with core/money.cc and
// core/txid.cc. These properties show the two readings agree: on every
// string the simulated workload produces, and on those strings mutated, so
// that a disagreement found by a run is a bug in one of them, never noise.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "core/money.h"
#include "core/txid.h"
#include "properties/reading.h"
#include "scenarios/scenario.h"
#include "sim/workload.h"

namespace ws {
namespace {

const std::vector<std::string> kCodes = {"USD", "EUR", "JPY", "KRW", "KWD", "BHD"};

void ExpectSameAmountReading(const std::string& text, const CurrencyInfo& cur) {
  AmountParse engine = parse_amount(text, cur);
  std::optional<int64_t> checker = reading::amount_minor(text, cur.minor_digits);
  RC_ASSERT(engine.amount.has_value() == checker.has_value());
  if (checker) RC_ASSERT(engine.amount->minor == *checker);
}

void ExpectSameTxIdReading(const std::string& text) {
  TxIdParse engine = parse_txid(text);
  std::optional<TxId> checker = reading::txid(text);
  RC_ASSERT(engine.id.has_value() == checker.has_value());
  if (checker) RC_ASSERT(*engine.id == *checker);
}

// A workload as explore makes it, over a random cluster: every amount and id
// it writes, valid or not, reads the same both ways.
RC_GTEST_PROP(CheckerReading, AgreesWithTheEngineOnEveryWorkloadString, ()) {
  std::vector<std::string> currencies;
  for (const std::string& c : kCodes)
    if (*rc::gen::inRange(0, 2) == 0) currencies.push_back(c);
  if (currencies.empty()) currencies.push_back(*rc::gen::elementOf(kCodes));
  nlohmann::json doc = {{"cluster", {{"currencies", currencies}, {"accounts", *rc::gen::inRange(2, 40)}}},
                        {"workload", {{"transfers", 300}, {"invalid_probability", 0.2}, {"reuse_probability", 0.2},
                                      {"edge_probability", 0.3}}}};
  if (*rc::gen::inRange(0, 2) == 0) doc["cluster"]["max_balance"] = "250";
  ScenarioLoad sl = scenario_from_json(doc);
  RC_ASSERT(sl.scenario.has_value());
  const Scenario& s = *sl.scenario;
  Workload w = generate_workload(s.sim.cluster, s.workload, *rc::gen::arbitrary<uint64_t>());
  for (const PlannedRequest& r : w.requests) {
    ExpectSameTxIdReading(r.txid);
    for (const CurrencyInfo& cur : s.sim.cluster.currencies) ExpectSameAmountReading(r.amount, cur);
  }
}

// Amount texts near the valid ones: canonical and short forms, with a
// character inserted, deleted or replaced by one the parsers treat specially.
RC_GTEST_PROP(CheckerReading, AgreesWithTheEngineOnMutatedAmounts, ()) {
  const CurrencyInfo cur = *find_currency(*rc::gen::elementOf(kCodes));
  const int64_t minor = *rc::gen::weightedOneOf<int64_t>(
      {{6, rc::gen::inRange<int64_t>(0, 100'000)},
       {2, rc::gen::inRange<int64_t>(0, kMaxAmountMinor + 2)},
       {1, rc::gen::element<int64_t>(0, 1, kMaxAmountMinor - 1, kMaxAmountMinor, kMaxAmountMinor + 1)}});
  std::string text = format_amount(Amount{minor}, cur);
  const size_t strip = *rc::gen::inRange<size_t>(0, cur.minor_digits + 2);
  for (size_t i = 0; i < strip && text.size() > 1 && (text.back() == '0' || text.back() == '.'); ++i) text.pop_back();
  const int mutations = *rc::gen::inRange(0, 3);
  for (int i = 0; i < mutations && !text.empty(); ++i) {
    const size_t at = *rc::gen::inRange<size_t>(0, text.size());
    const char c = *rc::gen::element('0', '9', '.', '-', '+', 'e', ' ', '\0', '1', 'x');
    switch (*rc::gen::inRange(0, 3)) {
      case 0: text.insert(text.begin() + static_cast<ptrdiff_t>(at), c); break;
      case 1: text.erase(at, 1); break;
      default: text[at] = c; break;
    }
  }
  ExpectSameAmountReading(text, cur);
}

// Ids: well-formed ones in either case, and ones with a digit, a dash, the
// version or the variant changed.
RC_GTEST_PROP(CheckerReading, AgreesWithTheEngineOnMutatedIds, ()) {
  TxId id{*rc::gen::arbitrary<uint64_t>(), *rc::gen::arbitrary<uint64_t>()};
  std::string text = format_txid(*rc::gen::inRange(0, 4) == 0 ? id : make_v4_txid(id.hi, id.lo));
  if (*rc::gen::inRange(0, 2) == 0)
    for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const int mutations = *rc::gen::inRange(0, 3);
  for (int i = 0; i < mutations; ++i) {
    const size_t at = *rc::gen::element<size_t>(0, 8, 13, 14, 18, 19, 23, 35, *rc::gen::inRange<size_t>(0, 36));
    const char c = *rc::gen::element('0', '1', '5', '6', '8', 'b', 'c', 'F', 'g', '-', ' ');
    if (*rc::gen::inRange(0, 5) == 0) {
      text.erase(at < text.size() ? at : 0, 1);
    } else if (at < text.size()) {
      text[at] = c;
    }
  }
  ExpectSameTxIdReading(text);
}

TEST(CheckerReading, KnownEdgesReadTheSameBothWays) {
  const CurrencyInfo usd = *find_currency("USD");
  const CurrencyInfo jpy = *find_currency("JPY");
  EXPECT_EQ(reading::amount_minor("12.5", 2), 1250);
  EXPECT_EQ(reading::amount_minor("12", 2), 1200);
  EXPECT_EQ(reading::amount_minor("0.05", 2), 5);
  EXPECT_EQ(reading::amount_minor("9999999999999.99", 2), kMaxAmountMinor);
  EXPECT_FALSE(reading::amount_minor("10000000000000.00", 2));
  EXPECT_FALSE(reading::amount_minor("1000000000000000", 0));
  EXPECT_FALSE(reading::amount_minor("1.5", 0));
  EXPECT_FALSE(reading::amount_minor("01", 2));
  EXPECT_FALSE(reading::amount_minor("1.", 2));
  EXPECT_FALSE(reading::amount_minor("-1", 2));
  for (const char* t : {"12.5", "12", "0.05", "9999999999999.99", "10000000000000.00", "01", "", "1.2.3"}) {
    EXPECT_EQ(parse_amount(t, usd).amount.has_value(), reading::amount_minor(t, 2).has_value()) << t;
    EXPECT_EQ(parse_amount(t, jpy).amount.has_value(), reading::amount_minor(t, 0).has_value()) << t;
  }
  EXPECT_TRUE(reading::txid("6f1c2a4e-8d3b-4c7a-9e2f-1b2c3d4e5f60"));
  EXPECT_TRUE(reading::txid("6F1C2A4E-8D3B-4C7A-9E2F-1B2C3D4E5F60"));
  EXPECT_FALSE(reading::txid("6f1c2a4e-8d3b-6c7a-9e2f-1b2c3d4e5f60"));  // version 6
  EXPECT_FALSE(reading::txid("6f1c2a4e-8d3b-4c7a-1e2f-1b2c3d4e5f60"));  // variant 0xxx
  EXPECT_FALSE(reading::txid("00000000-0000-0000-0000-000000000000"));
  EXPECT_FALSE(reading::txid("01589980-2434-33dx-1532-1423gb420530"));
}

}  // namespace
}  // namespace ws
