#include "properties/shrink.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace ws {

std::string ShrinkSize::to_string() const {
  std::string phase;
  if (fault_phase_ns % kMillisecond == 0) {
    phase = std::to_string(fault_phase_ns / kMillisecond) + "ms";
  } else {
    phase = std::to_string(fault_phase_ns) + "ns";
  }
  return "requests=" + std::to_string(requests) + " accounts=" + std::to_string(accounts) +
         " crashes=" + std::to_string(crashes) + " partitions=" + std::to_string(partitions) +
         " clocks=" + std::to_string(clocks) + " network_faults=" + std::to_string(network_faults) +
         " fault_phase=" + phase;
}

ShrinkSize size_of(const RunSpec& spec) {
  ShrinkSize s;
  s.requests = spec.workload.requests.size();
  s.accounts = spec.scenario.sim.cluster.accounts;
  s.crashes = spec.plan.crashes.size();
  s.partitions = spec.plan.partitions.size();
  s.clocks = spec.plan.clocks.size();
  s.network_faults = (spec.plan.faulty.drop_ppm != 0) + (spec.plan.faulty.duplicate_ppm != 0) +
                     (spec.plan.faulty.tail_ppm != 0);
  s.fault_phase_ns = spec.scenario.sim.fault_phase;
  return s;
}

namespace {

using Keep = std::vector<size_t>;  // indices kept, ascending

// Tries a candidate given by the indices it keeps. Returns the indices the
// candidate really kept (dependent elements may go too) if it still fails.
using TryKeep = std::function<std::optional<Keep>(const Keep&)>;

// n chunks of c, as even as possible, in order.
std::vector<Keep> split(const Keep& c, size_t n) {
  std::vector<Keep> out;
  size_t start = 0;
  for (size_t i = 0; i < n; ++i) {
    size_t end = start + (c.size() - start) / (n - i);
    out.emplace_back(c.begin() + static_cast<ptrdiff_t>(start), c.begin() + static_cast<ptrdiff_t>(end));
    start = end;
  }
  return out;
}

Keep minus(const Keep& c, const Keep& chunk) {
  Keep out;
  std::set_difference(c.begin(), c.end(), chunk.begin(), chunk.end(), std::back_inserter(out));
  return out;
}

// Zeller's ddmin (subsets, then complements, then finer granularity), after
// first trying the empty configuration. Ends 1-minimal unless `spent` says
// the budget ran out.
Keep ddmin(Keep c, const TryKeep& try_keep, const std::function<bool()>& spent) {
  if (c.empty()) return c;
  if (auto r = try_keep({})) return *r;
  size_t n = 2;
  while (c.size() >= 2 && !spent()) {
    n = std::min(n, c.size());
    std::vector<Keep> chunks = split(c, n);
    bool reduced = false;
    for (const Keep& chunk : chunks) {
      if (auto r = try_keep(chunk)) {
        c = *r;
        n = 2;
        reduced = true;
        break;
      }
      if (spent()) return c;
    }
    if (!reduced && n > 2) {
      for (const Keep& chunk : chunks) {
        if (auto r = try_keep(minus(c, chunk))) {
          c = *r;
          n = std::max<size_t>(n - 1, 2);
          reduced = true;
          break;
        }
        if (spent()) return c;
      }
    }
    if (!reduced) {
      if (n >= c.size()) break;
      n = std::min(2 * n, c.size());
    }
  }
  return c;
}

Keep all_of(size_t n) {
  Keep k(n);
  for (size_t i = 0; i < n; ++i) k[i] = i;
  return k;
}

template <class T>
std::vector<T> pick(const std::vector<T>& v, const Keep& keep) {
  std::vector<T> out;
  out.reserve(keep.size());
  for (size_t i : keep) out.push_back(v[i]);
  return out;
}

// The requests of `keep` that can stay: a reuse whose original is gone goes too.
Keep close_requests(const std::vector<PlannedRequest>& reqs, const Keep& keep) {
  std::vector<char> in(reqs.size(), 0);
  for (size_t i : keep) in[i] = 1;
  Keep out;
  for (size_t i : keep) {  // ascending, and reuse_of < i, so chains resolve
    const PlannedRequest& r = reqs[i];
    if (r.kind == RequestKind::kReuse && r.reuse_of >= 0 &&
        (static_cast<size_t>(r.reuse_of) >= reqs.size() || !in[static_cast<size_t>(r.reuse_of)])) {
      in[i] = 0;
      continue;
    }
    out.push_back(i);
  }
  return out;
}

// The kept requests (already closed), with reuse_of renumbered.
std::vector<PlannedRequest> build_requests(const std::vector<PlannedRequest>& reqs, const Keep& keep) {
  std::vector<int32_t> renum(reqs.size(), -1);
  for (size_t j = 0; j < keep.size(); ++j) renum[keep[j]] = static_cast<int32_t>(j);
  std::vector<PlannedRequest> out;
  out.reserve(keep.size());
  for (size_t i : keep) {
    PlannedRequest r = reqs[i];
    if (r.reuse_of >= 0)
      r.reuse_of = static_cast<size_t>(r.reuse_of) < reqs.size() ? renum[static_cast<size_t>(r.reuse_of)] : -1;
    out.push_back(std::move(r));
  }
  return out;
}

class Shrinker {
 public:
  Shrinker(Property property, const ShrinkOptions& options, const RunOptions& base)
      : property_(property), options_(options), run_opts_(base) {
    run_opts_.stop_at_first = true;
    run_opts_.trace = nullptr;
    run_opts_.records = nullptr;
    run_opts_.check_determinism = property == Property::kDeterminism;
  }

  bool spent() const { return runs_ >= options_.max_runs; }

  // Runs the candidate (its result in *out); true if it fails with the property.
  bool fails(const RunSpec& candidate, RunResult* out) {
    if (spent()) return false;
    ++runs_;
    *out = run_spec(candidate, run_opts_);
    return !out->violations.empty() && out->violations.front().property == property_;
  }

  // Adopts the candidate if it still fails.
  bool attempt(RunSpec candidate) {
    RunResult r;
    if (!fails(candidate, &r)) return false;
    spec_ = std::move(candidate);
    result_ = std::move(r);
    return true;
  }

  void say(const std::string& line) const {
    if (options_.progress) options_.progress(line);
  }

  bool shrink_requests() {
    const std::vector<PlannedRequest> reqs = spec_.workload.requests;
    std::set<Keep> passed;  // candidates that did not fail, by effective indices
    TryKeep try_keep = [&](const Keep& keep) -> std::optional<Keep> {
      Keep eff = close_requests(reqs, keep);
      if (passed.count(eff)) return std::nullopt;
      RunSpec cand = spec_;
      cand.workload.requests = build_requests(reqs, eff);
      if (spent() || !attempt(std::move(cand))) {
        if (!spent()) passed.insert(eff);
        return std::nullopt;
      }
      // spec_ now holds the candidate; later candidates are still built from
      // `reqs` by index, which is what ddmin's indices refer to.
      return eff;
    };
    Keep kept = ddmin(close_requests(reqs, all_of(reqs.size())), try_keep, [&] { return spent(); });
    // spec_ holds the last candidate that failed, the one with `kept`.
    bool changed = kept.size() != reqs.size() && spec_.workload.requests.size() != reqs.size();
    // Single-element pass: send each remaining duplicate only once.
    for (size_t i = 0; i < spec_.workload.requests.size() && !spent(); ++i) {
      if (!spec_.workload.requests[i].duplicate) continue;
      RunSpec cand = spec_;
      cand.workload.requests[i].duplicate = false;
      changed |= attempt(std::move(cand));
    }
    return changed;
  }

  template <class T>
  bool shrink_list(std::vector<T> FaultPlan::*list) {
    const std::vector<T> items = spec_.plan.*list;
    std::set<Keep> passed;
    TryKeep try_keep = [&](const Keep& keep) -> std::optional<Keep> {
      if (passed.count(keep)) return std::nullopt;
      RunSpec cand = spec_;
      cand.plan.*list = pick(items, keep);
      if (spent() || !attempt(std::move(cand))) {
        if (!spent()) passed.insert(keep);
        return std::nullopt;
      }
      return keep;
    };
    Keep kept = ddmin(all_of(items.size()), try_keep, [&] { return spent(); });
    if (kept.size() == items.size()) return false;
    spec_.plan.*list = pick(items, kept);
    return true;
  }

  bool shrink_network() {
    bool changed = false;
    if (spec_.plan.faulty.drop_ppm != 0 && !spent()) {
      RunSpec cand = spec_;
      cand.plan.faulty.drop_ppm = 0;
      changed |= attempt(std::move(cand));
    }
    if (spec_.plan.faulty.duplicate_ppm != 0 && !spent()) {
      RunSpec cand = spec_;
      cand.plan.faulty.duplicate_ppm = 0;
      changed |= attempt(std::move(cand));
    }
    if ((spec_.plan.faulty.tail_ppm != 0 || spec_.plan.faulty.tail != 0) && !spent()) {
      RunSpec cand = spec_;
      cand.plan.faulty.tail_ppm = 0;
      cand.plan.faulty.tail = 0;
      changed |= attempt(std::move(cand));
    }
    return changed;
  }

  // The spec with `new_n` accounts and every request's account ids mapped by
  // `map`; unknown-account ids (>= the old count) stay as far beyond the new one.
  template <class Map>
  RunSpec with_accounts(uint32_t new_n, const Map& map) const {
    const uint32_t old_n = spec_.scenario.sim.cluster.accounts;
    auto remap = [&](AccountId a) -> AccountId { return a < old_n ? map(a) : new_n + (a - old_n); };
    RunSpec cand = spec_;
    for (PlannedRequest& r : cand.workload.requests) {
      r.from = remap(r.from);
      r.to = remap(r.to);
    }
    ClusterConfig& c = cand.scenario.sim.cluster;
    c.accounts = new_n;
    c.finalize();
    cand.scenario.doc["cluster"]["accounts"] = new_n;
    return cand;
  }

  // Fewer accounts: as many as the workload uses (at least 2), numbered
  // densely in order of first use. Renumbering moves accounts to other
  // partitions, so if that no longer fails, the same ids with the accounts
  // beyond the highest one used dropped.
  bool shrink_accounts() {
    const uint32_t old_n = spec_.scenario.sim.cluster.accounts;
    std::map<AccountId, AccountId> dense;
    AccountId highest = 0;
    auto use = [&](AccountId a) {
      if (a >= old_n) return;
      highest = std::max(highest, a);
      if (!dense.count(a)) {
        AccountId next = static_cast<AccountId>(dense.size());
        dense.emplace(a, next);
      }
    };
    for (const PlannedRequest& r : spec_.workload.requests) {
      use(r.from);
      use(r.to);
    }
    const uint32_t dense_n = std::max<uint32_t>(2, static_cast<uint32_t>(dense.size()));
    if (dense_n < old_n && !spent() &&
        attempt(with_accounts(dense_n, [&](AccountId a) { return dense.at(a); })))
      return true;
    const uint32_t kept_n = std::max<uint32_t>(2, highest + 1);
    if (kept_n < old_n && kept_n != dense_n && !spent())
      return attempt(with_accounts(kept_n, [](AccountId a) { return a; }));
    return false;
  }

  // The spec with the fault phase ending at `fault_ms` (whole milliseconds,
  // as the scenario stores it), the workload duration no longer than it, and
  // the crashes and partitions that would start after it gone.
  RunSpec with_fault_phase(int64_t fault_ms) const {
    const Time end = fault_ms * kMillisecond;
    RunSpec cand = spec_;
    nlohmann::json& doc = cand.scenario.doc;
    doc["phases"]["fault_ms"] = fault_ms;
    const int64_t duration_ms = std::min(doc["workload"]["duration_ms"].get<int64_t>(), fault_ms);
    doc["workload"]["duration_ms"] = duration_ms;
    cand.scenario.sim.fault_phase = end;
    cand.scenario.workload.duration = duration_ms * kMillisecond;
    std::erase_if(cand.plan.crashes, [&](const CrashFault& c) { return c.at >= end; });
    std::erase_if(cand.plan.partitions, [&](const PartitionFault& p) { return p.start >= end; });
    return cand;
  }

  // An earlier end of the fault phase: just after the last request starts (at
  // least 1 ms); if that no longer fails, the earliest failing end found by
  // bisection between it and the current end.
  bool shrink_fault_phase() {
    Time last = 0;
    for (const PlannedRequest& r : spec_.workload.requests) last = std::max(last, r.at);
    int64_t lo = last / kMillisecond + 1;
    int64_t hi = spec_.scenario.doc["phases"]["fault_ms"].get<int64_t>();
    if (lo >= hi || spent()) return false;
    if (attempt(with_fault_phase(lo))) return true;
    bool changed = false;
    while (hi - lo > 1 && !spent()) {  // lo does not fail, hi does
      int64_t mid = lo + (hi - lo) / 2;
      if (attempt(with_fault_phase(mid))) {
        hi = mid;
        changed = true;
      } else {
        lo = mid;
      }
    }
    return changed;
  }

  ShrinkResult run(const RunSpec& failing) {
    ShrinkResult out;
    out.before = size_of(failing);
    spec_ = failing;
    RunResult first;
    runs_ = 0;
    const size_t budget = options_.max_runs;
    options_.max_runs = std::max<size_t>(budget, 1);  // the first run always happens
    bool reproduced = fails(failing, &first);
    options_.max_runs = budget;
    if (!reproduced) {
      out.spec = failing;
      out.result = std::move(first);  // the verdict it did get
      out.after = out.before;
      out.runs = runs_;
      say("the input does not fail with " + std::string(to_string(property_)) + "; nothing to shrink");
      return out;
    }
    result_ = std::move(first);
    say("shrinking a " + std::string(to_string(property_)) + " failure: " + out.before.to_string());
    for (int round = 1; !spent(); ++round) {
      const std::string tag = "round " + std::to_string(round) + ": ";
      bool changed = false;
      auto step = [&](const char* what, bool did) {
        if (did) say(tag + what + " -> " + size_of(spec_).to_string() + " (" + std::to_string(runs_) + " runs)");
        changed |= did;
      };
      step("requests", shrink_requests());
      step("crashes", shrink_list(&FaultPlan::crashes));
      step("partitions", shrink_list(&FaultPlan::partitions));
      step("clocks", shrink_list(&FaultPlan::clocks));
      step("network", shrink_network());
      step("accounts", shrink_accounts());
      step("fault phase", shrink_fault_phase());
      if (!changed) break;
    }
    if (spent()) say("stopped: the budget of " + std::to_string(options_.max_runs) + " runs is spent");
    // The final check: the result is that of a run of exactly this spec.
    RunResult final_run = run_spec(spec_, run_opts_);
    ++runs_;
    if (!final_run.violations.empty() && final_run.violations.front().property == property_) {
      result_ = std::move(final_run);
    } else {
      say("warning: the shrunk spec did not fail again on its final run (is the engine nondeterministic?)");
    }
    out.spec = spec_;
    out.result = result_;
    out.after = size_of(spec_);
    out.runs = runs_;
    out.reproduced = true;
    say("shrunk: " + out.before.to_string() + " -> " + out.after.to_string() + " in " + std::to_string(runs_) +
        " runs");
    return out;
  }

 private:
  Property property_;
  ShrinkOptions options_;
  RunOptions run_opts_;
  size_t runs_ = 0;
  RunSpec spec_;
  RunResult result_;
};

}  // namespace

ShrinkResult shrink(const RunSpec& failing, Property property, const ShrinkOptions& options,
                    const RunOptions& base) {
  Shrinker s(property, options, base);
  return s.run(failing);
}

}  // namespace ws
