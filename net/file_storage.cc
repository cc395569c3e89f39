#include "net/file_storage.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/event_log.h"

namespace ws::net {
namespace {

std::string errno_text(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

bool read_file(int fd, std::vector<uint8_t>& out) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return false;
  out.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = pread(fd, out.data() + got, out.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

bool write_all(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// A new file's directory entry must be durable too, or a crash could lose
// the whole log.
void sync_parent_dir(const std::string& path) {
  std::string dir = path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/'));
  if (dir.empty()) dir = ".";
  int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (d >= 0) {
    fsync(d);
    ::close(d);
  }
}

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "walletd: FATAL: %s\n", msg.c_str());
  std::fflush(stderr);
  std::_Exit(3);
}

}  // namespace

std::unique_ptr<FileStorage> FileStorage::open(const std::string& path, asio::io_context& io,
                                               LogOpenReport& report, std::string& error) {
  struct stat st {};
  bool existed = ::stat(path.c_str(), &st) == 0;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = errno_text("cannot open log", path);
    return nullptr;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    error = "log " + path + " is locked by another process (is that node already running?)";
    ::close(fd);
    return nullptr;
  }
  if (!existed) sync_parent_dir(path);
  std::vector<uint8_t> bytes;
  if (!read_file(fd, bytes)) {
    error = errno_text("cannot read log", path);
    ::close(fd);
    return nullptr;
  }
  LogScan scan = scan_records(bytes, [](std::span<const uint8_t>) {});
  report = LogOpenReport{};
  report.records = scan.records;
  report.bytes = scan.intact_end;
  if (scan.torn) {
    // A crash mid-write, or damage: the intact prefix is the log.
    report.truncated_bytes = bytes.size() - scan.intact_end;
    if (ftruncate(fd, static_cast<off_t>(scan.intact_end)) != 0 || fdatasync(fd) != 0) {
      error = errno_text("cannot truncate torn tail of log", path);
      ::close(fd);
      return nullptr;
    }
  }
  if (lseek(fd, static_cast<off_t>(scan.intact_end), SEEK_SET) < 0) {
    error = errno_text("cannot seek log", path);
    ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<FileStorage>(new FileStorage(fd, io, path, scan.intact_end));
}

FileStorage::FileStorage(int fd, asio::io_context& io, std::string path, uint64_t size)
    : fd_(fd), io_(io), path_(std::move(path)), appended_(size), durable_(size), pending_end_(size) {
  pending_.reserve(1 << 16);
  alive_ = std::make_shared<bool>(true);
  writer_ = std::thread([this] { writer_loop(); });
}

FileStorage::~FileStorage() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  writer_.join();
  *alive_ = false;
  ::close(fd_);
}

void FileStorage::append(std::span<const uint8_t> payload) {
  bool active = false;
  size_t n = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const size_t before = pending_.size();
    append_record(pending_, payload);
    n = pending_.size() - before;
    pending_end_ += n;
    active = writer_active_;
  }
  appended_ += n;
  if (!active) kick();
}

// An idle writer is started from a posted handler, after whatever else is
// ready to run, so every record appended by those handlers joins the batch.
void FileStorage::kick() {
  if (kick_posted_) return;
  kick_posted_ = true;
  asio::post(io_, [this, alive = alive_] {
    if (!*alive) return;
    kick_posted_ = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (pending_.empty()) return;
      writer_active_ = true;
    }
    cv_.notify_one();
  });
}

void FileStorage::writer_loop() {
  std::vector<uint8_t> work;
  for (;;) {
    uint64_t target = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || (writer_active_ && !pending_.empty()); });
      if (stopping_) return;
      work.clear();
      work.swap(pending_);
      target = pending_end_;
    }
    if (!write_all(fd_, work.data(), work.size())) die(errno_text("write failed on log", path_));
    if (sync_enabled_.load() && fdatasync(fd_) != 0) die(errno_text("fdatasync failed on log", path_));
    // The work guard keeps io.run() alive until the completion is handled.
    asio::post(io_, [this, target, guard = asio::make_work_guard(io_), alive = alive_] {
      if (*alive) batch_done(target);
    });
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.empty()) {
      writer_active_ = false;  // the next append kicks it again
      if (pending_.capacity() < work.capacity()) {
        work.clear();
        pending_.swap(work);  // keep the bigger buffer for appends
      }
    }
  }
}

void FileStorage::batch_done(uint64_t target) {
  assert(target > durable_ && target <= appended_);
  durable_ = target;
  ++syncs_;
  if (on_durable_) on_durable_(durable_);
}

void FileStorage::read_all(const std::function<void(std::span<const uint8_t>)>& fn) {
  std::vector<uint8_t> bytes;
  if (!read_file(fd_, bytes)) die(errno_text("cannot read log", path_));
  scan_records(bytes, fn);
}

}  // namespace ws::net
