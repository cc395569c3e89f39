// Fuzz target: the event-log reader, as a node restarting from its log file
// uses it: the record framing (core/event_log.cc, scan_records), the event
// decoding (core/events.cc, decode_event) and the rebuild of a partition's
// balances and a coordinator's phase table from the records
// (PartitionNode::rebuild, Coordinator::rebuild). walletd reads these bytes
// back from disk, where a torn write, damage or another cluster's file can
// leave anything.
//
// Input: the bytes of a log file, read as they are and then again with
// every record's CRC-32C rewritten to match (so that the fuzzer reaches the
// event decoding and the rebuild instead of stopping at the checksum). The
// cluster: 2 partitions, 1 coordinator, 8 accounts, USD and EUR; every log
// is rebuilt as each partition and as the coordinator, under TC/C and 2PC.
//
// Asserts, beyond "does not crash" and "never reads past the buffer":
//  - the scan's records lie inside the buffer, back to back from offset 0,
//    end at intact_end, and framing them again with append_record gives
//    exactly bytes [0, intact_end); torn is set iff bytes follow;
//  - scanning just the intact prefix gives the same records and no tear;
//    skipping checksum verification never gives a shorter intact prefix;
//  - a decoded event encodes back to the record's first 48 bytes;
//  - recovery from the last snapshot plus the records after it runs on
//    every log; when a full replay of the records succeeds, that recovery
//    also succeeds and gives the same state (the replay property of the
//    design, on arbitrary logs).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "core/checksum.h"
#include "core/coordinator.h"
#include "core/event_log.h"
#include "core/events.h"
#include "core/partition_node.h"
#include "fuzz/check.h"

namespace {

using Records = std::vector<std::span<const uint8_t>>;

ws::ClusterConfig make_config(ws::ProtocolKind kind) {
  ws::ClusterConfig c;
  c.partitions = 2;
  c.coordinators = 1;
  c.clients = 1;
  c.accounts = 8;
  c.currencies = {*ws::find_currency("USD"), *ws::find_currency("EUR")};
  c.initial_balance = {ws::Amount{10000}, ws::Amount{10000}};
  c.protocol.kind = kind;
  c.finalize();
  return c;
}

Records scan_checked(std::span<const uint8_t> buf, bool verify, ws::LogScan& scan) {
  Records records;
  size_t expect_at = 0;
  scan = ws::scan_records(
      buf,
      [&](std::span<const uint8_t> r) {
        // Version 2 headers are 13 bytes; version-1 records (read only) 9.
        const size_t header = buf[expect_at + 8] == ws::kLogVersion1 ? ws::kRecordHeaderV1 : ws::kRecordHeader;
        FUZZ_CHECK(r.data() == buf.data() + expect_at + header);
        FUZZ_CHECK(expect_at + header + r.size() <= buf.size());
        expect_at += header + r.size();
        records.push_back(r);
      },
      verify);
  FUZZ_CHECK(scan.records == records.size());
  FUZZ_CHECK(scan.intact_end == expect_at);
  FUZZ_CHECK(scan.torn == (scan.intact_end < buf.size()));
  FUZZ_CHECK(!scan.damaged || scan.torn);
  return records;
}

bool same_records(const Records& a, const Records& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].data() != b[i].data() || a[i].size() != b[i].size()) return false;
  return true;
}

void check_framing(std::span<const uint8_t> buf, const Records& records, const ws::LogScan& scan) {
  // Framed again, each record as its version frames it, they are the bytes read.
  std::vector<uint8_t> again;
  for (const auto& r : records) {
    const size_t header = static_cast<size_t>(r.data() - buf.data()) - again.size();
    if (header == ws::kRecordHeaderV1) {
      const size_t at = again.size();
      again.resize(at + ws::kRecordHeaderV1);
      for (int i = 0; i < 4; ++i) again[at + 4 + i] = static_cast<uint8_t>(r.size() >> (8 * i));
      again[at + 8] = ws::kLogVersion1;
      again.insert(again.end(), r.begin(), r.end());
      const uint32_t crc = ws::crc32c(again.data() + at + 4, 5 + r.size());
      for (int i = 0; i < 4; ++i) again[at + i] = static_cast<uint8_t>(crc >> (8 * i));
    } else {
      FUZZ_CHECK(header == ws::kRecordHeader);
      ws::append_record(again, r);
    }
  }
  FUZZ_CHECK(again.size() == scan.intact_end);
  FUZZ_CHECK(again.empty() || std::memcmp(again.data(), buf.data(), again.size()) == 0);

  ws::LogScan prefix;
  Records same = scan_checked(buf.first(scan.intact_end), true, prefix);
  FUZZ_CHECK(!prefix.torn && prefix.records == scan.records && same_records(same, records));

  ws::LogScan trusting;
  scan_checked(buf, false, trusting);
  FUZZ_CHECK(trusting.intact_end >= scan.intact_end && trusting.records >= scan.records);
}

void check_events(const Records& records) {
  for (const auto& r : records) {
    auto e = ws::decode_event(r);
    if (!e) continue;
    std::vector<uint8_t> again;
    ws::encode_event(*e, again);
    FUZZ_CHECK(again.size() == ws::kEventSize && r.size() >= ws::kEventSize);
    FUZZ_CHECK(std::memcmp(again.data(), r.data(), ws::kEventSize) == 0);
  }
}

void check_rebuild(const ws::ClusterConfig& cfg, const Records& records) {
  for (uint32_t p = 0; p < cfg.partitions; ++p) {
    // Recovery (on_start) loads the last snapshot as it is and replays the
    // records after it: run it on every log, whatever the full replay says.
    ws::PartitionNode from_snapshot(cfg, p);
    const bool recovered = from_snapshot.rebuild(records, /*use_snapshots=*/true);
    ws::PartitionNode replayed(cfg, p);
    if (!replayed.rebuild(records, /*use_snapshots=*/false)) continue;
    FUZZ_CHECK(recovered);
    FUZZ_CHECK(from_snapshot.state_digest() == replayed.state_digest());
    FUZZ_CHECK(from_snapshot.open_holds() == replayed.open_holds());
  }
  ws::Coordinator coordinator(cfg, 0);
  if (coordinator.rebuild(records)) {
    ws::Coordinator again(cfg, 0);
    FUZZ_CHECK(again.rebuild(records));
    FUZZ_CHECK(again.state_digest() == coordinator.state_digest());
  }
}

void check_log(std::span<const uint8_t> buf) {
  static const ws::ClusterConfig tcc = make_config(ws::ProtocolKind::kTcc);
  static const ws::ClusterConfig twopc = make_config(ws::ProtocolKind::k2pc);
  ws::LogScan scan;
  const Records records = scan_checked(buf, true, scan);
  check_framing(buf, records, scan);
  check_events(records);
  check_rebuild(tcc, records);
  check_rebuild(twopc, records);
}

// Rewrites the header check and checksum of each record whose length fits
// in the buffer (as version 2).
void reseal(std::vector<uint8_t>& buf) {
  size_t pos = 0;
  while (buf.size() - pos >= ws::kRecordHeader) {
    uint8_t* p = buf.data() + pos;
    const uint32_t len =
        uint32_t{p[4]} | uint32_t{p[5]} << 8 | uint32_t{p[6]} << 16 | uint32_t{p[7]} << 24;
    if (len > buf.size() - pos - ws::kRecordHeader) break;
    p[8] = ws::kLogVersion;
    const uint32_t hc = ws::crc32c(p + 4, 5);
    for (int i = 0; i < 4; ++i) p[9 + i] = static_cast<uint8_t>(hc >> (8 * i));
    const uint32_t crc = ws::crc32c(p + 4, ws::kRecordHeader - 4 + size_t{len});
    for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(crc >> (8 * i));
    pos += ws::kRecordHeader + len;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  check_log(std::span<const uint8_t>(data, size));
  // A heap copy of exactly the input's size keeps ASan's bounds check.
  std::vector<uint8_t> sealed(data, data + size);
  reseal(sealed);
  check_log(sealed);
  return 0;
}
