// Fuzz target: the HTTP API's request parsing and validation
// (net/api.cc, parse_api_request), the code every client byte reaches first.
//
// Input: a request body POSTed to /v1/wallet/balance_transfer; or, when the
// input starts with an upper-case method, a space and '/', a request line
// "METHOD TARGET" up to the first '\n' and the body after it (this reaches
// the balance query's percent-decoding and the status path's id parser).
// The wallet has accounts acct-0..acct-99 and USD, JPY, KWD (2, 0, 3 minor
// digits).
//
// Asserts, beyond "does not crash":
//  - a rejection is a 4xx with a non-empty error code and message, and
//    error_body() is JSON that carries both back (bytes of the message
//    that are not UTF-8 replaced by U+FFFD);
//  - an accepted transfer came from a JSON object with exactly the five
//    string fields, and the engine request holds them: the id parses to the
//    call's id and prints back to the same UUID; the amount is positive,
//    printing it canonically and parsing that gives the same minor units,
//    and the text is at most that long; both accounts exist, differ and
//    print back as the text they came from; the currency is configured;
//  - an accepted balance query names an existing account and a configured
//    currency; an accepted status query's id prints back as the path's text.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>

#include "core/money.h"
#include "core/txid.h"
#include "fuzz/check.h"
#include "net/api.h"

namespace {

using ws::net::ApiCall;
using ws::net::ApiError;

const ws::ClusterConfig& config() {
  static const ws::ClusterConfig cfg = [] {
    ws::ClusterConfig c;
    c.partitions = 2;
    c.coordinators = 2;
    c.clients = 2;
    c.accounts = 100;
    for (const char* code : {"USD", "JPY", "KWD"}) {
      c.currencies.push_back(*ws::find_currency(code));
      c.initial_balance.push_back(ws::Amount{100000});
    }
    c.finalize();
    return c;
  }();
  return cfg;
}

struct Request {
  std::string_view method = "POST";
  std::string_view target = "/v1/wallet/balance_transfer";
  std::string_view body;
};

Request split(std::string_view in) {
  Request r;
  r.body = in;
  size_t sp = in.find(' ');
  if (sp == 0 || sp == std::string_view::npos || sp + 1 >= in.size() || in[sp + 1] != '/') return r;
  for (size_t i = 0; i < sp; ++i)
    if (in[i] < 'A' || in[i] > 'Z') return r;
  size_t nl = in.find('\n');
  if (nl != std::string_view::npos && nl < sp) return r;
  r.method = in.substr(0, sp);
  r.target = in.substr(sp + 1, nl == std::string_view::npos ? std::string_view::npos : nl - sp - 1);
  r.body = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  return r;
}

void check_error(const ApiError& e) {
  FUZZ_CHECK(e.status >= 400 && e.status < 500);
  FUZZ_CHECK(!e.error.empty());
  FUZZ_CHECK(!e.message.empty());
  nlohmann::json j = nlohmann::json::parse(ws::net::error_body(e), nullptr, false);
  FUZZ_CHECK(j.is_object());
  FUZZ_CHECK(j.value("error", "") == e.error);
  const auto replaced =
      nlohmann::json(e.message).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  FUZZ_CHECK(j.value("message", "") == nlohmann::json::parse(replaced).get<std::string>());
}

std::string field(const nlohmann::json& j, const char* key) {
  FUZZ_CHECK(j.contains(key) && j[key].is_string());
  return j[key].get<std::string>();
}

void check_transfer(const ws::net::TransferCall& call, std::string_view body) {
  const ws::ClusterConfig& cfg = config();
  // The body was valid: a JSON object of exactly the five string fields.
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  FUZZ_CHECK(j.is_object() && j.size() == 5);
  const ws::Message& m = call.request;
  FUZZ_CHECK(m.kind == ws::MsgKind::kTransferRequest);
  FUZZ_CHECK(m.tx == call.tx);
  FUZZ_CHECK(!m.text.overlong);

  const std::string txid = field(j, "transaction_id");
  FUZZ_CHECK(ws::get_text(m.text.txid) == txid);
  ws::TxIdParse id = ws::parse_txid(txid);
  FUZZ_CHECK(id.id && *id.id == call.tx);
  std::string lower = txid;
  for (char& c : lower) c = (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
  FUZZ_CHECK(ws::format_txid(call.tx) == lower);

  const std::string currency = field(j, "currency");
  FUZZ_CHECK(ws::get_text(m.text.currency) == currency);
  const ws::CurrencyInfo* info = nullptr;
  for (const ws::CurrencyInfo& c : cfg.currencies)
    if (currency == c.code) info = &c;
  FUZZ_CHECK(info != nullptr);

  const std::string amount = field(j, "amount");
  FUZZ_CHECK(ws::get_text(m.text.amount) == amount);
  ws::AmountParse a = ws::parse_amount(amount, *info);
  FUZZ_CHECK(a.amount && a.amount->minor > 0 && a.amount->minor <= ws::kMaxAmountMinor);
  const std::string canonical = ws::format_amount(*a.amount, *info);
  ws::AmountParse again = ws::parse_amount(canonical, *info);
  FUZZ_CHECK(again.amount && *again.amount == *a.amount);
  FUZZ_CHECK(amount.size() <= canonical.size());

  FUZZ_CHECK(m.text.from < cfg.accounts && m.text.to < cfg.accounts && m.text.from != m.text.to);
  FUZZ_CHECK(field(j, "from_account") == "acct-" + std::to_string(m.text.from));
  FUZZ_CHECK(field(j, "to_account") == "acct-" + std::to_string(m.text.to));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const Request r = split(in);
  const ws::ClusterConfig& cfg = config();
  ApiCall call = ws::net::parse_api_request(r.method, r.target, r.body, cfg);
  if (const auto* e = std::get_if<ApiError>(&call)) {
    check_error(*e);
  } else if (const auto* t = std::get_if<ws::net::TransferCall>(&call)) {
    check_transfer(*t, r.body);
  } else if (const auto* b = std::get_if<ws::net::BalanceCall>(&call)) {
    FUZZ_CHECK(b->account < cfg.accounts && b->currency < cfg.currencies.size());
  } else if (const auto* s = std::get_if<ws::net::StatusCall>(&call)) {
    std::string_view path = r.target.substr(r.target.rfind('/') + 1);
    std::string lower(path);
    for (char& c : lower) c = (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
    FUZZ_CHECK(ws::format_txid(s->tx) == lower);
  }
  return 0;
}
