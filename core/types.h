// Basic value types shared by the whole engine: time, node ids, account ids.
// No bare int64_t for time or money in interfaces (see money.h for Amount).
#pragma once

#include <cstdint>

namespace ws {

// Simulated or real time in integer nanoseconds.
using Time = int64_t;
using Duration = int64_t;

constexpr Duration kMicrosecond = 1000;
constexpr Duration kMillisecond = 1000 * kMicrosecond;
constexpr Duration kSecond = 1000 * kMillisecond;

using NodeId = uint32_t;
constexpr NodeId kNoNode = UINT32_MAX;

// Dense index of an account in the cluster configuration; the textual name
// ("acct-17") is what the API shows and what the partition map hashes.
using AccountId = uint32_t;
// Index into the cluster's currency list (not an ISO code).
using CurrencyIdx = uint8_t;

}  // namespace ws
