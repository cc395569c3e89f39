#include "sim/workload.h"

#include <algorithm>

#include "sim/rng.h"

namespace ws {
namespace {

// Accounts of each non-empty partition, for drawing by partition.
using AccountsByPartition = std::vector<std::vector<AccountId>>;

AccountId pick_account(Xoshiro& rng, const ClusterConfig& c, const WorkloadParams& p,
                       const AccountsByPartition& by_partition) {
  if (p.hot_accounts > 0 && rng.chance_ppm(p.hot_ppm))
    return static_cast<AccountId>(rng.below(std::min(p.hot_accounts, c.accounts)));
  if (!by_partition.empty()) {
    const auto& on = by_partition[rng.below(by_partition.size())];
    return on[rng.below(on.size())];
  }
  return static_cast<AccountId>(rng.below(c.accounts));
}

// Valid amounts are sometimes written in a shorter, still valid form: any
// number of trailing fractional zeros dropped ("12.5" or "12.50" for 12.50;
// "3", "3.0" or "3.00" for 3.00), so the coordinator's parser is exercised.
std::string amount_text(Xoshiro& rng, Xoshiro& extra, Amount a, const CurrencyInfo& cur) {
  std::string s = format_amount(a, cur);
  if (cur.minor_digits > 0 && rng.below(4) == 0) {
    size_t zeros = 0;
    while (zeros < cur.minor_digits && s[s.size() - 1 - zeros] == '0') ++zeros;
    if (zeros > 0) {
      size_t strip = 1 + static_cast<size_t>(extra.below(zeros));
      s.resize(s.size() - strip);
      if (strip == cur.minor_digits) s.pop_back();  // the '.'
    }
  }
  return s;
}

// An amount at an edge of what the engine must accept or refuse.
Amount edge_amount(Xoshiro& extra, const ClusterConfig& c, Projection& proj, const PlannedRequest& r,
                   CurrencyIdx ci, Amount usual) {
  const int64_t have = proj.at(r.from, ci);
  const int64_t limit = c.max_balance.empty() ? 0 : c.max_balance[ci].minor;
  const int64_t room = limit > 0 ? limit - proj.at(r.to, ci) : 0;
  switch (extra.below(limit > 0 ? 5 : 3)) {
    case 0: return have > 0 ? Amount{have} : usual;              // leaves exactly zero
    case 1: return Amount{std::min(have + 1, kMaxAmountMinor)};  // one minor unit short of funds
    case 2: return Amount{kMaxAmountMinor};                      // the largest amount allowed
    case 3: return room > 0 ? Amount{room} : usual;              // fills the receiver to its limit
    default: return Amount{std::min(room + 1, kMaxAmountMinor)}; // one unit past the limit
  }
}

void project(const ClusterConfig& c, Projection& proj, const PlannedRequest& r, CurrencyIdx ci, Amount a) {
  const int64_t limit = c.max_balance.empty() ? 0 : c.max_balance[ci].minor;
  if (a.minor <= 0 || a.minor > proj.at(r.from, ci)) return;
  if (limit > 0 && proj.at(r.to, ci) + a.minor > limit) return;
  proj.at(r.from, ci) -= a.minor;
  proj.at(r.to, ci) += a.minor;
}

// A reuse of r's transaction_id with different content: each field may
// change (from, to, amount, currency), alone or with others, so dedup that
// compares only some fields is caught.
PlannedRequest make_reuse(Xoshiro& rng, Xoshiro& extra, const ClusterConfig& c, const PlannedRequest& r,
                          CurrencyIdx ci, Amount a) {
  PlannedRequest q = r;
  q.kind = RequestKind::kReuse;
  q.duplicate = false;
  const uint64_t change = 1 + extra.below(15);  // bits: from, to, amount, currency
  bool changed = false;
  if ((change & 1) && c.accounts >= 3) {
    do q.from = static_cast<AccountId>(extra.below(c.accounts));
    while (q.from == r.from || q.from == q.to);
    changed = true;
  }
  if ((change & 2) && c.accounts >= 3) {
    do q.to = static_cast<AccountId>(extra.below(c.accounts));
    while (q.to == r.to || q.to == q.from);
    changed = true;
  }
  CurrencyIdx qc = ci;
  if ((change & 8) && c.currencies.size() > 1) {
    // The same number of minor units in another currency: only the currency differs.
    qc = static_cast<CurrencyIdx>((ci + 1 + extra.below(c.currencies.size() - 1)) % c.currencies.size());
    q.currency = c.currencies[qc].code;
    changed = true;
  }
  Amount qa = a;
  if ((change & 4) || !changed) qa.minor = a.minor < kMaxAmountMinor ? a.minor + 1 : a.minor - 1;
  q.amount = amount_text(rng, extra, qa, c.currencies[qc]);
  return q;
}

void make_invalid(Xoshiro& rng, const ClusterConfig& c, PlannedRequest& r) {
  // The last two are one minor unit past the largest amount (USD, JPY).
  static const char* kBadAmounts[] = {"-5", "1e3", "1.234", "", "abc", "+1", "0", " 1", "1.", ".5",
                                      "99999999999999999999", "01", "0.00", "00.5", "1.2.3", "5 ",
                                      "10000000000000.00", "1000000000000000", "1\x7f", "2\"", "3\\"};
  static const char* kBadCurrencies[] = {"XYZ", "usd", "US", "EURO"};
  // Non-hex digits, wrong length, nil, no dashes, version 6, variant 0xxx,
  // a shifted group, a control byte.
  static const char* kBadIds[] = {"01589980-2434-33dx-1532-1423gb420530", "not-a-uuid",
                                  "00000000-0000-0000-0000-000000000000",
                                  "01589980243433d015321423ab420530",
                                  "6f1c2a4e-8d3b-6c7a-9e2f-1b2c3d4e5f60",
                                  "6f1c2a4e-8d3b-4c7a-1e2f-1b2c3d4e5f60",
                                  "6f1c2a4e8-d3b-4c7a-9e2f-1b2c3d4e5f60",
                                  "6f1c2a4e-8d3b-4c7a-9e2f-1b2c3d4e5f6\x01"};
  switch (rng.below(5)) {
    case 0:
      r.kind = RequestKind::kBadAmount;
      r.amount = kBadAmounts[rng.below(std::size(kBadAmounts))];
      break;
    case 1:
      r.kind = RequestKind::kUnknownCurrency;
      r.currency = kBadCurrencies[rng.below(std::size(kBadCurrencies))];
      break;
    case 2:
      r.kind = RequestKind::kBadTxId;
      r.txid = kBadIds[rng.below(std::size(kBadIds))];
      break;
    case 3:
      r.kind = RequestKind::kSameAccount;
      r.to = r.from;
      break;
    default:
      r.kind = RequestKind::kUnknownAccount;
      if (rng.below(2) == 0) {
        r.to = c.accounts + static_cast<AccountId>(rng.below(100));
      } else {
        r.from = c.accounts + static_cast<AccountId>(rng.below(100));
      }
      break;
  }
}

}  // namespace

WorkloadGenerator::WorkloadGenerator(const ClusterConfig& c, const WorkloadParams& p, uint64_t seed)
    : c_(c), p_(p), rng_(seed, "workload"), extra_(seed, "workload.extra"), reads_(seed, "workload.reads") {
  if (p.by_partition) {
    AccountsByPartition all(c.partitions);
    for (AccountId a = 0; a < c.accounts; ++a) all[c.account_partition[a]].push_back(a);
    for (auto& v : all)
      if (!v.empty()) by_partition_.push_back(std::move(v));
  }
  // Draws added after the first format of the workload come from their own
  // stream (extra_), so the main stream (timing, accounts, amounts) stays as it was.
  proj_.currencies = c.currencies.size();
  proj_.balance.resize(size_t{c.accounts} * c.currencies.size());
  for (AccountId acct = 0; acct < c.accounts; ++acct)
    for (size_t k = 0; k < c.currencies.size(); ++k)
      proj_.at(acct, static_cast<CurrencyIdx>(k)) = c.initial_balance[k].minor;
}

// Start times are drawn one slot at a time: transfer i starts uniformly
// within [i, i+1] * duration / transfers, so they come out in order and the
// generator needs no memory of the ones before.
Time WorkloadGenerator::start_time(uint32_t i) {
  const auto slot = [&](uint64_t k) {
    return static_cast<Time>(static_cast<unsigned __int128>(static_cast<uint64_t>(p_.duration)) * k / p_.transfers);
  };
  const Time lo = slot(i), hi = slot(uint64_t{i} + 1);
  return p_.start + lo + static_cast<Time>(rng_.below(static_cast<uint64_t>(hi - lo) + 1));
}

bool WorkloadGenerator::next(PlannedRequest& out) {
  if (reuse_) {
    out = std::move(*reuse_);
    reuse_.reset();
    ++emitted_;
    return true;
  }
  if (read_) {
    out = std::move(*read_);
    read_.reset();
    ++emitted_;
    return true;
  }
  if (made_ >= p_.transfers) return false;
  const ClusterConfig& c = c_;
  PlannedRequest r;
  r.at = start_time(made_++);
  r.client = static_cast<uint32_t>(rng_.below(c.clients));
  CurrencyIdx ci = static_cast<CurrencyIdx>(rng_.below(c.currencies.size()));
  const CurrencyInfo& cur = c.currencies[ci];
  r.currency = cur.code;
  r.from = pick_account(rng_, c, p_, by_partition_);
  do {
    r.to = pick_account(rng_, c, p_, by_partition_);
  } while (r.to == r.from && c.accounts > 1);
  int64_t max_minor = std::max<int64_t>(1, c.initial_balance[ci].minor * p_.max_amount_pct / 100);
  Amount a{1 + static_cast<int64_t>(rng_.below(static_cast<uint64_t>(max_minor)))};
  if (extra_.chance_ppm(p_.edge_ppm)) a = edge_amount(extra_, c, proj_, r, ci, a);
  r.amount = amount_text(rng_, extra_, a, cur);
  // Two statements: the order of evaluation of function arguments is
  // unspecified, and g++ and clang++ differ (determinism rule).
  uint64_t id_hi = rng_.next_u64();
  uint64_t id_lo = rng_.next_u64();
  r.txid = format_txid(make_v4_txid(id_hi, id_lo));
  r.duplicate = rng_.chance_ppm(p_.duplicate_ppm);
  if (rng_.chance_ppm(p_.invalid_ppm)) make_invalid(rng_, c, r);
  if (r.kind == RequestKind::kValid) project(c, proj_, r, ci, a);
  if (r.kind == RequestKind::kValid && rng_.chance_ppm(p_.reuse_ppm)) {
    reuse_ = make_reuse(rng_, extra_, c, r, ci, a);
    reuse_->reuse_of = static_cast<int32_t>(emitted_);
  }
  if (p_.read_ppm > 0 && reads_.chance_ppm(p_.read_ppm)) {
    // Half the reads look at an account this transfer is about to move.
    PlannedRequest q;
    q.at = r.at;
    q.kind = RequestKind::kRead;
    q.client = static_cast<uint32_t>(reads_.below(c.clients));
    const bool mine = reads_.below(2) == 0;
    const AccountId pick = reads_.below(2) == 0 ? r.from : r.to;
    q.from = mine && pick < c.accounts ? pick : static_cast<AccountId>(reads_.below(c.accounts));
    q.currency = c.currencies[mine && r.currency == cur.code ? ci : reads_.below(c.currencies.size())].code;
    read_ = std::move(q);
  }
  out = std::move(r);
  ++emitted_;
  return true;
}

Workload generate_workload(const ClusterConfig& c, const WorkloadParams& p, uint64_t seed) {
  WorkloadGenerator g(c, p, seed);
  Workload w;
  w.requests.reserve(p.transfers + p.transfers / 8);
  for (PlannedRequest r; g.next(r);) w.requests.push_back(std::move(r));
  return w;
}

}  // namespace ws
