#include "properties/explore_report.h"

#include <fstream>
#include <sstream>

#include "core/hash.h"
#include "properties/runner.h"

namespace ws {

using nlohmann::json;

namespace {

constexpr const char* kFormat = "walletsim-explore";

std::string checksum_of(const json& body) { return hex64(fnv1a64(body.dump())); }

bool parse_hex64(const std::string& s, uint64_t& out) {
  if (s.size() != 16 || s.find_first_not_of("0123456789abcdef") != std::string::npos) return false;
  out = std::stoull(s, nullptr, 16);
  return true;
}

// Reads typed keys of one object; the first problem is kept, naming the key.
class Reader {
 public:
  Reader(const json& obj, std::string where) : obj_(obj), where_(std::move(where)) {}
  const std::string& error() const { return error_; }
  bool ok() const { return error_.empty(); }

  const json* get(const char* key) {
    if (!ok()) return nullptr;
    if (!obj_.is_object() || !obj_.contains(key)) {
      fail(std::string("missing key '") + where_ + key + "'");
      return nullptr;
    }
    return &obj_[key];
  }
  uint64_t u64(const char* key) {
    const json* v = get(key);
    if (v && !(v->is_number_unsigned() || (v->is_number_integer() && v->get<int64_t>() >= 0)))
      fail("key '" + where_ + key + "' must be a non-negative integer");
    return ok() ? v->get<uint64_t>() : 0;
  }
  int64_t i64(const char* key) {
    const json* v = get(key);
    if (v && !v->is_number_integer()) fail("key '" + where_ + key + "' must be an integer");
    return ok() ? v->get<int64_t>() : 0;
  }
  double number(const char* key) {
    const json* v = get(key);
    if (v && !v->is_number()) fail("key '" + where_ + key + "' must be a number");
    return ok() ? v->get<double>() : 0;
  }
  std::string str(const char* key) {
    const json* v = get(key);
    if (v && !v->is_string()) fail("key '" + where_ + key + "' must be a string");
    return ok() ? v->get<std::string>() : "";
  }
  uint64_t hex(const char* key) {
    std::string s = str(key);
    uint64_t h = 0;
    if (ok() && !parse_hex64(s, h))
      fail("key '" + where_ + key + "' must be 16 lower-case hex digits, got '" + s + "'");
    return h;
  }
  void fail(const std::string& e) {
    if (error_.empty()) error_ = e;
  }

 private:
  const json& obj_;
  std::string where_;
  std::string error_;
};

std::string read_failures(const json& list, ExploreResult& r) {
  if (!list.is_array()) return "key 'failed_seeds' must be an array";
  for (size_t i = 0; i < list.size(); ++i) {
    Reader in(list[i], "failed_seeds[" + std::to_string(i) + "].");
    ExploreFailure f;
    f.seed = in.u64("seed");
    f.property = in.str("property");
    f.message = in.str("message");
    f.trace_hash = in.hex("trace_hash");
    f.file = in.str("file");
    f.shrunk_file = in.str("shrunk_file");
    if (!in.ok()) return in.error();
    if (f.seed < r.seeds.first || f.seed >= r.seeds.last)
      return "failed_seeds[" + std::to_string(i) + "]: seed " + std::to_string(f.seed) +
             " is outside the range " + to_string(r.seeds);
    if (!r.failures.empty() && f.seed <= r.failures.back().seed)
      return "failed_seeds[" + std::to_string(i) + "]: seeds are not in increasing order";
    r.failures.push_back(std::move(f));
  }
  return "";
}

}  // namespace

json failed_seeds_json(const std::vector<ExploreFailure>& failures) {
  json failed = json::array();
  for (const ExploreFailure& f : failures)
    failed.push_back({{"seed", f.seed},
                      {"property", f.property},
                      {"message", f.message},
                      {"trace_hash", hex64(f.trace_hash)},
                      {"file", f.file},
                      {"shrunk_file", f.shrunk_file}});
  return failed;
}

json explore_report_to_json(const ExploreResult& r) {
  const json failed = failed_seeds_json(r.failures);
  const json coverage = r.coverage;  // a std::map: keys in a fixed order
  json j = {{"format", kFormat},
            {"version", kExploreReportVersion},
            {"build", r.build},
            {"scenario", r.scenario},
            {"scenario_digest", r.scenario_digest},
            {"first_seed", r.seeds.first},
            {"last_seed", r.seeds.last},
            {"seeds", r.runs},
            {"runs", r.runs},
            {"jobs", r.jobs},
            {"failures", r.failures.size()},
            {"failed_seeds", failed},
            {"wall_seconds", r.wall_seconds},
            {"seeds_per_second", r.seeds_per_second},
            {"events", r.events},
            {"started_unix_ms", r.started_unix_ms},
            {"finished_unix_ms", r.finished_unix_ms},
            {"trace_digest", {{"sum", hex64(r.digest.sum)}, {"count", r.digest.count}}},
            {"coverage", coverage}};
  if (r.runs_with_group_stopped > 0 || r.longest_outage > 0)  // runs with replica groups
    j["groups"] = {{"runs_with_group_stopped", r.runs_with_group_stopped},
                   {"longest_outage_ns", r.longest_outage},
                   {"longest_outage_seed", r.longest_outage_seed}};
  j["checksum"] = checksum_of(j);
  return j;
}

ExploreReportLoad explore_report_from_json(const json& doc) {
  ExploreReportLoad out;
  if (!doc.is_object()) {
    out.error = "not a JSON object";
    return out;
  }
  Reader in(doc, "");
  std::string format = in.str("format");
  if (in.ok() && format != kFormat) {
    out.error = "key 'format' is '" + format + "', expected '" + kFormat +
                "' (output of walletsim explore --json)";
    return out;
  }
  uint64_t version = in.u64("version");
  if (in.ok() && version != kExploreReportVersion) {
    out.error = "key 'version' is " + std::to_string(version) + ", this build reads version " +
                std::to_string(kExploreReportVersion);
    return out;
  }
  std::string checksum = in.str("checksum");
  if (!in.ok()) {
    out.error = in.error();
    return out;
  }
  json body = doc;
  body.erase("checksum");
  if (checksum_of(body) != checksum) {
    out.error = "checksum mismatch: the file was changed or damaged after it was written";
    return out;
  }
  ExploreResult r;
  r.build = in.str("build");
  r.scenario = in.str("scenario");
  r.scenario_digest = in.str("scenario_digest");
  r.seeds.first = in.u64("first_seed");
  r.seeds.last = in.u64("last_seed");
  r.runs = in.u64("runs");
  r.jobs = static_cast<unsigned>(in.u64("jobs"));
  uint64_t failures = in.u64("failures");
  r.wall_seconds = in.number("wall_seconds");
  r.seeds_per_second = in.number("seeds_per_second");
  r.events = in.u64("events");
  r.started_unix_ms = in.i64("started_unix_ms");
  r.finished_unix_ms = in.i64("finished_unix_ms");
  const json* digest = in.get("trace_digest");
  const json* coverage = in.get("coverage");
  const json* failed = in.get("failed_seeds");
  if (!in.ok()) {
    out.error = in.error();
    return out;
  }
  Reader dg(*digest, "trace_digest.");
  r.digest.sum = dg.hex("sum");
  r.digest.count = dg.u64("count");
  if (!dg.ok()) {
    out.error = dg.error();
    return out;
  }
  if (!coverage->is_object()) {
    out.error = "key 'coverage' must be an object of counts";
    return out;
  }
  for (const auto& [point, n] : coverage->items()) {
    if (!(n.is_number_unsigned() || (n.is_number_integer() && n.get<int64_t>() >= 0))) {
      out.error = "key 'coverage." + point + "' must be a non-negative integer";
      return out;
    }
    r.coverage[point] = n.get<uint64_t>();
  }
  if (r.seeds.first >= r.seeds.last) {
    out.error = "the seed range " + to_string(r.seeds) + " is empty";
    return out;
  }
  if (r.runs > r.seeds.size() || r.digest.count != r.runs) {
    out.error = "runs " + std::to_string(r.runs) + " and trace_digest.count " +
                std::to_string(r.digest.count) + " do not fit the seed range " + to_string(r.seeds);
    return out;
  }
  if (std::string e = read_failures(*failed, r); !e.empty()) {
    out.error = e;
    return out;
  }
  if (doc.contains("groups")) {  // optional: reports of runs with replica groups
    Reader g(doc.at("groups"), "groups.");
    r.runs_with_group_stopped = g.u64("runs_with_group_stopped");
    r.longest_outage = static_cast<Duration>(g.u64("longest_outage_ns"));
    r.longest_outage_seed = g.u64("longest_outage_seed");
    if (!g.ok()) {
      out.error = g.error();
      return out;
    }
  }
  if (failures != r.failures.size()) {
    out.error = "key 'failures' is " + std::to_string(failures) + " but 'failed_seeds' lists " +
                std::to_string(r.failures.size());
    return out;
  }
  out.report = std::move(r);
  return out;
}

ExploreReportLoad load_explore_report(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {std::nullopt, "cannot read '" + path + "'"};
  std::stringstream ss;
  ss << in.rdbuf();
  json doc = json::parse(ss.str(), nullptr, false);
  if (doc.is_discarded())
    return {std::nullopt, "'" + path + "' is not valid JSON (truncated or damaged?)"};
  ExploreReportLoad l = explore_report_from_json(doc);
  if (!l.report) l.error = "'" + path + "': " + l.error;
  return l;
}

}  // namespace ws
