// Framing of the append-only event log (docs/event_log.md):
//   record = crc32c (u32 LE) | length (u32 LE) | version (u8) | payload
// The checksum covers length, version and payload. A reader that meets a
// short, torn or corrupt record stops there and reports where the intact
// prefix ends, so recovery can truncate the tail.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace ws {

constexpr uint8_t kLogVersion = 1;
constexpr size_t kRecordHeader = 9;
constexpr uint32_t kMaxRecordPayload = 1u << 26;

// Appends one framed record to out (no allocation when capacity suffices).
void append_record(std::vector<uint8_t>& out, std::span<const uint8_t> payload);

struct LogScan {
  size_t intact_end = 0;  // bytes [0, intact_end) are whole, valid records
  size_t records = 0;
  bool torn = false;      // bytes after intact_end were present but invalid
};

// Calls fn for each intact record of buf in order; stops at the first bad one.
// verify_checksums=false trusts bytes this process has just framed itself
// (the simulator reading back its own appends); recovery always verifies.
LogScan scan_records(std::span<const uint8_t> buf,
                     const std::function<void(std::span<const uint8_t>)>& fn,
                     bool verify_checksums = true);

}  // namespace ws
