// ws::Storage on a real file: one append-only log per node, the record
// format of core/event_log (CRC-32C per record). Appends are buffered in
// memory; a background thread writes and fdatasync()s them in batches (group
// commit: one sync covers every record appended before it started), and the
// owner is told on its io_context each time the durable prefix grows.
// Opening the log reads it, truncates a torn or corrupt tail, and locks the
// file so two processes never write one log.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/context.h"
#include "net/asio.h"

namespace ws::net {

struct LogOpenReport {
  uint64_t records = 0;        // intact records found
  uint64_t bytes = 0;          // size of the intact prefix
  uint64_t truncated_bytes = 0;  // torn or corrupt tail removed
};

class FileStorage final : public Storage {
 public:
  // Opens or creates path. On failure returns nullptr and sets error.
  static std::unique_ptr<FileStorage> open(const std::string& path, asio::io_context& io,
                                           LogOpenReport& report, std::string& error);
  ~FileStorage() override;
  FileStorage(const FileStorage&) = delete;
  FileStorage& operator=(const FileStorage&) = delete;

  void append(std::span<const uint8_t> payload) override;
  // The intact records as they are on disk now (buffered appends excluded).
  void read_all(const std::function<void(std::span<const uint8_t>)>& fn) override;

  // Called on the io_context whenever the durable prefix grows.
  void set_on_durable(std::function<void(uint64_t durable_bytes)> fn) { on_durable_ = std::move(fn); }
  uint64_t appended_bytes() const { return appended_; }
  uint64_t durable_bytes() const { return durable_; }
  uint64_t syncs() const { return syncs_; }
  // With sync off, writes still happen in batches but fdatasync is skipped
  // (for measuring what durability costs; never the default).
  void set_sync(bool on) { sync_enabled_ = on; }

 private:
  FileStorage(int fd, asio::io_context& io, std::string path, uint64_t size);
  void kick();
  void start_batch();
  void batch_done(uint64_t target);
  void writer_loop();

  int fd_;
  asio::io_context& io_;
  std::string path_;
  uint64_t appended_;  // logical size: bytes on disk + bytes buffered
  uint64_t durable_;
  uint64_t syncs_ = 0;
  bool sync_enabled_ = true;
  bool kick_posted_ = false;
  bool in_flight_ = false;
  std::vector<uint8_t> buffer_;  // appended, not yet handed to the writer
  std::function<void(uint64_t)> on_durable_;
  // Shared with the writer thread, under mu_.
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<uint8_t> batch_;
  uint64_t batch_target_ = 0;
  bool batch_ready_ = false;
  bool stopping_ = false;
  // Keeps the io_context's run() from returning while a batch is out.
  std::shared_ptr<bool> alive_;
  std::thread writer_;
};

}  // namespace ws::net
