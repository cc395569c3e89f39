#include "net/api.h"

#include <cmath>
#include <iterator>
#include <optional>

#include <nlohmann/json.hpp>

#include "core/text.h"

namespace ws::net {
namespace {

using nlohmann::json;

constexpr std::string_view kTransferPath = "/v1/wallet/balance_transfer";
constexpr std::string_view kBalancePath = "/v1/wallet/balance";
constexpr std::string_view kTxPrefix = "/v1/wallet/transaction/";
constexpr const char* kTransferFields[] = {"transaction_id", "from_account", "to_account", "amount",
                                           "currency"};

ApiError err(unsigned status, std::string code, std::string message) {
  return ApiError{status, std::move(code), std::move(message)};
}

ApiError wrong_method(std::string_view method, std::string_view path, const char* allowed) {
  return err(405, "method_not_allowed",
             std::string(method) + " is not allowed on " + std::string(path) + "; use " + allowed);
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size() || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) return std::nullopt;
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::optional<CurrencyIdx> find_configured(std::string_view code, const ClusterConfig& cfg) {
  for (size_t i = 0; i < cfg.currencies.size(); ++i)
    if (code == cfg.currencies[i].code) return static_cast<CurrencyIdx>(i);
  return std::nullopt;
}

ApiError currency_error(std::string_view code, const ClusterConfig& cfg, const char* where) {
  std::string configured;
  for (const CurrencyInfo& c : cfg.currencies) configured += (configured.empty() ? "" : ", ") + std::string(c.code);
  std::string what = find_currency(code) ? " is not a currency of this wallet"
                                         : " is not an ISO 4217 currency code";
  return err(400, "unknown_currency",
             std::string(where) + ": " + quote_input(code) + what + " (configured: " + configured + ")");
}

// The transfer body read as a stream of JSON events (nlohmann's SAX
// interface), without building a document: the five fields land in their
// slots, anything else is noted for the error it deserves. It answers as a
// document parse would: the same JSON errors, the first unknown field in
// key order, a repeated field's last value.
class TransferFields {
 public:
  static constexpr size_t kCount = std::size(kTransferFields);
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  bool null() { return value("null"); }
  bool boolean(bool) { return value("boolean"); }
  bool number_integer(number_integer_t) { return value("number"); }
  bool number_unsigned(number_unsigned_t) { return value("number"); }
  bool number_float(number_float_t v, const string_t& text) {
    if (!std::isfinite(v)) {  // what a document parse throws (out_of_range.406) for 1e999
      error = "number overflow parsing '" + text + "'";
      return false;
    }
    return value("number");
  }
  bool binary(binary_t&) { return value("binary"); }
  bool string(string_t& v) {
    if (depth == 1 && field >= 0) {
      text[field] = std::move(v);
      is_string[field] = true;
    }
    return value("string");
  }
  bool start_object(size_t) {
    if (depth == 0) top_is_object = true;
    if (depth > 0) value("object");
    ++depth;
    return true;
  }
  bool end_object() { return --depth, true; }
  bool start_array(size_t) {
    if (depth > 0) value("array");
    ++depth;
    return true;
  }
  bool end_array() { return --depth, true; }
  bool key(string_t& k) {
    if (depth != 1) return true;
    field = -1;
    for (size_t i = 0; i < kCount; ++i)
      if (k == kTransferFields[i]) field = static_cast<int>(i);
    if (field < 0 && (!unknown || k < *unknown)) unknown = k;
    return true;
  }
  bool parse_error(size_t, const std::string&, const nlohmann::detail::exception& e) {
    error = e.what();
    return false;
  }

  // A field's value at the top level: its type, for the error a non-string gets.
  bool value(const char* type) {
    if (depth == 1 && field >= 0) {
      seen[field] = true;
      is_string[field] = std::string_view(type) == "string";
      type_name[field] = type;
    }
    return true;
  }

  int depth = 0;
  int field = -1;
  bool top_is_object = false;
  std::optional<std::string> unknown;
  std::string error;
  std::string text[kCount];
  bool seen[kCount] = {};
  bool is_string[kCount] = {};
  const char* type_name[kCount] = {};
};

ApiCall parse_transfer(std::string_view body, const ClusterConfig& cfg) {
  if (body.size() > kMaxBodyBytes)
    return err(413, "body_too_large", "request body is " + std::to_string(body.size()) +
                                          " bytes; the limit is " + std::to_string(kMaxBodyBytes));
  TransferFields f;
  if (!json::sax_parse(body, &f))
    return err(400, "malformed_json", "request body is not valid JSON: " + f.error);
  if (!f.top_is_object) return err(400, "malformed_json", "request body must be a JSON object");
  if (f.unknown) return err(400, "unknown_field", "unknown field " + quote_input(*f.unknown));
  for (size_t i = 0; i < TransferFields::kCount; ++i) {
    const std::string name = kTransferFields[i];
    if (!f.seen[i]) return err(400, "missing_field", "missing field \"" + name + "\"");
    if (!f.is_string[i])
      return err(400, "wrong_type", "field \"" + name + "\" must be a string, got " + f.type_name[i] +
                                        (name == "amount" ? " (amounts are decimal strings, never numbers)" : ""));
  }
  const std::string &txid = f.text[0], &from = f.text[1], &to = f.text[2], &amount = f.text[3], &currency = f.text[4];
  TxIdParse id = parse_txid(txid);
  if (!id.id) return err(400, "bad_transaction_id", id.error);  // names transaction_id
  auto cur = find_configured(currency, cfg);
  if (!cur) return currency_error(currency, cfg, "currency");
  AmountParse a = parse_amount(amount, cfg.currencies[*cur]);
  if (!a.amount) return err(400, "bad_amount", a.error);  // names the amount
  if (a.amount->minor == 0) return err(400, "bad_amount", "amount: must be greater than zero");
  auto fa = parse_account_name(from, cfg.accounts);
  if (!fa) return err(404, "unknown_account", "from_account: no account " + quote_input(from));
  auto ta = parse_account_name(to, cfg.accounts);
  if (!ta) return err(404, "unknown_account", "to_account: no account " + quote_input(to));
  if (*fa == *ta)
    return err(400, "same_account", "from_account and to_account are both " + quote_input(from));
  TransferCall call;
  call.tx = *id.id;
  Message& m = call.request;
  m = Message{};
  m.kind = MsgKind::kTransferRequest;
  m.tx = *id.id;
  bool fits = set_text(m.text.txid, txid);
  fits &= set_text(m.text.amount, amount);
  fits &= set_text(m.text.currency, currency);
  if (!fits) return err(400, "field_too_long", "a field is longer than the engine accepts");
  m.text.overlong = false;
  m.text.from = *fa;
  m.text.to = *ta;
  return call;
}

ApiCall parse_balance(std::string_view query, const ClusterConfig& cfg) {
  std::optional<std::string> account, currency;
  size_t pos = 0;
  while (pos <= query.size() && !query.empty()) {
    size_t amp = query.find('&', pos);
    std::string_view part = query.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    pos = amp == std::string_view::npos ? query.size() + 1 : amp + 1;
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string_view key = part.substr(0, eq);
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1));
    if (!value) return err(400, "bad_query", "query parameter " + quote_input(key) + " is not valid percent-encoding");
    std::optional<std::string>* slot = key == "account" ? &account : key == "currency" ? &currency : nullptr;
    if (!slot) return err(400, "unknown_parameter", "unknown query parameter " + quote_input(key) + " (expected account and currency)");
    if (*slot) return err(400, "duplicate_parameter", "query parameter " + quote_input(key) + " given twice");
    *slot = *value;
  }
  if (!account) return err(400, "missing_parameter", "missing query parameter \"account\"");
  if (!currency) return err(400, "missing_parameter", "missing query parameter \"currency\"");
  auto a = parse_account_name(*account, cfg.accounts);
  if (!a) return err(404, "unknown_account", "account: no account " + quote_input(*account));
  auto c = find_configured(*currency, cfg);
  if (!c) return currency_error(*currency, cfg, "currency");
  return BalanceCall{*a, *c};
}

}  // namespace

std::optional<AccountId> parse_account_name(std::string_view name, uint32_t accounts) {
  constexpr std::string_view kPrefix = "acct-";
  if (name.size() <= kPrefix.size() || name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view digits = name.substr(kPrefix.size());
  if (digits.size() > 10 || (digits.size() > 1 && digits[0] == '0')) return std::nullopt;
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v >= accounts) return std::nullopt;
  return static_cast<AccountId>(v);
}

ApiCall parse_api_request(std::string_view method, std::string_view target, std::string_view body,
                          const ClusterConfig& cfg) {
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  bool has_query = q != std::string_view::npos;
  if (path == kTransferPath) {
    if (method != "POST") return wrong_method(method, path, "POST");
    if (has_query) return err(400, "unknown_parameter", std::string(path) + " takes no query parameters");
    return parse_transfer(body, cfg);
  }
  if (path == kBalancePath) {
    if (method != "GET") return wrong_method(method, path, "GET");
    return parse_balance(query, cfg);
  }
  if (path.size() > kTxPrefix.size() && path.substr(0, kTxPrefix.size()) == kTxPrefix) {
    if (method != "GET") return wrong_method(method, path, "GET");
    if (has_query) return err(400, "unknown_parameter", "transaction status takes no query parameters");
    std::string_view text = path.substr(kTxPrefix.size());
    TxIdParse id = parse_txid(text);
    if (!id.id) return err(400, "bad_transaction_id", "transaction id in path: " + id.error);
    return StatusCall{*id.id};
  }
  if (path == "/metrics") {
    if (method != "GET") return wrong_method(method, path, "GET");
    return MetricsCall{};
  }
  if (path == "/healthz") {
    if (method != "GET") return wrong_method(method, path, "GET");
    return HealthCall{};
  }
  return err(404, "not_found",
             "no such endpoint " + quote_input(path) +
                 " (POST /v1/wallet/balance_transfer, GET /v1/wallet/balance, GET "
                 "/v1/wallet/transaction/{id}, GET /metrics)");
}

std::string error_body(const ApiError& e) {
  json j = {{"error", e.error}, {"message", e.message}};
  // Messages can quote request bytes that are not UTF-8 (the JSON parser's
  // error shows what it read): replace them rather than throw, which would
  // end the whole process.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string outcome_body(const Message& reply, const TxId& tx, unsigned& status) {
  std::string out;
  write_outcome_body(reply, tx, status, out);
  return out;
}

void write_outcome_body(const Message& reply, const TxId& tx, unsigned& status, std::string& out) {
  out.clear();
  if (reply.outcome == Outcome::kSuccess) {
    // The common answer, written directly; same JSON as below.
    status = 200;
    out += "{\"status\":\"success\",\"transaction_id\":\"";
    append_txid(out, tx);
    out += "\"}";
    return;
  }
  json j;
  j["transaction_id"] = format_txid(tx);
  switch (reply.outcome) {
    case Outcome::kSuccess:
      status = 200;
      j["status"] = "success";
      break;
    case Outcome::kFailed:
      status = 200;
      j["status"] = "failed";
      j["reason"] = to_string(reply.reason);
      break;
    case Outcome::kInProgress:
      status = 200;
      j["status"] = "in_progress";
      break;
    case Outcome::kRejected:
    case Outcome::kNone:
      // Requests are validated before they reach the engine, so what is
      // left is a reused id (or a routing mismatch between configs).
      status = reply.reason == Reason::kTxIdReused ? 409 : 400;
      j["status"] = "rejected";
      j["error"] = to_string(reply.reason);
      j["message"] = reply.reason == Reason::kTxIdReused
                         ? "transaction_id was already used for a transfer with different content"
                         : std::string("rejected by the coordinator: ") + to_string(reply.reason);
      break;
  }
  out = j.dump();
}

}  // namespace ws::net
