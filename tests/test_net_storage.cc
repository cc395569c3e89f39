// The file Storage of net/file_storage.h: group commit (one sync covers
// every append before it), recovery after reopening, a torn or corrupt tail
// truncated to the intact prefix, segments cut behind snapshots and moved to
// the archive, and damage that recovery must refuse. No sleeps: the test
// runs the io_context until the completion it waits for has been handled.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

#include "core/event_log.h"
#include "core/events.h"
#include "net/file_storage.h"

namespace ws::net {
namespace {

class FileStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ws-storage-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = segment_path(dir_, "node", 1);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  std::unique_ptr<FileStorage> open_log(LogOpenReport& rep) {
    std::string error;
    auto s = FileStorage::open(dir_, "node", io_, options_, rep, error);
    EXPECT_TRUE(s) << error;
    return s;
  }
  // Opens the log, lets fill append to it, waits until that is durable and
  // closes it, as a node that ran and stopped.
  void write_log(const std::function<void(FileStorage&)>& fill) {
    LogOpenReport rep;
    auto s = open_log(rep);
    ASSERT_TRUE(s);
    fill(*s);
    wait_durable(*s);
  }
  void wait_durable(FileStorage& s) {
    io_.restart();  // a previous wait that ran out of work left the context stopped
    auto guard = asio::make_work_guard(io_);
    while (s.durable_bytes() < s.appended_bytes()) io_.run_one();
  }
  static std::vector<uint8_t> payload(int i) { return std::vector<uint8_t>(10 + i % 7, static_cast<uint8_t>(i)); }
  std::vector<std::vector<uint8_t>> records(FileStorage& s) {
    std::vector<std::vector<uint8_t>> out;
    s.read_all([&](std::span<const uint8_t> r) { out.emplace_back(r.begin(), r.end()); });
    return out;
  }
  size_t file_size() {
    std::ifstream in(path_, std::ios::binary | std::ios::ate);
    return static_cast<size_t>(in.tellg());
  }
  void append_raw(const std::vector<uint8_t>& bytes) {
    std::ofstream out(path_, std::ios::binary | std::ios::app);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }

  asio::io_context io_;
  std::string dir_, path_;
  StorageOptions options_;
};

TEST_F(FileStorageTest, OneSyncCoversEveryAppendBeforeIt) {
  LogOpenReport rep;
  auto s = open_log(rep);
  EXPECT_EQ(rep.records, 0u);
  std::vector<uint64_t> seen;
  s->add_on_durable([&](uint64_t d) { seen.push_back(d); });
  for (int i = 0; i < 100; ++i) s->append(payload(i));
  EXPECT_EQ(s->durable_bytes(), 0u);  // nothing is durable before the sync
  wait_durable(*s);
  EXPECT_EQ(s->syncs(), 1u);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], s->appended_bytes());
  EXPECT_EQ(records(*s).size(), 100u);
}

TEST_F(FileStorageTest, AppendsDuringASyncJoinTheNextOne) {
  LogOpenReport rep;
  auto s = open_log(rep);
  s->append(payload(0));
  // Run until the writer has been started on the first record, then append more.
  io_.restart();
  auto guard = asio::make_work_guard(io_);
  io_.run_one();  // the posted kick: the writer starts
  for (int i = 1; i < 50; ++i) s->append(payload(i));
  wait_durable(*s);
  // The first batch may or may not have been taken before the rest arrived.
  EXPECT_GE(s->syncs(), 1u);
  EXPECT_LE(s->syncs(), 2u);
  EXPECT_EQ(records(*s).size(), 50u);
}

TEST_F(FileStorageTest, ReopenReadsEveryDurableRecordInOrder) {
  write_log([&](FileStorage& s) {
    for (int i = 0; i < 20; ++i) s.append(payload(i));
  });
  LogOpenReport rep;
  auto s = open_log(rep);
  EXPECT_EQ(rep.records, 20u);
  EXPECT_EQ(rep.truncated_bytes, 0u);
  auto rs = records(*s);
  ASSERT_EQ(rs.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(rs[i], payload(i));
}

TEST_F(FileStorageTest, TornTailIsTruncatedAndTheLogStaysAppendable) {
  write_log([&](FileStorage& s) {
    for (int i = 0; i < 5; ++i) s.append(payload(i));
  });
  const size_t intact = file_size();
  std::vector<uint8_t> whole;
  append_record(whole, payload(99));
  append_raw(std::vector<uint8_t>(whole.begin(), whole.begin() + 12));  // a crash mid-write
  {
    LogOpenReport rep;
    auto s = open_log(rep);
    EXPECT_EQ(rep.records, 5u);
    EXPECT_EQ(rep.truncated_bytes, 12u);
    EXPECT_EQ(file_size(), intact);
    s->append(payload(5));
    wait_durable(*s);
  }
  LogOpenReport rep;
  auto s = open_log(rep);
  EXPECT_EQ(rep.records, 6u);
  EXPECT_EQ(rep.truncated_bytes, 0u);
  EXPECT_EQ(records(*s).back(), payload(5));
}

// Three records, the second's payload damaged; returns the first's size.
size_t damage_second_of_three(FileStorageTest& t, const std::string& path) {
  std::vector<uint8_t> first;
  append_record(first, std::vector<uint8_t>(10, 0));
  int fd = ::open(path.c_str(), O_RDWR);
  EXPECT_GE(fd, 0);
  uint8_t b = 0;
  EXPECT_EQ(pread(fd, &b, 1, static_cast<off_t>(first.size() + kRecordHeader + 1)), 1);
  b ^= 0xff;
  EXPECT_EQ(pwrite(fd, &b, 1, static_cast<off_t>(first.size() + kRecordHeader + 1)), 1);
  ::close(fd);
  (void)t;
  return first.size();
}

// A record that fails its checksum is not a torn tail: it may hold what the
// node acknowledged. With nowhere to repair it from, the node refuses to
// start, naming the file and offset, and the file is left as it was.
TEST_F(FileStorageTest, ACorruptRecordIsRefusedWithoutPeers) {
  write_log([&](FileStorage& s) {
    for (int i = 0; i < 3; ++i) s.append(payload(i));
  });
  const size_t size = file_size();
  const size_t first = damage_second_of_three(*this, path_);
  LogOpenReport rep;
  std::string error;
  auto s = FileStorage::open(dir_, "node", io_, options_, rep, error);
  EXPECT_FALSE(s);
  EXPECT_TRUE(rep.damaged);
  EXPECT_NE(error.find(path_ + " is damaged at offset " + std::to_string(first)), std::string::npos) << error;
  EXPECT_NE(error.find("refusing to start"), std::string::npos) << error;
  EXPECT_EQ(file_size(), size);
}

// A replica can repair from its peers: the log is cut at the damage and the
// repair mark written after what is left, durably, before it is read.
TEST_F(FileStorageTest, ACorruptRecordOfAReplicaIsCutAndMarkedForRepair) {
  write_log([&](FileStorage& s) {
    for (int i = 0; i < 3; ++i) s.append(payload(i));
  });
  const size_t first = damage_second_of_three(*this, path_);
  options_.repair_mark = {0x45, 1};
  LogOpenReport rep;
  auto s = open_log(rep);
  ASSERT_TRUE(s);
  EXPECT_FALSE(rep.damaged);
  EXPECT_NE(rep.repaired.find(path_ + " is damaged at offset " + std::to_string(first)), std::string::npos)
      << rep.repaired;
  std::vector<uint8_t> mark;
  append_record(mark, options_.repair_mark);
  EXPECT_EQ(file_size(), first + mark.size());
  EXPECT_EQ(records(*s), (std::vector<std::vector<uint8_t>>{payload(0), options_.repair_mark}));
  s.reset();
  LogOpenReport again;
  auto s2 = open_log(again);
  EXPECT_TRUE(again.repaired.empty());  // the cut log reads back whole
  EXPECT_EQ(again.records, 2u);
}

TEST_F(FileStorageTest, FormatCreatesANewReplicasLogOnce) {
  std::string error;
  ASSERT_TRUE(format_log(dir_, "node", payload(7), error)) << error;
  EXPECT_FALSE(format_log(dir_, "node", payload(7), error));
  EXPECT_NE(error.find("exists already"), std::string::npos) << error;
  LogOpenReport rep;
  auto s = open_log(rep);
  EXPECT_EQ(records(*s), (std::vector<std::vector<uint8_t>>{payload(7)}));
}

TEST_F(FileStorageTest, SecondWriterOfTheSameLogIsRefused) {
  LogOpenReport rep;
  auto s = open_log(rep);
  std::string error;
  auto again = FileStorage::open(dir_, "node", io_, options_, rep, error);
  EXPECT_FALSE(again);
  EXPECT_NE(error.find("locked"), std::string::npos) << error;
}

// Payloads that look like snapshots to the storage (the first byte is the
// event type) and like ordinary events.
std::vector<uint8_t> snapshot_payload(int i, size_t size = 200) {
  std::vector<uint8_t> p(size, static_cast<uint8_t>(i));
  p[0] = static_cast<uint8_t>(EventType::kSnapshot);
  return p;
}
std::vector<uint8_t> event_payload(int i) {
  std::vector<uint8_t> p(40, static_cast<uint8_t>(i));
  p[0] = static_cast<uint8_t>(EventType::kTryYes);
  return p;
}

class SegmentTest : public FileStorageTest {
 protected:
  void SetUp() override {
    FileStorageTest::SetUp();
    options_.min_segment_bytes = 4096;
  }
  // Fills the current segment past the segment size, then writes a snapshot.
  void fill_and_snapshot(FileStorage& s, int tag) {
    for (int i = 0; i < 120; ++i) s.append(event_payload(tag + i));
    s.append(snapshot_payload(tag));
    s.append(event_payload(tag + 1000));
    wait_durable(s);
  }
  static bool exists(const std::string& p) { return ::access(p.c_str(), F_OK) == 0; }
  void flip(const std::string& path, off_t at) {
    int fd = ::open(path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0) << path;
    uint8_t b = 0;
    ASSERT_EQ(pread(fd, &b, 1, at), 1);
    b ^= 0x5a;
    ASSERT_EQ(pwrite(fd, &b, 1, at), 1);
    ::close(fd);
  }
};

TEST_F(SegmentTest, ASnapshotPastTheSegmentSizeStartsASegmentAndTheOldOneIsArchived) {
  LogOpenReport rep;
  auto s = open_log(rep);
  fill_and_snapshot(*s, 1);
  EXPECT_EQ(s->segments_started(), 1u);
  EXPECT_FALSE(exists(segment_path(dir_, "node", 1)));
  EXPECT_TRUE(exists(segment_path(dir_ + "/archive", "node", 1)));
  EXPECT_TRUE(exists(segment_path(dir_, "node", 2)));
  EXPECT_GT(s->bytes_compacted(), 4096u);
  // Recovery reads the live log only: the snapshot and what follows it.
  auto rs = records(*s);
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0], snapshot_payload(1));
  EXPECT_EQ(rs[1], event_payload(1001));
  s.reset();
  auto again = open_log(rep);
  EXPECT_EQ(rep.records, 2u);
  EXPECT_EQ(rep.segments, 1u);
  EXPECT_FALSE(rep.damaged);
}

TEST_F(SegmentTest, ASmallSegmentIsNotCut) {
  LogOpenReport rep;
  auto s = open_log(rep);
  for (int i = 0; i < 5; ++i) s->append(event_payload(i));
  s->append(snapshot_payload(0));
  wait_durable(*s);
  EXPECT_EQ(s->segments_started(), 0u);
  EXPECT_EQ(records(*s).size(), 6u);
}

TEST_F(SegmentTest, ArchiveDeleteRemovesTheSegmentsBehindASnapshot) {
  options_.keep_archive = false;
  LogOpenReport rep;
  auto s = open_log(rep);
  fill_and_snapshot(*s, 1);
  fill_and_snapshot(*s, 2);
  EXPECT_EQ(s->segments_started(), 2u);
  EXPECT_FALSE(exists(dir_ + "/archive"));
  EXPECT_EQ(list_segments(dir_, "node").size(), 1u);
  EXPECT_EQ(list_segments(dir_, "node")[0].seq, 3u);
}

TEST_F(SegmentTest, ACompactedLogWhoseSnapshotIsDamagedRefusesToStart) {
  write_log([&](FileStorage& s) { fill_and_snapshot(s, 1); });
  const std::string seg = segment_path(dir_, "node", 2);
  flip(seg, kRecordHeader + 20);  // inside the snapshot's payload
  LogOpenReport rep;
  std::string error;
  auto s = FileStorage::open(dir_, "node", io_, options_, rep, error);
  EXPECT_FALSE(s);
  EXPECT_TRUE(rep.damaged);
  EXPECT_NE(error.find(seg), std::string::npos) << error;
  EXPECT_NE(error.find("offset 0"), std::string::npos) << error;
  EXPECT_NE(error.find("refusing to start"), std::string::npos) << error;
}

// A replica's compacted log whose leading snapshot is damaged cannot replay
// anything after it: the live log is dropped and the replica rejoins as one
// that lost its disk, its repair mark in a new segment (the archive keeps
// the old numbers), and that log reads back whole.
TEST_F(SegmentTest, AReplicasCompactedLogWhoseSnapshotIsDamagedRejoinsAsALostDisk) {
  write_log([&](FileStorage& s) { fill_and_snapshot(s, 1); });
  flip(segment_path(dir_, "node", 2), kRecordHeader + 20);
  options_.repair_mark = {0x45, 1};
  LogOpenReport rep;
  auto s = open_log(rep);
  ASSERT_TRUE(s);
  EXPECT_NE(rep.repaired.find("dropped the live log"), std::string::npos) << rep.repaired;
  ASSERT_EQ(list_segments(dir_, "node").size(), 1u);
  EXPECT_EQ(list_segments(dir_, "node")[0].seq, 3u);
  EXPECT_TRUE(exists(segment_path(dir_ + "/archive", "node", 1)));
  EXPECT_EQ(records(*s), (std::vector<std::vector<uint8_t>>{options_.repair_mark}));
  s.reset();
  LogOpenReport again;
  auto s2 = open_log(again);
  EXPECT_TRUE(again.repaired.empty());
  EXPECT_EQ(again.records, 1u);
}

TEST_F(SegmentTest, DamageInASegmentThatIsNotTheNewestIsRefusedNotTruncated) {
  write_log([&](FileStorage& s) { fill_and_snapshot(s, 1); });
  // A crash after the new segment was synced but before segment 1 moved
  // out leaves both live; damage in segment 1 is then not a torn tail.
  ASSERT_EQ(::rename(segment_path(dir_ + "/archive", "node", 1).c_str(), path_.c_str()), 0);
  std::vector<uint8_t> first;
  append_record(first, event_payload(1));
  flip(path_, static_cast<off_t>(first.size() + kRecordHeader + 3));
  LogOpenReport rep;
  std::string error;
  auto s = FileStorage::open(dir_, "node", io_, options_, rep, error);
  EXPECT_FALSE(s);
  EXPECT_TRUE(rep.damaged);
  EXPECT_NE(error.find(path_ + " is damaged at offset " + std::to_string(first.size())), std::string::npos) << error;
  // A replica cuts there instead: the newer segment goes, the mark follows
  // what is left of the damaged one.
  options_.repair_mark = {0x45, 1};
  auto r = open_log(rep);
  ASSERT_TRUE(r);
  EXPECT_EQ(list_segments(dir_, "node").size(), 1u);
  EXPECT_EQ(records(*r), (std::vector<std::vector<uint8_t>>{event_payload(1), options_.repair_mark}));
}

TEST_F(SegmentTest, SegmentsLeftLiveByACrashAreArchivedOnOpen) {
  write_log([&](FileStorage& s) { fill_and_snapshot(s, 1); });
  ASSERT_EQ(::rename(segment_path(dir_ + "/archive", "node", 1).c_str(), path_.c_str()), 0);
  LogOpenReport rep;
  auto s = open_log(rep);
  EXPECT_EQ(rep.archived, 1u);
  EXPECT_EQ(rep.segments, 1u);
  EXPECT_TRUE(exists(segment_path(dir_ + "/archive", "node", 1)));
  EXPECT_EQ(records(*s).size(), 2u);
}

TEST_F(SegmentTest, ANewSegmentWhoseSnapshotNeverBecameDurableIsDropped) {
  write_log([&](FileStorage& s) {
    for (int i = 0; i < 10; ++i) s.append(event_payload(i));
  });
  // A crash right after segment 2 was created, mid-way through its snapshot.
  std::vector<uint8_t> snap;
  append_record(snap, snapshot_payload(7));
  {
    std::ofstream out(segment_path(dir_, "node", 2), std::ios::binary);
    out.write(reinterpret_cast<const char*>(snap.data()), 30);
  }
  LogOpenReport rep;
  auto s = open_log(rep);
  EXPECT_FALSE(rep.damaged);
  EXPECT_EQ(rep.truncated_bytes, 30u);
  EXPECT_EQ(rep.records, 10u);
  EXPECT_FALSE(exists(segment_path(dir_, "node", 2)));
  s->append(event_payload(10));
  wait_durable(*s);
  EXPECT_EQ(records(*s).size(), 11u);
}

TEST_F(SegmentTest, ClockMarksAreWrittenButNeverReadBackAsEvents) {
  LogOpenReport rep;
  auto s = open_log(rep);
  s->append(event_payload(1));
  wait_durable(*s);
  size_t marks = 0, events = 0;
  std::ifstream in(path_, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  scan_records(bytes, [&](std::span<const uint8_t> r) { (r[0] == kClockMarkType ? marks : events)++; });
  EXPECT_EQ(events, 1u);
  EXPECT_EQ(marks, 1u);  // the first append of a process is always followed by one
  EXPECT_EQ(records(*s).size(), 1u);
}

// --local: the nodes of a process share one log, each reading back only its
// own records; a segment is retired only once every node that writes to the
// log has a durable snapshot after it.
TEST_F(SegmentTest, NodesSharingALogReadTheirOwnRecordsAndRetireTogether) {
  auto read = [](NodeLog& log) {
    std::vector<std::vector<uint8_t>> out;
    log.read_all([&](std::span<const uint8_t> r) { out.emplace_back(r.begin(), r.end()); });
    return out;
  };
  {
  LogOpenReport rep;
  std::shared_ptr<FileStorage> file = open_log(rep);
  NodeLog a(file, uint16_t{0}), b(file, uint16_t{7});
  for (int i = 0; i < 60; ++i) {
    a.append(event_payload(i));
    b.append(event_payload(100 + i));
  }
  EXPECT_LT(a.needed(), b.needed());  // a's records do not wait for b's
  EXPECT_EQ(b.needed(), file->appended_bytes());
  a.append(snapshot_payload(1));  // starts segment 2; b has no snapshot yet
  wait_durable(*file);
  EXPECT_EQ(file->segments_started(), 1u);
  EXPECT_TRUE(exists(path_)) << "segment 1 holds b's history: it must stay live";
  auto ra = read(a), rb = read(b);
  ASSERT_EQ(ra.size(), 61u);
  ASSERT_EQ(rb.size(), 60u);
  EXPECT_EQ(ra[0], event_payload(0));
  EXPECT_EQ(rb[59], event_payload(159));
  for (int i = 0; i < 60; ++i) a.append(event_payload(200 + i));
  b.append(snapshot_payload(2));  // b's snapshot is in a newer segment than segment 1: retire it
  wait_durable(*file);
  EXPECT_FALSE(exists(path_));
  EXPECT_TRUE(exists(segment_path(dir_ + "/archive", "node", 1)));
  }
  // Recovery counts what each writer has: both have snapshots now.
  LogOpenReport again;
  auto reopened = open_log(again);
  EXPECT_FALSE(again.damaged);
  NodeLog b2(std::shared_ptr<FileStorage>(std::move(reopened)), uint16_t{7});
  auto rb2 = read(b2);
  ASSERT_FALSE(rb2.empty());
  EXPECT_EQ(rb2.back(), snapshot_payload(2));
}

}  // namespace
}  // namespace ws::net
