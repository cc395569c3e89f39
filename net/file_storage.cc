#include "net/file_storage.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "core/event_log.h"
#include "core/events.h"
#include "core/raft.h"

namespace ws::net {
namespace {

std::string errno_text(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

}  // namespace

bool read_whole_file(const std::string& path, std::vector<uint8_t>& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  bool ok = fstat(fd, &st) == 0;
  if (ok) out.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (ok && got < out.size()) {
    ssize_t n = pread(fd, out.data() + got, out.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ok = false;
    else got += static_cast<size_t>(n);
  }
  ::close(fd);
  return ok;
}

namespace {

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

// A new or renamed file's directory entry must be durable too, or a crash
// could lose the file.
void sync_dir(const std::string& dir) {
  int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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

// Which writer a record belongs to (0 in a log of one node) and whether it
// is a snapshot, from one look at its first bytes.
struct RecordKind {
  uint32_t tag = 0;
  bool snapshot = false;
};
RecordKind kind_of(std::span<const uint8_t> record) {
  std::optional<uint16_t> tag;
  std::span<const uint8_t> payload = untag(record, tag);
  return RecordKind{tag.value_or(0), is_snapshot_payload(payload)};
}

constexpr size_t kKeepBuffer = size_t{4} << 20;

// What is wrong with the record at `at`, for a message.
std::string why_bad(std::span<const uint8_t> bytes, size_t at) {
  if (bytes.size() - at < kRecordHeader) return "a record header cut short";
  return "a record that fails its checksum or framing";
}

int open_segment(const std::string& path, bool create) {
  return ::open(path.c_str(), create ? (O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC)
                                     : (O_WRONLY | O_APPEND | O_CLOEXEC),
                0644);
}

// Appends one framed record to a segment (a new one if create), synced
// unless sync is off: recovery's repair mark, a new replica's format record.
bool append_durably(const std::string& path, bool create, std::span<const uint8_t> payload, bool sync) {
  std::vector<uint8_t> rec;
  append_record(rec, payload);
  int fd = open_segment(path, create);
  const bool ok = fd >= 0 && write_all(fd, rec.data(), rec.size()) && (!sync || fdatasync(fd) == 0);
  if (fd >= 0) ::close(fd);
  return ok;
}

// Removes a segment recovery gave up on, counting its bytes as cut.
bool remove_segment(const std::string& path, uint64_t& cut_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) cut_bytes += static_cast<uint64_t>(st.st_size);
  return ::unlink(path.c_str()) == 0;
}

}  // namespace

bool is_clock_mark(std::span<const uint8_t> record) {
  return record.size() == kClockMarkSize && record[0] == kClockMarkType;
}

int64_t clock_mark_time(std::span<const uint8_t> mark) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v |= uint64_t{mark[1 + i]} << (8 * i);
  return static_cast<int64_t>(v);
}

std::span<const uint8_t> untag(std::span<const uint8_t> payload, std::optional<uint16_t>& tag) {
  tag.reset();
  if (payload.size() < kTagSize || payload[0] != kTaggedType) return payload;
  tag = static_cast<uint16_t>(payload[1] | payload[2] << 8);
  return payload.subspan(kTagSize);
}

std::string segment_path(const std::string& dir, const std::string& name, uint64_t seq) {
  char num[32];
  std::snprintf(num, sizeof num, "%06llu", static_cast<unsigned long long>(seq));
  return dir + "/" + name + "." + num + ".log";
}

std::vector<Segment> list_segments(const std::string& dir, const std::string& name) {
  std::vector<Segment> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  const std::string prefix = name + ".";
  while (dirent* ent = ::readdir(d)) {
    std::string f = ent->d_name;
    if (f.size() <= prefix.size() + 4 || f.compare(0, prefix.size(), prefix) != 0 ||
        f.compare(f.size() - 4, 4, ".log") != 0)
      continue;
    const char* b = f.data() + prefix.size();
    const char* e = f.data() + f.size() - 4;
    uint64_t seq = 0;
    auto [p, ec] = std::from_chars(b, e, seq);
    if (ec != std::errc() || p != e || seq == 0) continue;
    out.push_back(Segment{seq, dir + "/" + f});
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(), [](const Segment& a, const Segment& b) { return a.seq < b.seq; });
  return out;
}

std::unique_ptr<FileStorage> FileStorage::open(const std::string& dir, const std::string& name,
                                               asio::io_context& io, const StorageOptions& options,
                                               LogOpenReport& report, std::string& error) {
  report = LogOpenReport{};
  const std::string lock_path = dir + "/" + name + ".lock";
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) {
    error = errno_text("cannot open lock file", lock_path);
    return nullptr;
  }
  if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    error = "log of " + name + " in " + dir + " is locked by another process (is that node already running?)";
    ::close(lock_fd);
    return nullptr;
  }
  auto fail = [&](std::string msg, bool damaged) -> std::unique_ptr<FileStorage> {
    error = std::move(msg);
    report.damaged = damaged;
    ::close(lock_fd);
    return nullptr;
  };
  std::vector<Segment> live = list_segments(dir, name);
  uint64_t last_bytes = 0;
  std::vector<uint8_t> writes;   // per tag: has records
  std::vector<uint64_t> snaps;   // per tag: segment of its newest snapshot
  std::vector<uint8_t> bytes;
  // The newest segment may hold bytes a killed process wrote but never
  // synced: make them durable before recovery trusts them.
  if (!live.empty() && options.sync) {
    int fd = open_segment(live.back().path, false);
    if (fd < 0 || fdatasync(fd) != 0) {
      if (fd >= 0) ::close(fd);
      return fail(errno_text("cannot sync log segment", live.back().path), false);
    }
    ::close(fd);
  }
  for (size_t i = 0; i < live.size(); ++i) {
    const Segment& seg = live[i];
    if (!read_whole_file(seg.path, bytes)) return fail(errno_text("cannot read log segment", seg.path), false);
    uint64_t records = 0;
    bool first_is_snapshot = false;
    std::vector<std::pair<uint32_t, bool>> seen;  // (tag, snapshot) of each record
    LogScan scan = scan_records(bytes, [&](std::span<const uint8_t> r) {
      if (is_clock_mark(r)) return;
      const RecordKind k = kind_of(r);
      // A repair mark may start a compacted log: its snapshot was damaged
      // and dropped, and the replica rejoins as one that lost its disk.
      if (records == 0)
        first_is_snapshot = k.snapshot || (!options.repair_mark.empty() && std::equal(r.begin(), r.end(),
                                                                                      options.repair_mark.begin(),
                                                                                      options.repair_mark.end()));
      ++records;
      seen.emplace_back(k.tag, k.snapshot);
    });
    const bool last = i + 1 == live.size();
    const bool compacted_head = i == 0 && seg.seq > 1;  // the segments before it were moved out
    // Damage: a record that fails its header check or checksum, or a
    // segment cut short with a newer one after it (only the newest segment
    // can end in a torn write).
    if (scan.damaged || (scan.torn && !last)) {
      const std::string where = seg.path + " is damaged at offset " + std::to_string(scan.intact_end) + " (" +
                                why_bad(bytes, scan.intact_end) + ")";
      if (options.repair_mark.empty())
        return fail("log segment " + where + ", and this node has no peers to repair it from: refusing to start " +
                        "rather than lose acknowledged records",
                    true);
      std::vector<uint8_t> mark;  // as framed on disk
      append_record(mark, options.repair_mark);
      if (compacted_head && scan.intact_end == 0) {
        // The snapshot that starts the live log is damaged, and nothing
        // after it replays without it: drop the live log and rejoin as a
        // replica that lost its disk, in a new segment (the archive keeps
        // the old numbers).
        const Segment next{live.back().seq + 1, segment_path(dir, name, live.back().seq + 1)};
        for (const Segment& s : live)
          if (!remove_segment(s.path, report.truncated_bytes))
            return fail(errno_text("cannot remove log segment", s.path), false);
        live.assign(1, next);
        if (!append_durably(next.path, true, options.repair_mark, options.sync))
          return fail(errno_text("cannot write the repair mark to log segment", next.path), false);
        sync_dir(dir);
        report.records = 1;
        report.bytes = mark.size();
        last_bytes = mark.size();
        report.repaired = where + ", the snapshot that starts the live log: dropped the live log";
        break;
      }
      // Cut at the damage, drop every later segment, then mark the log as
      // repairing, all durable before the node reads it.
      for (size_t j = live.size(); j-- > i + 1;)
        if (!remove_segment(live[j].path, report.truncated_bytes))
          return fail(errno_text("cannot remove log segment", live[j].path), false);
      live.resize(i + 1);
      report.truncated_bytes += bytes.size() - scan.intact_end;
      uint64_t kept = scan.intact_end;
      if (scan.intact_end == 0 && i > 0) {
        // Nothing of this segment is left: the mark goes at the end of the
        // previous one, which read back whole.
        if (::unlink(seg.path.c_str()) != 0) return fail(errno_text("cannot remove log segment", seg.path), false);
        live.pop_back();
        if (!read_whole_file(live.back().path, bytes)) return fail(errno_text("cannot read log segment", live.back().path), false);
        kept = bytes.size();
        last_bytes = kept;
      } else {
        int fd = open_segment(seg.path, false);
        if (fd < 0 || ftruncate(fd, static_cast<off_t>(scan.intact_end)) != 0) {
          if (fd >= 0) ::close(fd);
          return fail(errno_text("cannot cut damaged log segment", seg.path), false);
        }
        ::close(fd);
        report.records += records;
        report.bytes += scan.intact_end;
        for (auto [tag, snap] : seen) {
          if (tag >= writes.size()) writes.resize(tag + 1, 0), snaps.resize(tag + 1, 0);
          writes[tag] = 1;
          if (snap) snaps[tag] = seg.seq;
        }
      }
      if (!append_durably(live.back().path, false, options.repair_mark, options.sync))
        return fail(errno_text("cannot write the repair mark to log segment", live.back().path), false);
      sync_dir(dir);
      report.records += 1;
      report.bytes += mark.size();
      last_bytes = kept + mark.size();
      report.repaired = where;
      break;
    }
    if (compacted_head && (scan.intact_end == 0 || !first_is_snapshot))
      return fail("log segment " + seg.path + " is damaged at offset 0: the log was compacted behind the snapshot " +
                      "that must start this file, and it " +
                      (scan.intact_end == 0 ? why_bad(bytes, 0) : std::string("is not a snapshot")) +
                      "; refusing to start empty",
                  true);
    if (last && i > 0 && (scan.intact_end == 0 || !first_is_snapshot)) {
      // A segment whose leading snapshot never became durable: a crash
      // right after it was started. The segment before it is whole.
      report.truncated_bytes += bytes.size();
      if (::unlink(seg.path.c_str()) != 0) return fail(errno_text("cannot remove torn segment", seg.path), false);
      sync_dir(dir);
      live.pop_back();
      break;
    }
    if (scan.torn) {
      report.truncated_bytes += bytes.size() - scan.intact_end;
      int fd = open_segment(seg.path, false);
      if (fd < 0 || ftruncate(fd, static_cast<off_t>(scan.intact_end)) != 0 || fdatasync(fd) != 0) {
        if (fd >= 0) ::close(fd);
        return fail(errno_text("cannot truncate torn tail of log segment", seg.path), false);
      }
      ::close(fd);
    }
    report.records += records;
    report.bytes += scan.intact_end;
    last_bytes = scan.intact_end;
    for (auto [tag, snap] : seen) {
      if (tag >= writes.size()) writes.resize(tag + 1, 0), snaps.resize(tag + 1, 0);
      writes[tag] = 1;
      if (snap) snaps[tag] = seg.seq;
    }
  }
  bool created = false;
  if (live.empty()) {
    live.push_back(Segment{1, segment_path(dir, name, 1)});
    created = true;
  }
  int fd = open_segment(live.back().path, created);
  if (fd < 0) return fail(errno_text("cannot open log segment", live.back().path), false);
  if (created) sync_dir(dir);
  auto s = std::unique_ptr<FileStorage>(
      new FileStorage(dir, name, lock_fd, io, options, std::move(live), fd, report.bytes, last_bytes));
  s->io_seq_ = s->live_.back().seq;
  s->writes_ = std::move(writes);
  s->snap_seq_ = std::move(snaps);
  s->recompute_retire();
  // A crash after a new segment became durable but before the ones in front
  // of it were moved out: finish the move now.
  const size_t before = s->live_.size();
  s->retire_segments_below(s->retire_below_);
  report.archived = static_cast<uint32_t>(before - s->live_.size());
  report.segments = static_cast<uint32_t>(s->live_.size());
  s->writer_ = std::thread([p = s.get()] { p->writer_loop(); });
  return s;
}

FileStorage::FileStorage(std::string dir, std::string name, int lock_fd, asio::io_context& io,
                         const StorageOptions& options, std::vector<Segment> live, int fd, uint64_t size,
                         uint64_t last_segment_bytes)
    : dir_(std::move(dir)),
      name_(std::move(name)),
      lock_fd_(lock_fd),
      io_(io),
      options_(options),
      appended_(size),
      durable_(size),
      segment_bytes_(last_segment_bytes),
      live_(std::move(live)),
      fd_(fd),
      pending_end_(size) {
  pending_.reserve(1 << 16);
  alive_ = std::make_shared<bool>(true);
}

FileStorage::~FileStorage() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  *alive_ = false;
  ::close(fd_);
  ::close(lock_fd_);
}

void FileStorage::append_framed(std::span<const uint8_t> payload) {
  bool active = false;
  size_t n = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const size_t record = kRecordHeader + payload.size();
    // A snapshot starts a new segment once the current one is at least as
    // big as the snapshot: each byte is moved out O(1) times.
    const RecordKind k = kind_of(payload);
    const bool snap = k.snapshot;
    if (snap && segment_bytes_ > 0 && segment_bytes_ >= std::max<uint64_t>(options_.min_segment_bytes, record)) {
      cuts_.push_back(pending_end_);
      segment_bytes_ = 0;
      ++io_seq_;
    }
    const size_t before = pending_.size();
    append_record(pending_, payload);
    n = pending_.size() - before;
    pending_end_ += n;
    segment_bytes_ += n;
    if (!is_clock_mark(payload)) note_snapshot(k.tag, snap);
    active = writer_active_;
  }
  appended_ += n;
  if (!active) kick();
}

void FileStorage::append(std::span<const uint8_t> payload) {
  append_framed(payload);
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  if (now - last_mark_ns_ < 1'000'000) return;
  last_mark_ns_ = now;
  mark_.assign(kClockMarkSize, 0);
  mark_[0] = kClockMarkType;
  for (int i = 0; i < 8; ++i) mark_[1 + i] = static_cast<uint8_t>(static_cast<uint64_t>(now) >> (8 * i));
  append_framed(mark_);
}

// Keeps retire_below_: the oldest segment holding some writer's newest
// snapshot (nothing before it is needed); 0 while a writer has none. Called
// under mu_ (or before the writer starts).
void FileStorage::note_snapshot(uint32_t tag, bool snapshot) {
  if (tag >= writes_.size()) writes_.resize(tag + 1, 0), snap_seq_.resize(tag + 1, 0);
  const bool fresh = !writes_[tag];
  writes_[tag] = 1;
  if (!snapshot && !fresh) return;
  if (snapshot) snap_seq_[tag] = io_seq_;
  recompute_retire();
}

void FileStorage::recompute_retire() {
  uint64_t low = UINT64_MAX;
  for (size_t t = 0; t < writes_.size(); ++t)
    if (writes_[t]) low = std::min(low, snap_seq_[t]);
  retire_below_ = low == UINT64_MAX ? 0 : low;
}

size_t FileStorage::add_on_durable(std::function<void(uint64_t)> fn) {
  on_durable_.push_back(std::move(fn));
  return on_durable_.size() - 1;
}

void NodeLog::append(std::span<const uint8_t> payload) {
  if (!tag_) {
    file_->append(payload);
  } else {
    scratch_.resize(kTagSize + payload.size());
    scratch_[0] = kTaggedType;
    scratch_[1] = static_cast<uint8_t>(*tag_);
    scratch_[2] = static_cast<uint8_t>(*tag_ >> 8);
    std::copy(payload.begin(), payload.end(), scratch_.begin() + kTagSize);
    file_->append(scratch_);
    if (scratch_.capacity() > (size_t{1} << 20)) std::vector<uint8_t>().swap(scratch_);  // after a snapshot
  }
  needed_ = file_->appended_bytes();
}

bool is_snapshot_payload(std::span<const uint8_t> payload) {
  return !payload.empty() && (payload[0] == static_cast<uint8_t>(EventType::kSnapshot) ||
                              payload[0] == static_cast<uint8_t>(EventType::kCoordSnapshot) ||
                              payload[0] == static_cast<uint8_t>(raft::RecordType::kSnapshot));
}

size_t checkpoint_start(const std::vector<std::vector<uint8_t>>& payloads) {
  for (size_t i = 0; i < payloads.size(); ++i)
    if (is_snapshot_payload(payloads[i])) return i;
  return 0;
}

uint64_t FileStorage::first_live_seq() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_.empty() ? 0 : live_.front().seq;
}

// A shared log is retired below the oldest segment holding some node's
// newest snapshot, so the live log may start in the middle of another
// node's history: that node's records before its first snapshot there are
// the tail of a history whose start is gone. Its snapshot and what follows
// rebuild it alone (a Raft replica's checkpoint, core/replica.h), so they
// are what it reads back; a replica reading the tail would take it for
// damage.
void NodeLog::read_all(const std::function<void(std::span<const uint8_t>)>& fn) {
  if (!tag_ || file_->first_live_seq() <= 1) {
    file_->read_all([&](std::span<const uint8_t> r) {
      std::optional<uint16_t> tag;
      std::span<const uint8_t> inner = untag(r, tag);
      if (tag == tag_) fn(inner);
    });
    return;
  }
  std::vector<std::vector<uint8_t>> mine;
  file_->read_all([&](std::span<const uint8_t> r) {
    std::optional<uint16_t> tag;
    std::span<const uint8_t> inner = untag(r, tag);
    if (tag == tag_) mine.emplace_back(inner.begin(), inner.end());
  });
  for (size_t i = checkpoint_start(mine); i < mine.size(); ++i) fn(mine[i]);
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

void FileStorage::start_segment() {
  const Segment& cur = live_.back();
  if (options_.sync && fdatasync(fd_) != 0) die(errno_text("fdatasync failed on log segment", cur.path));
  ::close(fd_);
  Segment next{cur.seq + 1, segment_path(dir_, name_, cur.seq + 1)};
  fd_ = open_segment(next.path, true);
  if (fd_ < 0) die(errno_text("cannot create log segment", next.path));
  if (options_.sync) sync_dir(dir_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    live_.push_back(std::move(next));
  }
  segments_started_.fetch_add(1);
}

// Live segments below `below` (never the newest) are no longer needed for
// recovery: every writer has a durable snapshot in a later one.
void FileStorage::retire_segments_below(uint64_t below) {
  size_t n = 0;
  while (n + 1 < live_.size() && live_[n].seq < below) ++n;
  if (n == 0) return;
  const std::string archive = dir_ + "/archive";
  if (options_.keep_archive && ::mkdir(archive.c_str(), 0755) != 0 && errno != EEXIST)
    die(errno_text("cannot create archive directory", archive));
  {
    // Under the lock, so read_all never lists a segment that has moved.
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < n; ++i) {
      const Segment& seg = live_[i];
      struct stat st {};
      if (::stat(seg.path.c_str(), &st) == 0) bytes_compacted_.fetch_add(static_cast<uint64_t>(st.st_size));
      if (options_.keep_archive) {
        const std::string to = archive + "/" + seg.path.substr(dir_.size() + 1);
        if (::rename(seg.path.c_str(), to.c_str()) != 0) die(errno_text("cannot move log segment to " + to, seg.path));
      } else if (::unlink(seg.path.c_str()) != 0) {
        die(errno_text("cannot delete log segment", seg.path));
      }
    }
    live_.erase(live_.begin(), live_.begin() + static_cast<ptrdiff_t>(n));
  }
  if (options_.sync) {
    if (options_.keep_archive) sync_dir(archive);
    sync_dir(dir_);
  }
}

void FileStorage::writer_loop() {
  std::vector<uint8_t> work;
  std::vector<uint64_t> cuts;
  for (;;) {
    uint64_t target = 0, below = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || (writer_active_ && !pending_.empty()); });
      if (stopping_) {
        // A clean stop writes what was appended (none of it was answered
        // yet, so this is a courtesy, not a promise), in the current segment.
        if (!pending_.empty() && write_all(fd_, pending_.data(), pending_.size()) && options_.sync) fdatasync(fd_);
        return;
      }
      work.clear();
      work.swap(pending_);
      cuts.clear();
      cuts.swap(cuts_);
      below = retire_below_;
      target = pending_end_;
    }
    const uint64_t start = target - work.size();
    size_t pos = 0;
    for (uint64_t cut : cuts) {
      const size_t at = static_cast<size_t>(cut - start);
      if (!write_all(fd_, work.data() + pos, at - pos)) die(errno_text("write failed on log", live_.back().path));
      pos = at;
      start_segment();
    }
    if (!write_all(fd_, work.data() + pos, work.size() - pos)) die(errno_text("write failed on log", live_.back().path));
    if (options_.sync && fdatasync(fd_) != 0) die(errno_text("fdatasync failed on log", live_.back().path));
    // Every snapshot that `below` counts was appended before this batch
    // ended, so it is durable now.
    if (below > live_.front().seq) retire_segments_below(below);
    // The work guard keeps io.run() alive until the completion is handled.
    asio::post(io_, [this, target, guard = asio::make_work_guard(io_), alive = alive_] {
      if (*alive) batch_done(target);
    });
    // A batch that held a big snapshot does not keep its buffer at that size.
    if (work.capacity() > kKeepBuffer) std::vector<uint8_t>().swap(work);
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
  for (auto& fn : on_durable_)
    if (fn) fn(durable_);
}

void FileStorage::read_all(const std::function<void(std::span<const uint8_t>)>& fn) {
  // The segments as they are now; bytes the writer is adding as this reads
  // are not durable yet, and a torn read of them ends at the last whole record.
  std::vector<Segment> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    live = live_;
  }
  std::vector<uint8_t> bytes;
  for (const Segment& seg : live) {
    if (!read_whole_file(seg.path, bytes)) die(errno_text("cannot read log segment", seg.path));
    scan_records(bytes, [&](std::span<const uint8_t> r) {
      if (!is_clock_mark(r)) fn(r);
    });
  }
}

bool format_log(const std::string& dir, const std::string& name, std::span<const uint8_t> payload,
                std::string& error) {
  if (!list_segments(dir, name).empty()) {
    error = "the log of " + name + " in " + dir + " exists already: a replica is formatted once, when it is new";
    return false;
  }
  const std::string path = segment_path(dir, name, 1);
  if (!append_durably(path, true, payload, true)) {
    error = errno_text("cannot write log segment", path);
    return false;
  }
  sync_dir(dir);
  return true;
}

}  // namespace ws::net
