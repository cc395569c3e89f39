// ws::Storage on real files: one append-only log per node, the record
// format of core/event_log (CRC-32C per record), kept as numbered segment
// files DATA/NAME.000001.log, DATA/NAME.000002.log, ... Appends are buffered
// in memory; a background thread writes and fdatasync()s them in batches
// (group commit: one sync covers every record appended before it started,
// and the records appended during a sync form the next batch), and the owner
// is told on its io_context each time the durable prefix grows.
//
// Compaction: a snapshot record appended when the current segment is big
// enough starts a new segment. A segment is no longer needed for recovery
// once every node writing to the log has a durable snapshot in a newer
// segment (a log of one node: as soon as the new segment's snapshot is
// durable); such segments are moved to DATA/archive/ (or deleted, if the
// cluster says so), so the live log stays bounded while the archive keeps
// every event for `walletd audit`.
//
// Shared logs: in --local every node of the process writes one log (records
// tagged with the node's id, kTaggedType), so one fdatasync covers them all;
// NodeLog is one node's view of it.
//
// Clock marks: every millisecond or so the log gets a small record holding
// the wall-clock time (kClockMarkType), so an audit can stop "at" a time.
// The engine never sees them: read_all skips them.
//
// Opening a log recovers it: the newest segment is synced first (a crashed
// process may have left records in the page cache only; nothing is read or
// retired on the strength of bytes that are not on disk), then a torn or
// corrupt tail of it is truncated as a crash mid-write (corruption there
// cannot be told from a torn write without more information); damage
// anywhere else, or a compacted log whose leading snapshot is damaged, is
// refused (LogOpenReport::damaged) so the node never starts from less than it
// acknowledged. A lock file keeps two processes from writing one log.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/context.h"
#include "net/asio.h"

namespace ws::net {

// First payload byte of a clock mark record; the rest is the wall-clock time
// as ns since the Unix epoch (i64 LE). Never an engine event type.
constexpr uint8_t kClockMarkType = 0xF0;
constexpr size_t kClockMarkSize = 9;
// First payload byte of a record in a log shared by several nodes of one
// process: then the node's id (u16 LE), then the node's own payload.
constexpr uint8_t kTaggedType = 0xF1;
constexpr size_t kTagSize = 3;

struct StorageOptions {
  bool sync = true;          // false: writes still batched, fdatasync skipped (measuring only)
  bool keep_archive = true;  // segments behind a snapshot: moved to DATA/archive/, or deleted
  uint64_t min_segment_bytes = 16u << 20;  // a snapshot starts a new segment past this size
  // Damage (not a torn tail): with a mark, recovery cuts the log at the
  // damage, drops every later segment and appends this record, durably,
  // before anything reads the log: a replica that can repair from its peers
  // (docs/storage-faults.md). Without one, recovery refuses to start.
  std::vector<uint8_t> repair_mark;
};

struct LogOpenReport {
  uint64_t records = 0;          // intact engine records found (clock marks not counted)
  uint64_t bytes = 0;            // size of the intact live log (every live segment)
  uint64_t truncated_bytes = 0;  // torn or corrupt tail removed
  uint32_t segments = 0;         // live segments after recovery
  uint32_t archived = 0;         // segments moved out by recovery (a crash before it could)
  bool damaged = false;          // refused: damage that is not a torn tail
  std::string repaired;          // damage found and cut, repair mark written: where and what
};

// Creates node `name`'s log in dir holding one record (a replica's format
// record), durably. Refuses, with the error, if the node has a log already.
bool format_log(const std::string& dir, const std::string& name, std::span<const uint8_t> payload,
                std::string& error);

// One segment file of a node's log.
struct Segment {
  uint64_t seq = 0;
  std::string path;
};
std::string segment_path(const std::string& dir, const std::string& name, uint64_t seq);
// The segments of node `name` in dir, oldest first (files NAME.NNNNNN.log).
std::vector<Segment> list_segments(const std::string& dir, const std::string& name);

class FileStorage final : public Storage {
 public:
  // Opens or creates the log of node `name` in dir. On failure returns
  // nullptr and sets error (and report.damaged if the log is damaged).
  static std::unique_ptr<FileStorage> open(const std::string& dir, const std::string& name,
                                           asio::io_context& io, const StorageOptions& options,
                                           LogOpenReport& report, std::string& error);
  ~FileStorage() override;
  FileStorage(const FileStorage&) = delete;
  FileStorage& operator=(const FileStorage&) = delete;

  void append(std::span<const uint8_t> payload) override;
  // The intact engine records of the live log as they are on disk now
  // (buffered appends and clock marks excluded).
  void read_all(const std::function<void(std::span<const uint8_t>)>& fn) override;

  // Called on the io_context whenever the durable prefix grows; several
  // listeners may share one log. remove_on_durable(id) before a listener dies.
  size_t add_on_durable(std::function<void(uint64_t durable_bytes)> fn);
  void remove_on_durable(size_t id) { on_durable_[id] = nullptr; }
  // Offsets count every byte this process appended, from the live log's
  // size at open; they never go back when segments are cut.
  uint64_t appended_bytes() const { return appended_; }
  uint64_t durable_bytes() const { return durable_; }
  uint64_t syncs() const { return syncs_; }
  // The oldest live segment's number: above 1 once the history before it
  // was retired (moved to the archive or deleted).
  uint64_t first_live_seq() const;
  // Segments started since open, and bytes moved out of the live log.
  uint64_t segments_started() const { return segments_started_.load(); }
  uint64_t bytes_compacted() const { return bytes_compacted_.load(); }

 private:
  FileStorage(std::string dir, std::string name, int lock_fd, asio::io_context& io,
              const StorageOptions& options, std::vector<Segment> live, int fd, uint64_t size,
              uint64_t last_segment_bytes);
  void append_framed(std::span<const uint8_t> payload);
  void note_snapshot(uint32_t tag, bool snapshot);
  void recompute_retire();
  void kick();
  void batch_done(uint64_t target);
  void writer_loop();
  void start_segment();  // writer thread: closes the current segment, opens the next
  void retire_segments_below(uint64_t seq);

  const std::string dir_, name_;
  int lock_fd_;
  asio::io_context& io_;
  const StorageOptions options_;
  // io_context thread only.
  uint64_t appended_;  // logical size: bytes on disk + bytes buffered
  uint64_t durable_;
  uint64_t syncs_ = 0;
  uint64_t segment_bytes_;  // bytes appended to the newest segment so far
  int64_t last_mark_ns_ = 0;
  bool kick_posted_ = false;
  std::vector<std::function<void(uint64_t)>> on_durable_;
  std::vector<uint8_t> mark_;
  // Which segment holds each writer's newest snapshot (0: none yet), per
  // tag (an untagged log uses tag 0), and which tags have written at all.
  uint64_t io_seq_ = 1;  // the segment appends go to
  std::vector<uint64_t> snap_seq_;
  std::vector<uint8_t> writes_;
  // Written by the writer thread (under mu_, read under it by read_all).
  std::vector<Segment> live_;  // the live segments, oldest first; the last is open as fd_
  int fd_;                     // writer thread only
  // Shared with the writer thread, under mu_. While writer_active_ the
  // writer takes whatever has been appended as soon as its previous sync
  // returns, without a round trip through the io_context; once it finds
  // nothing to do it goes idle and the next append kicks it.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<uint8_t> pending_;
  std::vector<uint64_t> cuts_;  // logical offsets where a new segment starts
  uint64_t retire_below_ = 0;   // segments below this one are no longer needed
  uint64_t pending_end_;        // logical offset just past pending_
  bool writer_active_ = false;
  bool stopping_ = false;
  std::atomic<uint64_t> segments_started_{0};
  std::atomic<uint64_t> bytes_compacted_{0};
  // Lets completions posted by the writer notice the storage is gone.
  std::shared_ptr<bool> alive_;
  std::thread writer_;
};

// One engine node's log: a whole FileStorage, or (tag set) its share of a
// log the process's nodes share. needed() is how much of the file must be
// durable before anything this node appended so far is.
class NodeLog final : public Storage {
 public:
  NodeLog(std::shared_ptr<FileStorage> file, std::optional<uint16_t> tag) : file_(std::move(file)), tag_(tag) {}
  void append(std::span<const uint8_t> payload) override;
  void read_all(const std::function<void(std::span<const uint8_t>)>& fn) override;
  FileStorage& file() { return *file_; }
  const FileStorage& file() const { return *file_; }
  uint64_t needed() const { return needed_; }

 private:
  std::shared_ptr<FileStorage> file_;
  std::optional<uint16_t> tag_;
  uint64_t needed_ = 0;
  std::vector<uint8_t> scratch_;
};

// Reading logs back (recovery, walletd audit).
bool read_whole_file(const std::string& path, std::vector<uint8_t>& out);
bool is_clock_mark(std::span<const uint8_t> record);
int64_t clock_mark_time(std::span<const uint8_t> mark);  // of a record is_clock_mark accepts
// Whether a (untagged) payload is a snapshot that rebuilds its node alone:
// a partition's or a coordinator's snapshot event, or a replica's Raft
// snapshot record (written with the entries after it and the hard state).
bool is_snapshot_payload(std::span<const uint8_t> payload);
// Where a node's records read back from once its log's oldest segments
// were retired: its first snapshot (0 if it has none). Records before it
// are the tail of a history whose start is gone.
size_t checkpoint_start(const std::vector<std::vector<uint8_t>>& payloads);
// The payload inside a record: a tagged record's own payload, or the
// record's. tag is set for a tagged record.
std::span<const uint8_t> untag(std::span<const uint8_t> payload, std::optional<uint16_t>& tag);

}  // namespace ws::net
