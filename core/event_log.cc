#include "core/event_log.h"

#include <cassert>

#include "core/checksum.h"
#include "core/le.h"

namespace ws {

void append_record(std::vector<uint8_t>& out, std::span<const uint8_t> payload) {
  assert(payload.size() <= kMaxRecordPayload);
  size_t at = out.size();
  out.resize(at + kRecordHeader + payload.size());
  uint8_t* p = out.data() + at;
  store_le32(p + 4, static_cast<uint32_t>(payload.size()));
  p[8] = kLogVersion;
  if (!payload.empty()) std::copy(payload.begin(), payload.end(), p + kRecordHeader);
  store_le32(p, crc32c(p + 4, 5 + payload.size()));
}

LogScan scan_records(std::span<const uint8_t> buf,
                     const std::function<void(std::span<const uint8_t>)>& fn, bool verify_checksums) {
  LogScan scan;
  size_t pos = 0;
  while (pos < buf.size()) {
    if (buf.size() - pos < kRecordHeader) break;
    const uint8_t* p = buf.data() + pos;
    uint32_t len = load_le32(p + 4);
    if (len > kMaxRecordPayload || buf.size() - pos - kRecordHeader < len) break;
    if (p[8] != kLogVersion) break;
    if (verify_checksums && crc32c(p + 4, 5 + size_t{len}) != load_le32(p)) break;
    fn(std::span<const uint8_t>(p + kRecordHeader, len));
    pos += kRecordHeader + len;
    ++scan.records;
  }
  scan.intact_end = pos;
  scan.torn = pos < buf.size();
  return scan;
}

}  // namespace ws
