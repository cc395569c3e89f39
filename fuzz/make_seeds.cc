// Writes the binary seed corpora with the real encoders, so the fuzzer
// starts from bytes the programs actually produce:
//   OUT/frame/      frames from encode_frame: each channel and message kind,
//                   two frames back to back, and a frame cut short;
//   OUT/event_log/  the durable logs of a small simulated cluster (the
//                   cluster fuzz_event_log rebuilds: 2 partitions, 1
//                   coordinator, 8 accounts, USD and EUR) under TC/C and
//                   2PC with frequent snapshots, and one with a torn tail.
// Usage: fuzz_make_seeds OUT_DIR (fuzz/make-corpus.sh runs it). The output
// is deterministic: the same build writes the same files.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/event_log.h"
#include "net/frame.h"
#include "properties/runner.h"
#include "scenarios/scenario.h"
#include "sim/simulator.h"

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

void write(const fs::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "fuzz_make_seeds: cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

ws::Message transfer_request() {
  ws::Message m{};
  m.kind = ws::MsgKind::kTransferRequest;
  m.request = 7;
  m.tx = ws::TxId{0x6f1c2a4e8d3b4c7aULL, 0x9e2f1b2c3d4e5f60ULL};
  ws::set_text(m.text.txid, "6f1c2a4e-8d3b-4c7a-9e2f-1b2c3d4e5f60");
  ws::set_text(m.text.amount, "12.50");
  ws::set_text(m.text.currency, "USD");
  m.text.from = 1;
  m.text.to = 2;
  return m;
}

void write_frames(const fs::path& dir) {
  const ws::Message request = transfer_request();
  ws::Message try_debit{};
  try_debit.kind = ws::MsgKind::kTry;
  try_debit.tx = request.tx;
  try_debit.account = 1;
  try_debit.amount = ws::Amount{1250};
  ws::Message reply{};
  reply.kind = ws::MsgKind::kTryReply;
  reply.tx = request.tx;
  reply.leg = ws::Leg::kCredit;
  reply.yes = false;
  reply.outcome = ws::Outcome::kFailed;
  reply.reason = ws::Reason::kInsufficientFunds;
  ws::Message balance{};
  balance.kind = ws::MsgKind::kBalanceReply;
  balance.account = 5;
  balance.currency = 1;
  balance.amount = ws::Amount{100000};

  const auto one = [&](const char* name, const ws::Message& m) {
    Bytes b;
    ws::net::encode_frame(2, 0, m, b);
    write(dir / name, b);
    return b;
  };
  Bytes first = one("transfer-request", request);
  one("try-debit", try_debit);
  Bytes third = one("try-reply-no", reply);
  one("balance-reply", balance);
  {
    Bytes b;
    ws::net::encode_redirect_frame(9, 2, try_debit, 14, 1, b);
    write(dir / "redirect", b);
  }
  ws::raft::Msg append;
  append.type = ws::raft::MsgType::kAppend;
  append.from = 0;
  append.to = 2;
  append.term = 3;
  append.prev_index = 7;
  append.prev_term = 2;
  append.commit = 7;
  append.entries.push_back({3, 8, ws::raft::EntryKind::kNoop, {}});
  append.entries.push_back({3, 9, ws::raft::EntryKind::kCommand, {1, 2, 3, 4, 5}});
  append.read_round = 4;
  ws::raft::Msg snap;
  snap.type = ws::raft::MsgType::kInstallSnapshot;
  snap.from = 1;
  snap.to = 0;
  snap.term = 5;
  snap.snapshot = {40, 4};
  snap.offset = 65536;
  snap.bytes = {9, 8, 7, 6};
  snap.done = true;
  for (const auto& [name, m] : {std::pair<const char*, const ws::raft::Msg*>{"raft-append", &append},
                                {"raft-snapshot", &snap}}) {
    Bytes b;
    ws::net::encode_raft_frame(0, 9, 0x5eed, *m, b);
    write(dir / name, b);
  }
  Bytes two = first;
  two.insert(two.end(), third.begin(), third.end());
  write(dir / "two-frames", two);
  write(dir / "cut-short", Bytes(first.begin(), first.begin() + 100));
}

// Runs a small cluster and writes each node's durable log as framed records.
void write_logs(const fs::path& dir, const std::string& protocol) {
  ws::ScenarioLoad l = ws::load_scenario(
      "smoke", {"cluster.partitions=2", "cluster.coordinators=1", "cluster.accounts=8",
                "cluster.currencies=[\"USD\",\"EUR\"]", "workload.transfers=12",
                "protocol.snapshot_every=4", "protocol.kind=" + protocol});
  if (!l.scenario) {
    std::fprintf(stderr, "fuzz_make_seeds: %s\n", l.error.c_str());
    std::exit(1);
  }
  ws::RunSpec spec = ws::make_spec(*l.scenario, 3);
  ws::Simulator sim(spec.scenario.sim, spec.seed, spec.workload, spec.plan);
  sim.run();
  sim.flush_all();
  const ws::ClusterConfig& c = spec.scenario.sim.cluster;
  for (ws::NodeId n = 0; n < c.partitions + c.coordinators; ++n) {
    Bytes log;
    for (const Bytes& r : sim.durable_records(n)) ws::append_record(log, r);
    std::string name =
        protocol + (c.is_partition(n) ? "-partition-" : "-coordinator-") + std::to_string(n);
    write(dir / name, log);
    if (n == 0 && log.size() > 5) write(dir / (name + "-torn"), Bytes(log.begin(), log.end() - 5));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_seeds OUT_DIR\n");
    return 2;
  }
  const fs::path out = argv[1];
  fs::create_directories(out / "frame");
  fs::create_directories(out / "event_log");
  write_frames(out / "frame");
  write_logs(out / "event_log", "tcc");
  write_logs(out / "event_log", "2pc");
  return 0;
}
