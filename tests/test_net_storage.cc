// The file Storage of net/file_storage.h: group commit (one sync covers
// every append before it), recovery after reopening, and a torn or corrupt
// tail truncated to the intact prefix. No sleeps: the test runs the
// io_context until the completion it waits for has been handled.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "core/event_log.h"
#include "net/file_storage.h"

namespace ws::net {
namespace {

class FileStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ws-storage-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/node.log";
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  std::unique_ptr<FileStorage> open_log(LogOpenReport& rep) {
    std::string error;
    auto s = FileStorage::open(path_, io_, rep, error);
    EXPECT_TRUE(s) << error;
    return s;
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
};

TEST_F(FileStorageTest, OneSyncCoversEveryAppendBeforeIt) {
  LogOpenReport rep;
  auto s = open_log(rep);
  EXPECT_EQ(rep.records, 0u);
  std::vector<uint64_t> seen;
  s->set_on_durable([&](uint64_t d) { seen.push_back(d); });
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
  {
    LogOpenReport rep;
    auto s = open_log(rep);
    for (int i = 0; i < 20; ++i) s->append(payload(i));
    wait_durable(*s);
  }
  LogOpenReport rep;
  auto s = open_log(rep);
  EXPECT_EQ(rep.records, 20u);
  EXPECT_EQ(rep.truncated_bytes, 0u);
  auto rs = records(*s);
  ASSERT_EQ(rs.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(rs[i], payload(i));
}

TEST_F(FileStorageTest, TornTailIsTruncatedAndTheLogStaysAppendable) {
  {
    LogOpenReport rep;
    auto s = open_log(rep);
    for (int i = 0; i < 5; ++i) s->append(payload(i));
    wait_durable(*s);
  }
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

TEST_F(FileStorageTest, CorruptRecordEndsTheLogThere) {
  {
    LogOpenReport rep;
    auto s = open_log(rep);
    for (int i = 0; i < 3; ++i) s->append(payload(i));
    wait_durable(*s);
  }
  // Damage one payload byte of the second record.
  std::vector<uint8_t> first;
  append_record(first, payload(0));
  int fd = ::open(path_.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  uint8_t b = 0;
  ASSERT_EQ(pread(fd, &b, 1, static_cast<off_t>(first.size() + kRecordHeader + 1)), 1);
  b ^= 0xff;
  ASSERT_EQ(pwrite(fd, &b, 1, static_cast<off_t>(first.size() + kRecordHeader + 1)), 1);
  ::close(fd);
  LogOpenReport rep;
  auto s = open_log(rep);
  EXPECT_EQ(rep.records, 1u);
  EXPECT_EQ(file_size(), first.size());
  EXPECT_EQ(records(*s).size(), 1u);
}

TEST_F(FileStorageTest, SecondWriterOfTheSameLogIsRefused) {
  LogOpenReport rep;
  auto s = open_log(rep);
  std::string error;
  auto again = FileStorage::open(path_, io_, rep, error);
  EXPECT_FALSE(again);
  EXPECT_NE(error.find("locked"), std::string::npos) << error;
}

}  // namespace
}  // namespace ws::net
