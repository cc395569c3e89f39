#include "scenarios/scenario.h"

#include <cmath>
#include <fstream>
#include <sstream>

namespace ws {
namespace {

using nlohmann::json;

const json& defaults() {
  static const json d = [] {
    for (const auto& [name, text] : builtin_scenario_texts())
      if (name == "defaults") return json::parse(text);
    return json::object();
  }();
  return d;
}

const char* type_name(const json& j) {
  if (j.is_boolean()) return "a boolean";
  if (j.is_number_integer() || j.is_number_unsigned()) return "an integer";
  if (j.is_number()) return "a number";
  if (j.is_string()) return "a string";
  if (j.is_array()) return "an array";
  if (j.is_object()) return "an object";
  return "null";
}

bool same_type(const json& want, const json& got) {
  if (want.is_number_integer() || want.is_number_unsigned()) return got.is_number_integer() || got.is_number_unsigned();
  if (want.is_number_float()) return got.is_number();
  if (want.is_array()) return got.is_array();
  return want.type() == got.type();
}

// Merges `over` into `base`, refusing keys the defaults do not have.
bool merge(json& base, const json& over, const std::string& path, std::string& err) {
  if (!over.is_object()) {
    err = "scenario " + (path.empty() ? std::string("document") : "key '" + path + "'") +
          " must be a JSON object, not " + type_name(over);
    return false;
  }
  for (auto it = over.begin(); it != over.end(); ++it) {
    std::string key = path.empty() ? it.key() : path + "." + it.key();
    if (!base.contains(it.key())) {
      err = "unknown scenario key '" + key + "'";
      return false;
    }
    json& slot = base[it.key()];
    if (slot.is_object()) {
      if (!merge(slot, it.value(), key, err)) return false;
      continue;
    }
    if (!same_type(slot, it.value())) {
      err = "scenario key '" + key + "' must be " + type_name(slot) + ", not " + type_name(it.value());
      return false;
    }
    slot = it.value();
  }
  return true;
}

bool apply_set(json& doc, const std::string& set, std::string& err) {
  size_t eq = set.find('=');
  if (eq == std::string::npos || eq == 0) {
    err = "--set '" + set + "' must have the form key.path=value";
    return false;
  }
  std::string path = set.substr(0, eq);
  std::string text = set.substr(eq + 1);
  std::istringstream parts(path);
  std::vector<std::string> keys;
  for (std::string k; std::getline(parts, k, '.');) keys.push_back(k);
  if (!path.empty() && path.back() == '.') keys.push_back("");
  for (const auto& k : keys) {
    if (k.empty()) {
      err = "--set key '" + path + "' has an empty component";
      return false;
    }
  }
  const json* at = &doc;
  for (const auto& k : keys) {
    if (!at->is_object() || !at->contains(k)) {
      err = "unknown scenario key '" + path + "' in --set";
      return false;
    }
    at = &(*at)[k];
  }
  if (at->is_object()) {
    err = "--set key '" + path + "' names a section; set one of its keys instead";
    return false;
  }
  // Text keys take the value as written (initial_balance=250 is the text
  // "250"); other keys parse it as JSON (partitions=8, currencies=["USD"]).
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded() || (at->is_string() && !value.is_string())) value = text;
  json patch = std::move(value);
  for (size_t i = keys.size(); i-- > 0;) {
    json o = json::object();
    o[keys[i]] = std::move(patch);
    patch = std::move(o);
  }
  return merge(doc, patch, "", err);
}

struct Reader {
  const json& doc;
  std::string err;

  const json& at(const char* section, const char* key) { return doc.at(section).at(key); }
  int64_t integer(const char* section, const char* key, int64_t lo, int64_t hi) {
    const json& j = at(section, key);
    int64_t v = j.is_number_unsigned() && j.get<uint64_t>() > uint64_t(INT64_MAX) ? INT64_MAX : j.get<int64_t>();
    if (v < lo || v > hi) {
      if (err.empty())
        err = "scenario key '" + std::string(section) + "." + key + "' is " + std::to_string(v) +
              "; it must be between " + std::to_string(lo) + " and " + std::to_string(hi);
      return lo;  // callers scale the value by a unit; never let a bad one overflow
    }
    return v;
  }
  uint32_t ppm(const char* section, const char* key) {
    double p = at(section, key).get<double>();
    if (err.empty() && !(p >= 0.0 && p <= 1.0))
      err = "scenario key '" + std::string(section) + "." + key + "' is a probability; it must be between 0 and 1";
    return static_cast<uint32_t>(std::llround(std::clamp(p, 0.0, 1.0) * 1e6));
  }
  std::string str(const char* section, const char* key) { return at(section, key).get<std::string>(); }
};

ScenarioLoad convert(const json& doc) {
  ScenarioLoad out;
  Reader r{doc, {}};
  Scenario s;
  s.doc = doc;
  s.name = doc.at("name").get<std::string>();
  s.description = doc.at("description").get<std::string>();
  ClusterConfig& c = s.sim.cluster;
  c.partitions = static_cast<uint32_t>(r.integer("cluster", "partitions", 1, 100000));
  c.coordinators = static_cast<uint32_t>(r.integer("cluster", "coordinators", 1, 1000));
  c.clients = static_cast<uint32_t>(r.integer("cluster", "clients", 1, 1000));
  c.accounts = static_cast<uint32_t>(r.integer("cluster", "accounts", 2, 10'000'000));
  c.replication.replicas = static_cast<uint32_t>(r.integer("cluster", "replicas", 1, 5));
  if (r.err.empty() && c.replication.replicas % 2 == 0)
    r.err = "scenario key 'cluster.replicas' is " + std::to_string(c.replication.replicas) +
            "; it must be 1, 3 or 5 (an even group tolerates no more failures than the odd one below it)";
  ReplicationOptions& rep = c.replication;
  rep.election_timeout_min = r.integer("replication", "election_timeout_min_ms", 1, 3'600'000) * kMillisecond;
  rep.election_timeout_max = r.integer("replication", "election_timeout_max_ms", 1, 3'600'000) * kMillisecond;
  rep.heartbeat_interval = r.integer("replication", "heartbeat_ms", 1, 3'600'000) * kMillisecond;
  rep.max_append_entries = static_cast<uint32_t>(r.integer("replication", "max_append_entries", 1, 1'000'000));
  rep.pre_vote = doc.at("replication").at("pre_vote").get<bool>();
  rep.check_quorum = doc.at("replication").at("check_quorum").get<bool>();
  if (r.err.empty() && rep.election_timeout_max <= rep.election_timeout_min)
    r.err = "scenario key 'replication.election_timeout_max_ms' must be greater than 'replication.election_timeout_min_ms'";
  if (r.err.empty() && rep.heartbeat_interval >= rep.election_timeout_min)
    r.err = "scenario key 'replication.heartbeat_ms' must be less than 'replication.election_timeout_min_ms'";
  const json& curs = doc.at("cluster").at("currencies");
  if (r.err.empty() && (curs.empty() || curs.size() > 32))
    r.err = "scenario key 'cluster.currencies' must list between 1 and 32 currencies";
  for (const json& cj : curs) {
    if (!r.err.empty()) break;
    if (!cj.is_string()) {
      r.err = "scenario key 'cluster.currencies' must hold strings, not " + std::string(type_name(cj));
      break;
    }
    auto info = find_currency(cj.get<std::string>());
    if (!info) {
      r.err = "scenario key 'cluster.currencies': unknown currency '" + cj.get<std::string>() + "'";
      break;
    }
    for (const auto& have : c.currencies)
      if (std::string_view(have.code) == info->code) r.err = "scenario key 'cluster.currencies' lists '" + cj.get<std::string>() + "' twice";
    c.currencies.push_back(*info);
  }
  std::string init = r.str("cluster", "initial_balance");
  for (const auto& cur : c.currencies) {
    if (!r.err.empty()) break;
    AmountParse a = parse_amount(init, cur);
    if (!a.amount) {
      r.err = "scenario key 'cluster.initial_balance': " + a.error;
      break;
    }
    c.initial_balance.push_back(*a.amount);
  }
  std::string max_balance = r.str("cluster", "max_balance");
  for (const auto& cur : c.currencies) {
    if (!r.err.empty()) break;
    AmountParse a = parse_amount(max_balance, cur);
    if (!a.amount) {
      r.err = "scenario key 'cluster.max_balance': " + a.error;
      break;
    }
    if (r.err.empty() && a.amount->minor > 0 && a.amount->minor < c.initial_balance[c.max_balance.size()].minor)
      r.err = "scenario key 'cluster.max_balance' (" + max_balance + ") is below 'cluster.initial_balance' (" + init +
              "): every account would start past its limit";
    c.max_balance.push_back(*a.amount);
  }

  s.workload.transfers = static_cast<uint32_t>(r.integer("workload", "transfers", 0, 100'000'000));
  s.workload.duration = r.integer("workload", "duration_ms", 1, 30 * 86'400'000LL) * kMillisecond;
  s.workload.start = r.integer("workload", "start_ms", 0, 86'400'000) * kMillisecond;
  s.workload.hot_accounts = static_cast<uint32_t>(r.integer("workload", "hot_accounts", 0, 10'000'000));
  s.workload.hot_ppm = r.ppm("workload", "hot_probability");
  // The two ends of a transfer differ: drawn from one hot account every
  // time, the workload generator would look for the second end forever.
  if (r.err.empty() && s.workload.hot_accounts == 1 && s.workload.hot_ppm == 1'000'000)
    r.err = "scenario key 'workload.hot_accounts' is 1 and 'workload.hot_probability' is 1: "
            "a transfer needs two different accounts";
  std::string pick = r.str("workload", "pick");
  if (pick == "accounts" || pick == "partitions") {
    s.workload.by_partition = pick == "partitions";
  } else if (r.err.empty()) {
    r.err = "scenario key 'workload.pick' is '" + pick + "'; it must be accounts or partitions";
  }
  s.workload.max_amount_pct = static_cast<uint32_t>(r.integer("workload", "max_amount_pct", 1, 100));
  s.workload.duplicate_ppm = r.ppm("workload", "duplicate_probability");
  s.workload.invalid_ppm = r.ppm("workload", "invalid_probability");
  s.workload.reuse_ppm = r.ppm("workload", "reuse_probability");
  s.workload.edge_ppm = r.ppm("workload", "edge_probability");
  s.workload.read_ppm = r.ppm("workload", "read_probability");

  s.sim.client.request_timeout = r.integer("client", "request_timeout_ms", 1, 3'600'000) * kMillisecond;
  s.sim.client.max_attempts = static_cast<uint32_t>(r.integer("client", "max_attempts", 1, 1000));
  s.sim.client.query_interval = r.integer("client", "query_interval_ms", 1, 3'600'000) * kMillisecond;
  s.sim.client.horizon = r.integer("client", "horizon_ms", 1, 86'400'000) * kMillisecond;

  std::string kind = r.str("protocol", "kind");
  if (kind == "tcc") {
    c.protocol.kind = ProtocolKind::kTcc;
  } else if (kind == "2pc") {
    c.protocol.kind = ProtocolKind::k2pc;
  } else if (kind == "saga") {
    c.protocol.kind = ProtocolKind::kSaga;
  } else if (r.err.empty()) {
    r.err = "scenario key 'protocol.kind' is '" + kind + "'; it must be tcc, 2pc or saga";
  }
  std::string order = r.str("protocol", "try_order");
  if (order == "debit_first") {
    c.protocol.try_order = TryOrder::kDebitFirst;
  } else if (order == "credit_first") {
    c.protocol.try_order = TryOrder::kCreditFirst;
  } else if (order == "both_in_try") {
    c.protocol.try_order = TryOrder::kBothInTry;
  } else if (r.err.empty()) {
    r.err = "scenario key 'protocol.try_order' is '" + order + "'; it must be debit_first, credit_first or both_in_try";
  }
  std::string same = r.str("protocol", "same_partition");
  if (same == "local") {
    c.protocol.local_same_partition = true;
  } else if (same == "two_legs") {
    c.protocol.local_same_partition = false;
  } else if (r.err.empty()) {
    r.err = "scenario key 'protocol.same_partition' is '" + same + "'; it must be local or two_legs";
  }
  c.protocol.try_timeout = r.integer("protocol", "try_timeout_ms", 1, 3'600'000) * kMillisecond;
  c.protocol.retry_interval = r.integer("protocol", "retry_interval_ms", 1, 3'600'000) * kMillisecond;
  c.protocol.max_backoff = r.integer("protocol", "max_backoff_ms", 1, 3'600'000) * kMillisecond;
  c.protocol.snapshot_every = static_cast<uint32_t>(r.integer("protocol", "snapshot_every", 0, 1'000'000));
  c.protocol.retention = r.integer("protocol", "retention_ms", 1, 7 * 86'400'000LL) * kMillisecond;
  // A client asks about an id for at most its horizon; the coordinator
  // refuses requests older than half the window and remembers a finished id
  // for the whole window, so a late message can never meet a forgotten row.
  if (r.err.empty() && c.protocol.retention < 2 * s.sim.client.horizon)
    r.err = "scenario key 'protocol.retention_ms' (" + std::to_string(c.protocol.retention / kMillisecond) +
            ") is shorter than twice 'client.horizon_ms' (" + std::to_string(s.sim.client.horizon / kMillisecond) +
            "): a client could still retry or ask about an id the coordinator has forgotten";
  c.protocol.max_inflight = static_cast<uint32_t>(r.integer("protocol", "max_inflight", 0, 100'000'000));
  c.protocol.batch_max = static_cast<uint32_t>(r.integer("protocol", "batch_max", 1, 4096));
  c.protocol.batch_delay = r.integer("protocol", "batch_delay_ns", 0, 1'000'000'000);

  s.sim.network.latency = r.integer("network", "latency_us", 1, 10'000'000) * kMicrosecond;
  s.sim.network.jitter = r.integer("network", "jitter_us", 0, 10'000'000) * kMicrosecond;
  s.sim.costs.partition_op = r.integer("node", "partition_op_ns", 0, 10'000'000'000);
  s.sim.costs.coordinator_op = r.integer("node", "coordinator_op_ns", 0, 10'000'000'000);
  s.sim.costs.max_queue = static_cast<uint32_t>(r.integer("node", "max_queue", 0, 100'000'000));
  s.sim.costs.partition_packet = r.integer("node", "partition_packet_ns", 0, 10'000'000'000);
  s.sim.disk.sync_latency = r.integer("disk", "sync_us", 1, 10'000'000) * kMicrosecond;

  std::string profile = r.str("faults", "profile");
  auto prof = parse_fault_profile(profile);
  if (!prof && r.err.empty())
    r.err = "scenario key 'faults.profile' is '" + profile +
            "'; it must be none, lossy, partition, crash, chaos, swarm or storage";
  s.profile = prof.value_or(FaultProfile::kNone);
  FaultKnobs& k = s.knobs;
  k.drop_ppm = r.ppm("faults", "drop_probability");
  k.duplicate_ppm = r.ppm("faults", "duplicate_probability");
  k.tail_ppm = r.ppm("faults", "tail_probability");
  k.tail = r.integer("faults", "tail_ms", 0, 3'600'000) * kMillisecond;
  k.crashes = static_cast<uint32_t>(r.integer("faults", "crashes", 0, 10'000));
  std::string targets = r.str("faults", "crash_targets");
  if (targets == "any") {
    k.crash_targets = FaultKnobs::Targets::kAny;
  } else if (targets == "coordinators") {
    k.crash_targets = FaultKnobs::Targets::kCoordinators;
  } else if (targets == "partitions") {
    k.crash_targets = FaultKnobs::Targets::kPartitions;
  } else if (r.err.empty()) {
    r.err = "scenario key 'faults.crash_targets' is '" + targets + "'; it must be any, coordinators or partitions";
  }
  k.crash_down_max = r.integer("faults", "crash_down_max_ms", 1, 3'600'000) * kMillisecond;
  k.torn_write_ppm = r.ppm("faults", "torn_write_probability");
  k.crash_at_vote_ppm = r.ppm("faults", "crash_at_vote_probability");
  k.crash_at_old_commit_ppm = r.ppm("faults", "crash_at_old_commit_probability");
  k.isolate_new_leader_ppm = r.ppm("faults", "isolate_new_leader_probability");
  k.partitions = static_cast<uint32_t>(r.integer("faults", "partitions", 0, 10'000));
  k.partition_max = r.integer("faults", "partition_max_ms", 1, 3'600'000) * kMillisecond;
  k.leader_isolations = static_cast<uint32_t>(r.integer("faults", "leader_isolations", 0, 10'000));
  k.storage_faults = static_cast<uint32_t>(r.integer("faults", "storage_faults", 0, 10'000));
  k.storage_together = static_cast<uint32_t>(r.integer("faults", "storage_together", 1, 5));
  k.within_f = r.at("faults", "within_f").get<bool>();
  k.repair_allowance = r.integer("faults", "repair_allowance_ms", 0, 3'600'000) * kMillisecond;
  {
    // "all", or a comma-separated list of DiskFault names ("none": a plain crash).
    const std::string kinds = r.str("faults", "storage_kinds");
    k.storage_kinds = kinds == "all" ? 0x7fu : 0u;
    for (size_t at = 0; kinds != "all" && at <= kinds.size();) {
      const size_t comma = std::min(kinds.find(',', at), kinds.size());
      DiskFault d;
      if (parse_disk_fault(std::string_view(kinds).substr(at, comma - at), d)) {
        k.storage_kinds |= 1u << static_cast<uint8_t>(d);
      } else if (r.err.empty()) {
        r.err = "scenario key 'faults.storage_kinds' is '" + kinds +
                "'; it must be all, or a comma-separated list of none, corrupt, misdirected_write, "
                "misdirected_read, read_error, lost_fsync, disk_lost";
      }
      at = comma + 1;
    }
  }
  if (r.err.empty() && s.profile == FaultProfile::kStorage && c.replication.replicas == 1)
    r.err = "scenario key 'faults.profile' is 'storage', which needs replica groups: set 'cluster.replicas' to 3 or 5";
  k.drift_ppm_max = static_cast<int32_t>(r.integer("faults", "clock_drift_max_ppm", 0, 100'000));
  k.offset_max = r.integer("faults", "clock_offset_max_ms", 0, 86'400'000) * kMillisecond;
  // A request or query may still be travelling when its client stops; it
  // must arrive while the coordinator still remembers the id. The longest a
  // message can travel must fit in the half of the window the client does
  // not use (docs/forgetting.md).
  const Duration longest = s.sim.network.latency + s.sim.network.jitter + (s.profile != FaultProfile::kNone ? k.tail : 0);
  if (r.err.empty() && c.protocol.retention <= 2 * longest)
    r.err = "scenario key 'protocol.retention_ms' (" + std::to_string(c.protocol.retention / kMillisecond) +
            ") is not more than twice the longest one-way network delay ('network.latency_us' + 'network.jitter_us' + "
            "'faults.tail_ms' = " + std::to_string(longest / kMicrosecond) +
            " us): a request still in flight could reach a coordinator that has forgotten its id";

  // Planted engine bugs, for watching the checkers catch them.
  for (const EngineBugName& b : engine_bug_names()) c.bugs.*b.flag = doc.at("bugs").at(b.name).get<bool>();

  s.sim.fault_phase = r.integer("phases", "fault_ms", 1, 30 * 86'400'000LL) * kMillisecond;
  s.sim.heal_limit = r.integer("phases", "heal_limit_ms", 1, 86'400'000) * kMillisecond;
  s.sim.max_events = static_cast<uint64_t>(r.integer("phases", "max_events", 1000, 4'000'000'000'000));
  s.sim.check_liveness = r.at("phases", "check_liveness").get<bool>();
  if (r.err.empty() && s.workload.start + s.workload.duration > s.sim.fault_phase)
    r.err = "scenario keys 'workload.start_ms' + 'workload.duration_ms' must not exceed 'phases.fault_ms' (requests "
            "start during the fault phase)";
  // Busy time (the utilisation tps and sizing report) counts from the first request.
  s.sim.costs.measure_from = s.workload.start;

  if (!r.err.empty()) {
    out.error = r.err;
    return out;
  }
  c.finalize();
  out.scenario = std::move(s);
  return out;
}

}  // namespace

ScenarioLoad scenario_from_json(const json& over, const std::vector<std::string>& sets) {
  ScenarioLoad out;
  json doc = defaults();
  if (!merge(doc, over, "", out.error)) return out;
  for (const auto& s : sets)
    if (!apply_set(doc, s, out.error)) return out;
  return convert(doc);
}

ScenarioLoad load_scenario(std::string_view name_or_file, const std::vector<std::string>& sets) {
  for (const auto& [name, text] : builtin_scenario_texts()) {
    if (name == name_or_file && name != "defaults") return scenario_from_json(json::parse(text), sets);
  }
  ScenarioLoad out;
  std::ifstream in{std::string(name_or_file)};
  if (!in) {
    std::string names;
    for (const auto& [n, d] : builtin_scenarios()) names += (names.empty() ? "" : ", ") + n;
    out.error = "unknown scenario '" + std::string(name_or_file) +
                "': not a built-in scenario (" + names + ") and not a readable file";
    return out;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  json doc = json::parse(ss.str(), nullptr, false);
  if (doc.is_discarded()) {
    out.error = "scenario file '" + std::string(name_or_file) + "' is not valid JSON";
    return out;
  }
  return scenario_from_json(doc, sets);
}

std::vector<std::pair<std::string, std::string>> builtin_scenarios() {
  std::vector<std::pair<std::string, std::string>> v;
  for (const auto& [name, text] : builtin_scenario_texts()) {
    if (name == "defaults") continue;
    json j = json::parse(text);
    v.emplace_back(std::string(name), j.value("description", ""));
  }
  return v;
}

}  // namespace ws
