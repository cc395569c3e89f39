// Framing of the append-only event log (docs/event_log.md):
//   record = crc32c (u32 LE) | length (u32 LE) | version (u8) |
//            header check (u32 LE) | payload
// The header check is the CRC-32C of length and version, so a record's
// length is known good before it is used; the checksum covers everything
// after it (length, version, header check, payload). A reader that meets a
// bad record stops there and says whether it is a torn tail (a record cut
// short by a crash in the middle of its write: its header checks, and the
// file ends before the record does) or damage (anything else: a header that
// fails its check, a whole record that fails its checksum). Version-1
// records (no header check) are still read; they cannot tell damage from a
// torn tail.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace ws {

constexpr uint8_t kLogVersion = 2;
constexpr uint8_t kLogVersion1 = 1;  // read only
constexpr size_t kRecordHeader = 13;
constexpr size_t kRecordHeaderV1 = 9;
constexpr uint32_t kMaxRecordPayload = 1u << 26;

// Appends one framed record to out (no allocation when capacity suffices).
void append_record(std::vector<uint8_t>& out, std::span<const uint8_t> payload);

struct LogScan {
  size_t intact_end = 0;  // bytes [0, intact_end) are whole, valid records
  size_t records = 0;
  bool torn = false;      // bytes after intact_end were present but invalid
  // ... and they are not a torn tail: the record at intact_end is damaged
  // (its header fails its check, or it is whole and fails its checksum).
  bool damaged = false;
};

// Calls fn for each intact record of buf in order; stops at the first bad one.
// verify_checksums=false trusts bytes this process has just framed itself
// (the simulator reading back its own appends); recovery always verifies.
LogScan scan_records(std::span<const uint8_t> buf,
                     const std::function<void(std::span<const uint8_t>)>& fn,
                     bool verify_checksums = true);
// The same, telling fn where each record starts in buf (its header's first
// byte): headers differ in size between versions, so a caller never works
// it out from the payload.
LogScan scan_records_at(std::span<const uint8_t> buf,
                        const std::function<void(size_t start, std::span<const uint8_t>)>& fn,
                        bool verify_checksums = true);

}  // namespace ws
