// ws::Storage on a real file: one append-only log per node, the record
// format of core/event_log (CRC-32C per record). Appends are buffered in
// memory; a background thread writes and fdatasync()s them in batches (group
// commit: one sync covers every record appended before it started, and the
// records appended during a sync form the next batch), and the owner is told
// on its io_context each time the durable prefix grows.
// Opening the log reads it, truncates a torn or corrupt tail, and locks the
// file so two processes never write one log.
#pragma once

#include <atomic>
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
  void set_sync(bool on) { sync_enabled_.store(on); }

 private:
  FileStorage(int fd, asio::io_context& io, std::string path, uint64_t size);
  void kick();
  void batch_done(uint64_t target);
  void writer_loop();

  int fd_;
  asio::io_context& io_;
  std::string path_;
  // io_context thread only.
  uint64_t appended_;  // logical size: bytes on disk + bytes buffered
  uint64_t durable_;
  uint64_t syncs_ = 0;
  bool kick_posted_ = false;
  std::function<void(uint64_t)> on_durable_;
  std::atomic<bool> sync_enabled_{true};
  // Shared with the writer thread, under mu_. While writer_active_ the
  // writer takes whatever has been appended as soon as its previous sync
  // returns, without a round trip through the io_context; once it finds
  // nothing to do it goes idle and the next append kicks it.
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<uint8_t> pending_;
  uint64_t pending_end_;  // logical offset just past pending_
  bool writer_active_ = false;
  bool stopping_ = false;
  // Lets completions posted by the writer notice the storage is gone.
  std::shared_ptr<bool> alive_;
  std::thread writer_;
};

}  // namespace ws::net
