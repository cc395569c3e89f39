// Transaction ids: RFC 4122 UUIDs, the dedup key of a transfer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ws {

struct TxId {
  uint64_t hi = 0;
  uint64_t lo = 0;
  friend bool operator==(TxId, TxId) = default;
  friend auto operator<=>(TxId, TxId) = default;
  bool is_nil() const { return hi == 0 && lo == 0; }
};

struct TxIdParse {
  std::optional<TxId> id;
  std::string error;  // names what is wrong when id is empty
};

// Strict RFC 4122 text form: 8-4-4-4-12 hex digits (either case), version
// nibble 1..5, variant bits 10xx. The nil UUID is rejected: it cannot be a
// dedup key. "01589980-2434-33dx-1532-1423gb420530" fails (non-hex 'x', 'g').
TxIdParse parse_txid(std::string_view text);

// Lower-case canonical text, 36 characters.
std::string format_txid(TxId id);
// The same text appended to out (no allocation once out has room).
void append_txid(std::string& out, TxId id);

// Builds a version-4, variant-1 UUID from 128 random bits.
TxId make_v4_txid(uint64_t r1, uint64_t r2);

struct TxIdHash {
  size_t operator()(TxId id) const;  // fixed mixing, not std::hash
};

}  // namespace ws
