#include "core/events.h"

#include "core/le.h"

namespace ws {

void put_u64(std::vector<uint8_t>& out, uint64_t v) { append_le64(out, v); }

uint64_t get_u64(std::span<const uint8_t> in, size_t& pos, bool& ok) {
  if (in.size() < pos + 8) {
    ok = false;
    return 0;
  }
  const uint64_t v = load_le64(in.data() + pos);
  pos += 8;
  return v;
}

void encode_event(const Event& e, std::vector<uint8_t>& out) {
  const size_t at = out.size();
  out.resize(at + kEventSize);
  encode_event(e, out.data() + at);
}

void encode_event(const Event& e, uint8_t* p) {
  p[0] = static_cast<uint8_t>(e.type);
  p[1] = static_cast<uint8_t>(e.leg);
  p[2] = static_cast<uint8_t>(e.effect);
  p[3] = e.currency;
  p[4] = e.flag;
  p[5] = static_cast<uint8_t>(e.reason);
  p[6] = static_cast<uint8_t>(e.origin);
  p[7] = static_cast<uint8_t>(e.origin >> 8);
  store_le64(p + 8, e.tx.hi);
  store_le64(p + 16, e.tx.lo);
  store_le64(p + 24, e.account);
  store_le64(p + 32, e.account2);
  store_le64(p + 40, static_cast<uint64_t>(e.amount.minor));
  store_le64(p + 48, e.seq);
}

std::optional<Event> decode_event(std::span<const uint8_t> in) {
  if (in.size() < kEventSize) return std::nullopt;
  Event e;
  const uint8_t t = in[0];
  if (!((t >= 1 && t <= 9) || (t >= 16 && t <= 21))) return std::nullopt;  // unknown event type
  e.type = static_cast<EventType>(t);
  // Bytes no encoder writes (an account above 32 bits) make the event
  // malformed; they are never ignored or cut to fit.
  if (in[1] > 1 || in[2] > 5) return std::nullopt;
  e.origin = static_cast<uint16_t>(in[6] | in[7] << 8);
  e.leg = static_cast<Leg>(in[1]);
  e.effect = static_cast<Effect>(in[2]);
  e.currency = in[3];
  e.flag = in[4];
  e.reason = static_cast<Reason>(in[5]);
  // Six words at bytes 8..55, inside the kEventSize checked above.
  const uint8_t* w = in.data() + 8;
  e.tx.hi = load_le64(w);
  e.tx.lo = load_le64(w + 8);
  const uint64_t account = load_le64(w + 16);
  const uint64_t account2 = load_le64(w + 24);
  e.amount.minor = static_cast<int64_t>(load_le64(w + 32));
  e.seq = load_le64(w + 40);
  static_assert(kEventSize >= 8 + 6 * 8);
  // No amount is above kMaxAmountMinor (core/money.h); a larger one would
  // overflow the sums rebuilt from the log.
  if (e.amount.minor < 0 || e.amount.minor > kMaxAmountMinor || account > UINT32_MAX ||
      account2 > UINT32_MAX)
    return std::nullopt;
  e.account = static_cast<AccountId>(account);
  e.account2 = static_cast<AccountId>(account2);
  return e;
}

}  // namespace ws
