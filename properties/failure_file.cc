#include "properties/failure_file.h"

#include <fstream>
#include <sstream>

namespace ws {

using nlohmann::json;

std::string build_id() {
  std::string id = "walletsim-1 ";
#if defined(__clang__)
  id += "clang-" __clang_version__;
#elif defined(__GNUC__)
  id += "gcc-" __VERSION__;
#endif
#ifdef NDEBUG
  id += " release";
#else
  id += " debug";
#endif
  return id;
}

json workload_to_json(const Workload& w) {
  json a = json::array();
  for (const PlannedRequest& r : w.requests) {
    a.push_back({{"at_ns", r.at}, {"client", r.client}, {"kind", to_string(r.kind)},
                 {"duplicate", r.duplicate}, {"transaction_id", r.txid}, {"amount", r.amount},
                 {"currency", r.currency}, {"from", r.from}, {"to", r.to}, {"reuse_of", r.reuse_of}});
  }
  return a;
}

json fault_plan_to_json(const FaultPlan& p) {
  json j;
  j["network"] = {{"drop_ppm", p.faulty.drop_ppm},
                  {"duplicate_ppm", p.faulty.duplicate_ppm},
                  {"tail_ppm", p.faulty.tail_ppm},
                  {"tail_ns", p.faulty.tail}};
  j["crashes"] = json::array();
  for (const CrashFault& c : p.crashes)
    j["crashes"].push_back({{"node", c.node}, {"at_ns", c.at}, {"down_ns", c.down_for}, {"torn_write", c.torn_write},
                            {"at_vote", c.at_vote}, {"at_old_commit", c.at_old_commit}, {"disk", to_string(c.disk)}});
  j["partitions"] = json::array();
  for (const PartitionFault& f : p.partitions)
    j["partitions"].push_back({{"side_a", f.side_a}, {"side_b", f.side_b}, {"one_way", f.one_way},
                               {"start_ns", f.start}, {"end_ns", f.end},
                               {"isolate_leader_of", f.isolate_leader_of == PartitionFault::kNoGroup
                                                         ? json(nullptr) : json(f.isolate_leader_of)},
                               {"from_clients", f.from_clients}, {"at_election", f.at_election}});
  j["clocks"] = json::array();
  for (const ClockFault& c : p.clocks)
    j["clocks"].push_back({{"node", c.node}, {"offset_ns", c.offset}, {"drift_ppm", c.drift_ppm}});
  return j;
}

static std::string checksum_of(const json& body) { return hex64(fnv1a64(body.dump())); }

json failure_to_json(const RunSpec& spec, const RunResult& result) {
  json j;
  j["format"] = "walletsim-failure";
  j["version"] = kFailureFileVersion;
  j["build"] = build_id();
  j["seed"] = spec.seed;
  j["scenario"] = spec.scenario.doc;
  j["workload"] = workload_to_json(spec.workload);
  j["fault_plan"] = fault_plan_to_json(spec.plan);
  if (!result.violations.empty()) {
    const Violation& v = result.violations.front();
    json txs = json::array();
    for (const TxId& t : v.txs) txs.push_back(format_txid(t));
    j["violation"] = {{"property", to_string(v.property)}, {"time_ns", v.time},
                      {"transactions", txs}, {"message", v.message}};
  }
  j["trace_hash"] = hex64(result.trace_hash);
  j["checksum"] = checksum_of(j);
  return j;
}

namespace {

struct Bad {
  std::string what;
};

const json& need(const json& j, const char* key, const std::string& where) {
  if (!j.is_object() || !j.contains(key)) throw Bad{"missing key '" + where + key + "'"};
  return j.at(key);
}

template <class T>
T num(const json& j, const char* key, const std::string& where, T lo, T hi) {
  const json& v = need(j, key, where);
  if (!v.is_number_integer() && !v.is_number_unsigned()) throw Bad{"key '" + where + key + "' must be an integer"};
  if constexpr (std::is_signed_v<T>) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)) throw Bad{"key '" + where + key + "' is out of range"};
    int64_t x = v.get<int64_t>();
    if (x < static_cast<int64_t>(lo) || x > static_cast<int64_t>(hi)) throw Bad{"key '" + where + key + "' is out of range"};
    return static_cast<T>(x);
  } else {
    if (!v.is_number_unsigned() && v.get<int64_t>() < 0) throw Bad{"key '" + where + key + "' must not be negative"};
    uint64_t x = v.get<uint64_t>();
    if (x < static_cast<uint64_t>(lo) || x > static_cast<uint64_t>(hi)) throw Bad{"key '" + where + key + "' is out of range"};
    return static_cast<T>(x);
  }
}

std::string str(const json& j, const char* key, const std::string& where) {
  const json& v = need(j, key, where);
  if (!v.is_string()) throw Bad{"key '" + where + key + "' must be a string"};
  return v.get<std::string>();
}

bool boolean(const json& j, const char* key, const std::string& where) {
  const json& v = need(j, key, where);
  if (!v.is_boolean()) throw Bad{"key '" + where + key + "' must be true or false"};
  return v.get<bool>();
}

const json& arr(const json& j, const char* key, const std::string& where) {
  const json& v = need(j, key, where);
  if (!v.is_array()) throw Bad{"key '" + where + key + "' must be an array"};
  return v;
}

std::optional<RequestKind> parse_kind(const std::string& s) {
  for (int k = 0; k <= static_cast<int>(RequestKind::kRead); ++k)
    if (s == to_string(static_cast<RequestKind>(k))) return static_cast<RequestKind>(k);
  return std::nullopt;
}

void parse_body(const json& doc, FailureFile& f) {
  if (str(doc, "format", "") != "walletsim-failure") throw Bad{"key 'format' must be \"walletsim-failure\""};
  int version = num<int>(doc, "version", "", 0, 1 << 20);
  if (version != kFailureFileVersion)
    throw Bad{"format version " + std::to_string(version) + " is not supported (this build reads version " +
              std::to_string(kFailureFileVersion) + ")"};
  f.build = str(doc, "build", "");
  f.spec.seed = num<uint64_t>(doc, "seed", "", 0, UINT64_MAX);
  ScenarioLoad sl = scenario_from_json(need(doc, "scenario", ""));
  if (!sl.scenario) throw Bad{"its scenario is invalid: " + sl.error};
  f.spec.scenario = *sl.scenario;
  const ClusterConfig& c = f.spec.scenario.sim.cluster;
  const uint32_t nodes = c.node_count();

  const json& w = arr(doc, "workload", "");
  for (size_t i = 0; i < w.size(); ++i) {
    std::string at = "workload[" + std::to_string(i) + "].";
    const json& r = w[i];
    PlannedRequest p;
    p.at = num<int64_t>(r, "at_ns", at, 0, INT64_MAX / 4);
    p.client = num<uint32_t>(r, "client", at, 0, c.clients - 1);
    auto kind = parse_kind(str(r, "kind", at));
    if (!kind) throw Bad{"key '" + at + "kind' is not a known request kind"};
    p.kind = *kind;
    p.duplicate = boolean(r, "duplicate", at);
    p.txid = str(r, "transaction_id", at);
    p.amount = str(r, "amount", at);
    p.currency = str(r, "currency", at);
    p.from = num<uint32_t>(r, "from", at, 0, UINT32_MAX);
    p.to = num<uint32_t>(r, "to", at, 0, UINT32_MAX);
    p.reuse_of = num<int32_t>(r, "reuse_of", at, -1, static_cast<int32_t>(i) - 1 < -1 ? -1 : static_cast<int32_t>(i) - 1);
    if (p.kind == RequestKind::kValid || p.kind == RequestKind::kReuse) {
      if (!parse_txid(p.txid).id) throw Bad{"key '" + at + "transaction_id' must be a UUID for a " + to_string(p.kind) + " request"};
      if (!find_currency(p.currency)) throw Bad{"key '" + at + "currency' is not a known currency"};
      if (p.from >= c.accounts || p.to >= c.accounts) throw Bad{"key '" + at + "from/to' names an account the scenario does not have"};
    }
    if (p.kind == RequestKind::kRead) {
      if (!find_currency(p.currency)) throw Bad{"key '" + at + "currency' is not a known currency"};
      if (p.from >= c.accounts) throw Bad{"key '" + at + "from' names an account the scenario does not have"};
    }
    if (p.kind == RequestKind::kReuse && (p.reuse_of < 0 || w[p.reuse_of].value("kind", "") != "valid"))
      throw Bad{"key '" + at + "reuse_of' must name an earlier valid request"};
    f.spec.workload.requests.push_back(p);
  }

  const json& fp = need(doc, "fault_plan", "");
  const json& net = need(fp, "network", "fault_plan.");
  f.spec.plan.faulty.drop_ppm = num<uint32_t>(net, "drop_ppm", "fault_plan.network.", 0, 1'000'000);
  f.spec.plan.faulty.duplicate_ppm = num<uint32_t>(net, "duplicate_ppm", "fault_plan.network.", 0, 1'000'000);
  f.spec.plan.faulty.tail_ppm = num<uint32_t>(net, "tail_ppm", "fault_plan.network.", 0, 1'000'000);
  f.spec.plan.faulty.tail = num<int64_t>(net, "tail_ns", "fault_plan.network.", 0, 86'400 * kSecond);
  const json& crashes = arr(fp, "crashes", "fault_plan.");
  for (size_t i = 0; i < crashes.size(); ++i) {
    std::string at = "fault_plan.crashes[" + std::to_string(i) + "].";
    CrashFault cf;
    cf.node = num<uint32_t>(crashes[i], "node", at, 0, nodes - 1);
    if (!c.is_server(cf.node))
      throw Bad{"key '" + at + "node' is out of range: node " + std::to_string(cf.node) +
                " is a client; only partitions, coordinators and their replicas crash"};
    cf.at = num<int64_t>(crashes[i], "at_ns", at, 0, INT64_MAX / 4);
    cf.down_for = num<int64_t>(crashes[i], "down_ns", at, 0, INT64_MAX / 4);
    cf.torn_write = boolean(crashes[i], "torn_write", at);
    if (crashes[i].contains("at_vote")) cf.at_vote = boolean(crashes[i], "at_vote", at);  // absent in older files
    if (crashes[i].contains("at_old_commit")) cf.at_old_commit = boolean(crashes[i], "at_old_commit", at);
    if (crashes[i].contains("disk")) {  // absent in older files
      const json& d = crashes[i]["disk"];
      if (!d.is_string() || !parse_disk_fault(d.get<std::string>(), cf.disk))
        throw Bad{"key '" + at + "disk' must be one of none, corrupt, misdirected_write, misdirected_read, "
                  "read_error, lost_fsync, disk_lost"};
    }
    f.spec.plan.crashes.push_back(cf);
  }
  const json& parts = arr(fp, "partitions", "fault_plan.");
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string at = "fault_plan.partitions[" + std::to_string(i) + "].";
    PartitionFault pf;
    for (const char* side : {"side_a", "side_b"}) {
      for (const json& n : arr(parts[i], side, at)) {
        if (!n.is_number_unsigned() || n.get<uint64_t>() >= nodes) throw Bad{"key '" + at + side + "' holds a node id the scenario does not have"};
        (side[5] == 'a' ? pf.side_a : pf.side_b).push_back(n.get<uint32_t>());
      }
    }
    pf.one_way = boolean(parts[i], "one_way", at);
    pf.start = num<int64_t>(parts[i], "start_ns", at, 0, INT64_MAX / 4);
    pf.end = num<int64_t>(parts[i], "end_ns", at, 0, INT64_MAX / 4);
    // Leader isolation (replica groups); absent in files of single-copy runs.
    if (parts[i].contains("isolate_leader_of") && !parts[i]["isolate_leader_of"].is_null())
      pf.isolate_leader_of = num<uint32_t>(parts[i], "isolate_leader_of", at, 0, c.groups() - 1);
    if (parts[i].contains("from_clients")) pf.from_clients = boolean(parts[i], "from_clients", at);
    if (parts[i].contains("at_election")) pf.at_election = boolean(parts[i], "at_election", at);
    f.spec.plan.partitions.push_back(pf);
  }
  const json& clocks = arr(fp, "clocks", "fault_plan.");
  for (size_t i = 0; i < clocks.size(); ++i) {
    std::string at = "fault_plan.clocks[" + std::to_string(i) + "].";
    ClockFault cf;
    cf.node = num<uint32_t>(clocks[i], "node", at, 0, nodes - 1);
    cf.offset = num<int64_t>(clocks[i], "offset_ns", at, 0, 86'400 * kSecond);
    cf.drift_ppm = num<int32_t>(clocks[i], "drift_ppm", at, -100'000, 100'000);
    f.spec.plan.clocks.push_back(cf);
  }
  const json& v = need(doc, "violation", "");
  auto prop = parse_property(str(v, "property", "violation."));
  if (!prop) throw Bad{"key 'violation.property' is not a known property"};
  f.property = *prop;
  f.message = str(v, "message", "violation.");
  std::string hash = str(doc, "trace_hash", "");
  if (hash.size() != 16 || hash.find_first_not_of("0123456789abcdef") != std::string::npos)
    throw Bad{"key 'trace_hash' must be 16 lower-case hex digits"};
  f.trace_hash = std::stoull(hash, nullptr, 16);
}

}  // namespace

FailureLoad failure_from_json(const json& doc) {
  FailureLoad out;
  if (!doc.is_object()) {
    out.error = "a failure file must hold a JSON object";
    return out;
  }
  if (!doc.contains("checksum") || !doc["checksum"].is_string()) {
    out.error = "missing key 'checksum'";
    return out;
  }
  json body = doc;
  body.erase("checksum");
  if (checksum_of(body) != doc["checksum"].get<std::string>()) {
    out.error = "checksum mismatch: the file was changed or damaged after it was written";
    return out;
  }
  FailureFile f;
  try {
    parse_body(body, f);
  } catch (const Bad& b) {
    out.error = b.what;
    return out;
  } catch (const json::exception& e) {
    out.error = std::string("unexpected value: ") + e.what();
    return out;
  }
  out.file = std::move(f);
  return out;
}

FailureLoad load_failure_file(const std::string& path) {
  FailureLoad out;
  std::ifstream in(path);
  if (!in) {
    out.error = "cannot read failure file '" + path + "'";
    return out;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  json doc = json::parse(ss.str(), nullptr, false);
  if (doc.is_discarded()) {
    out.error = "failure file '" + path + "' is not valid JSON (truncated or damaged?)";
    return out;
  }
  out = failure_from_json(doc);
  if (!out.file) out.error = "failure file '" + path + "': " + out.error;
  return out;
}

}  // namespace ws
