// The HTTP API's request parsing and validation, with no I/O: a method,
// target and body become either one engine call or an ApiError naming
// exactly what is wrong (docs/walletd.md lists every error). Bad requests
// never reach the engine and change nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/cluster.h"
#include "core/messages.h"

namespace ws::net {

constexpr size_t kMaxBodyBytes = 4096;

struct ApiError {
  unsigned status = 400;
  std::string error;    // machine-readable code, e.g. "bad_amount"
  std::string message;  // what is wrong, naming the field or parameter
};

struct TransferCall {
  TxId tx;
  Message request;  // a kTransferRequest ready for the owning coordinator
};
struct BalanceCall {
  AccountId account = 0;
  CurrencyIdx currency = 0;
};
struct StatusCall {
  TxId tx;
};
struct MetricsCall {};
struct HealthCall {};

using ApiCall = std::variant<ApiError, TransferCall, BalanceCall, StatusCall, MetricsCall, HealthCall>;

ApiCall parse_api_request(std::string_view method, std::string_view target, std::string_view body,
                          const ClusterConfig& cfg);

// "acct-<i>" with no leading zeros and i < accounts.
std::optional<AccountId> parse_account_name(std::string_view name, uint32_t accounts);

std::string error_body(const ApiError& e);
// The answer to a transfer or status query, from the coordinator's reply.
// Sets status to the HTTP status code it should go out with.
std::string outcome_body(const Message& reply, const TxId& tx, unsigned& status);
// The same answer written into out (replacing what it held): the common
// one, success, without allocating once out has room.
void write_outcome_body(const Message& reply, const TxId& tx, unsigned& status, std::string& out);

}  // namespace ws::net
