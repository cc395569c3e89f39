// The checker's own reading of what a client sent: amounts and transaction
// ids parsed by a different method from core/money.cc and core/txid.cc,
// sharing no code with them (DESIGN.md section 2), so that one parser bug
// cannot move the engine and the checker together. A RapidCheck property
// (tests/prop_reading.cc) shows both agree on every string the workload
// produces.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/txid.h"

namespace ws::reading {

// A decimal amount in minor units: digits, at most one '.', no sign, no
// leading zero before another digit, at most `minor_digits` fractional digits
// (none and no '.' when it is 0), at most 10^15 - 1 minor units. Zero reads
// as zero; whether zero is a valid transfer is the caller's rule.
std::optional<int64_t> amount_minor(std::string_view text, int minor_digits);

// An RFC 4122 UUID in 8-4-4-4-12 form, hex digits of either case, version
// 1 to 5, variant 10xx, not nil.
std::optional<TxId> txid(std::string_view text);

}  // namespace ws::reading
