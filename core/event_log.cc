#include "core/event_log.h"

#include <array>
#include <cassert>

#include "core/checksum.h"
#include "core/le.h"

namespace ws {

void append_record(std::vector<uint8_t>& out, std::span<const uint8_t> payload) {
  assert(payload.size() <= kMaxRecordPayload);
  // The header is framed aside and both parts are appended as they are: a
  // resize first would zero-fill bytes only to overwrite them.
  std::array<uint8_t, kRecordHeader> h;
  store_le32(h.data() + 4, static_cast<uint32_t>(payload.size()));
  h[8] = kLogVersion;
  const uint32_t header_crc = crc32c(h.data() + 4, 5);
  store_le32(h.data() + 9, header_crc);
  // The record's checksum covers bytes 4.. on: it goes on from the header's
  // over the header's own checksum, then over the payload.
  store_le32(h.data(), crc32c(payload.data(), payload.size(), crc32c(h.data() + 9, 4, header_crc)));
  out.insert(out.end(), h.begin(), h.end());
  out.insert(out.end(), payload.begin(), payload.end());
}

LogScan scan_records(std::span<const uint8_t> buf,
                     const std::function<void(std::span<const uint8_t>)>& fn, bool verify_checksums) {
  return scan_records_at(buf, [&](size_t, std::span<const uint8_t> r) { fn(r); }, verify_checksums);
}

LogScan scan_records_at(std::span<const uint8_t> buf,
                        const std::function<void(size_t start, std::span<const uint8_t>)>& fn,
                        bool verify_checksums) {
  LogScan scan;
  size_t pos = 0;
  bool seen_v2 = false;  // a log never goes back to an older record version
  while (pos < buf.size()) {
    const size_t left = buf.size() - pos;
    const uint8_t* p = buf.data() + pos;
    // A header cut short can only be a torn tail: damage changes bytes, it
    // does not remove them, and every earlier length was checked.
    if (left < kRecordHeaderV1) break;
    const uint32_t len = load_le32(p + 4);
    size_t header = kRecordHeader;
    if (p[8] == kLogVersion) {
      seen_v2 = true;
      if (left < kRecordHeader) break;
      if (verify_checksums && crc32c(p + 4, 5) != load_le32(p + 9)) {
        scan.damaged = true;
        break;
      }
      if (len > kMaxRecordPayload) {
        scan.damaged = true;
        break;
      }
    } else if (p[8] == kLogVersion1 && !seen_v2) {
      header = kRecordHeaderV1;  // no header check: any failure reads as a torn tail
      if (len > kMaxRecordPayload) break;
    } else {
      scan.damaged = true;
      break;
    }
    if (left - header < len) break;  // the file ends inside the record: torn
    if (verify_checksums && crc32c(p + 4, header - 4 + size_t{len}) != load_le32(p)) {
      scan.damaged = header == kRecordHeader;
      break;
    }
    fn(pos, std::span<const uint8_t>(p + header, len));
    pos += header + len;
    ++scan.records;
  }
  scan.intact_end = pos;
  scan.torn = pos < buf.size();
  return scan;
}

}  // namespace ws
