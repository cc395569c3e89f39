// HTTP request validation (net/api.h): every kind of bad request gets a 4xx
// whose error code and message name the problem, and a good one becomes the
// engine call it describes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "net/api.h"
#include "net/cluster_file.h"

namespace ws::net {
namespace {

const ClusterConfig& cfg() {
  static const ClusterSpec spec = local_cluster(2, 2, 100, 0);  // USD and EUR, acct-0..acct-99
  return spec.config;
}

constexpr const char* kPath = "/v1/wallet/balance_transfer";
constexpr const char* kId = "6f1c2a4e-8d3b-4c7a-9e2f-1b2c3d4e5f60";

std::string body(const std::string& txid, const std::string& from, const std::string& to,
                 const std::string& amount, const std::string& currency) {
  return "{\"transaction_id\":" + txid + ",\"from_account\":" + from + ",\"to_account\":" + to +
         ",\"amount\":" + amount + ",\"currency\":" + currency + "}";
}
std::string good_body() { return body("\"" + std::string(kId) + "\"", "\"acct-1\"", "\"acct-2\"", "\"12.50\"", "\"USD\""); }

struct BadCase {
  const char* name;
  std::string method, target, body;
  unsigned status;
  std::string error;      // expected error code
  std::string mentions;   // the message must name this
};

ApiError expect_error(const BadCase& c) {
  ApiCall call = parse_api_request(c.method, c.target, c.body, cfg());
  const ApiError* e = std::get_if<ApiError>(&call);
  EXPECT_TRUE(e) << c.name << ": accepted";
  return e ? *e : ApiError{};
}

TEST(Api, EveryBadRequestKindIsA4xxNamingTheProblem) {
  const std::string q = "\"";
  const std::string id = q + kId + q;
  std::vector<BadCase> cases = {
      {"malformed json", "POST", kPath, "{\"transaction_id\":", 400, "malformed_json", "not valid JSON"},
      {"not an object", "POST", kPath, "[1,2]", 400, "malformed_json", "object"},
      {"missing field", "POST", kPath,
       "{\"transaction_id\":" + id + ",\"from_account\":\"acct-1\",\"to_account\":\"acct-2\",\"currency\":\"USD\"}",
       400, "missing_field", "amount"},
      {"extra field", "POST", kPath,
       good_body().substr(0, good_body().size() - 1) + ",\"memo\":\"hi\"}", 400, "unknown_field", "memo"},
      {"amount as number", "POST", kPath, body(id, "\"acct-1\"", "\"acct-2\"", "12.5", "\"USD\""), 400,
       "wrong_type", "amount"},
      {"account as number", "POST", kPath, body(id, "1", "\"acct-2\"", "\"1\"", "\"USD\""), 400,
       "wrong_type", "from_account"},
      {"too many decimals", "POST", kPath, body(id, "\"acct-1\"", "\"acct-2\"", "\"1.234\"", "\"USD\""), 400,
       "bad_amount", "amount"},
      {"negative amount", "POST", kPath, body(id, "\"acct-1\"", "\"acct-2\"", "\"-1\"", "\"USD\""), 400,
       "bad_amount", "amount"},
      {"zero amount", "POST", kPath, body(id, "\"acct-1\"", "\"acct-2\"", "\"0.00\"", "\"USD\""), 400,
       "bad_amount", "greater than zero"},
      {"not a currency", "POST", kPath, body(id, "\"acct-1\"", "\"acct-2\"", "\"1\"", "\"XYZ\""), 400,
       "unknown_currency", "XYZ"},
      {"currency not configured", "POST", kPath, body(id, "\"acct-1\"", "\"acct-2\"", "\"1\"", "\"GBP\""), 400,
       "unknown_currency", "not a currency of this wallet"},
      {"bad uuid", "POST", kPath,
       body("\"01589980-2434-33dx-1532-1423gb420530\"", "\"acct-1\"", "\"acct-2\"", "\"1\"", "\"USD\""), 400,
       "bad_transaction_id", "transaction_id"},
      {"same account", "POST", kPath, body(id, "\"acct-1\"", "\"acct-1\"", "\"1\"", "\"USD\""), 400,
       "same_account", "acct-1"},
      {"unknown from account", "POST", kPath, body(id, "\"acct-100\"", "\"acct-2\"", "\"1\"", "\"USD\""), 404,
       "unknown_account", "from_account"},
      {"unknown to account", "POST", kPath, body(id, "\"acct-1\"", "\"bob\"", "\"1\"", "\"USD\""), 404,
       "unknown_account", "to_account"},
      {"leading zero account", "POST", kPath, body(id, "\"acct-01\"", "\"acct-2\"", "\"1\"", "\"USD\""), 404,
       "unknown_account", "acct-01"},
      {"body over the limit", "POST", kPath, std::string(kMaxBodyBytes + 1, ' '), 413, "body_too_large",
       std::to_string(kMaxBodyBytes)},
      {"wrong method", "GET", kPath, "", 405, "method_not_allowed", "POST"},
      {"wrong path", "POST", "/v1/wallet/transfer", good_body(), 404, "not_found", "/v1/wallet/transfer"},
      {"query on transfer", "POST", std::string(kPath) + "?x=1", good_body(), 400, "unknown_parameter", "query"},
      {"balance without account", "GET", "/v1/wallet/balance?currency=USD", "", 400, "missing_parameter",
       "account"},
      {"balance unknown parameter", "GET", "/v1/wallet/balance?account=acct-1&currency=USD&x=1", "", 400,
       "unknown_parameter", "x"},
      {"balance parameter twice", "GET", "/v1/wallet/balance?account=acct-1&account=acct-2&currency=USD", "",
       400, "duplicate_parameter", "account"},
      {"balance unknown account", "GET", "/v1/wallet/balance?account=acct-x&currency=USD", "", 404,
       "unknown_account", "acct-x"},
      {"balance unknown currency", "GET", "/v1/wallet/balance?account=acct-1&currency=ABC", "", 400,
       "unknown_currency", "ABC"},
      {"balance wrong method", "POST", "/v1/wallet/balance?account=acct-1&currency=USD", "", 405,
       "method_not_allowed", "GET"},
      {"status bad uuid", "GET", "/v1/wallet/transaction/not-a-uuid", "", 400, "bad_transaction_id",
       "transaction id"},
      {"metrics wrong method", "DELETE", "/metrics", "", 405, "method_not_allowed", "GET"},
      // The body is read as a stream, not a document; it must answer as a document would.
      {"two unknown fields: the first in key order", "POST", kPath,
       good_body().substr(0, good_body().size() - 1) + ",\"zz\":1,\"memo\":\"hi\"}", 400, "unknown_field", "memo"},
      {"an object where a string goes", "POST", kPath,
       body(id, "{\"name\":\"acct-1\"}", "\"acct-2\"", "\"1\"", "\"USD\""), 400, "wrong_type", "got object"},
      {"an array where a string goes", "POST", kPath, body(id, "\"acct-1\"", "[\"acct-2\"]", "\"1\"", "\"USD\""),
       400, "wrong_type", "got array"},
      {"null where a string goes", "POST", kPath, body(id, "\"acct-1\"", "\"acct-2\"", "\"1\"", "null"), 400,
       "wrong_type", "got null"},
      {"a field repeated: the last counts", "POST", kPath,
       good_body().substr(0, good_body().size() - 1) + ",\"amount\":true}", 400, "wrong_type", "got boolean"},
      {"trailing bytes after the object", "POST", kPath, good_body() + "x", 400, "malformed_json", "not valid JSON"},
      {"a nested field name is no field", "POST", kPath,
       body(id, "\"acct-1\"", "\"acct-2\"", "{\"amount\":\"1\"}", "\"USD\""), 400, "wrong_type", "got object"},
  };
  for (const BadCase& c : cases) {
    ApiError e = expect_error(c);
    EXPECT_EQ(e.status, c.status) << c.name;
    EXPECT_EQ(e.error, c.error) << c.name << ": " << e.message;
    EXPECT_NE(e.message.find(c.mentions), std::string::npos) << c.name << ": " << e.message;
    // The body is JSON naming the error.
    EXPECT_NE(error_body(e).find("\"error\":\"" + c.error + "\""), std::string::npos) << c.name;
  }
}

// Found by fuzz_http_body (fuzz/regressions/http_body): the JSON parser's
// message quotes the bytes it read, and error_body threw on a body that is
// not UTF-8, which ended walletd. The body must be JSON naming the error.
TEST(Api, NonUtf8BodyGetsAJsonErrorBody) {
  const std::string bodies[] = {"\xff", "{\"transaction_\xff\xfe\":1}", "[\"\xc3\"]"};
  for (const std::string& b : bodies) {
    ApiError e = expect_error({"non-UTF-8 body", "POST", kPath, b, 400, "malformed_json", ""});
    EXPECT_EQ(e.error, "malformed_json");
    std::string out;
    ASSERT_NO_THROW(out = error_body(e));
    nlohmann::json j = nlohmann::json::parse(out);
    EXPECT_EQ(j["error"], "malformed_json");
    EXPECT_NE(j["message"].get<std::string>().find("not valid JSON"), std::string::npos);
  }
  // The same for a path that is echoed in a message.
  ApiError e = expect_error({"non-UTF-8 path", "DELETE", "/v1/wallet/transaction/\xff", "", 405,
                             "method_not_allowed", ""});
  ASSERT_NO_THROW({
    nlohmann::json j = nlohmann::json::parse(error_body(e));
    (void)j;
  });
}

// Found by fuzz_http_body (fuzz/regressions/http_body): a number too large
// for a double is not a parse_error but an out_of_range exception, which
// nothing caught, so the body 1e999 ended walletd.
TEST(Api, NumberTooLargeForADoubleIsMalformedJson) {
  const std::string bodies[] = {"9999999999E99999.0099act99act\n", "1e999", "{\"amount\":-1e999}"};
  for (const std::string& b : bodies) {
    ApiError e = expect_error({"huge number", "POST", kPath, b, 400, "malformed_json", ""});
    EXPECT_EQ(e.status, 400u) << b;
    EXPECT_EQ(e.error, "malformed_json") << b;
    EXPECT_NE(e.message.find("number overflow"), std::string::npos) << e.message;
  }
}

TEST(Api, GoodTransferBecomesTheEngineRequest) {
  ApiCall call = parse_api_request("POST", kPath, good_body(), cfg());
  const TransferCall* t = std::get_if<TransferCall>(&call);
  ASSERT_TRUE(t);
  EXPECT_EQ(format_txid(t->tx), kId);
  EXPECT_EQ(t->request.kind, MsgKind::kTransferRequest);
  EXPECT_EQ(t->request.tx, t->tx);
  EXPECT_EQ(t->request.text.from, 1u);
  EXPECT_EQ(t->request.text.to, 2u);
  EXPECT_EQ(get_text(t->request.text.amount), "12.50");
  EXPECT_EQ(get_text(t->request.text.currency), "USD");
  EXPECT_FALSE(t->request.text.overlong);
}

TEST(Api, GoodReadsParse) {
  ApiCall b = parse_api_request("GET", "/v1/wallet/balance?account=acct-7&currency=EUR", "", cfg());
  ASSERT_TRUE(std::holds_alternative<BalanceCall>(b));
  EXPECT_EQ(std::get<BalanceCall>(b).account, 7u);
  EXPECT_EQ(std::get<BalanceCall>(b).currency, 1u);
  ApiCall s = parse_api_request("GET", std::string("/v1/wallet/transaction/") + kId, "", cfg());
  ASSERT_TRUE(std::holds_alternative<StatusCall>(s));
  EXPECT_TRUE(std::holds_alternative<MetricsCall>(parse_api_request("GET", "/metrics", "", cfg())));
}

TEST(Api, OutcomeBodiesSayWhatHappened) {
  Message m{};
  m.kind = MsgKind::kTransferReply;
  m.outcome = Outcome::kFailed;
  m.reason = Reason::kInsufficientFunds;
  unsigned status = 0;
  std::string b = outcome_body(m, TxId{1, 2}, status);
  EXPECT_EQ(status, 200u);
  EXPECT_NE(b.find("\"status\":\"failed\""), std::string::npos);
  EXPECT_NE(b.find("insufficient_funds"), std::string::npos);
  m.outcome = Outcome::kRejected;
  m.reason = Reason::kTxIdReused;
  outcome_body(m, TxId{1, 2}, status);
  EXPECT_EQ(status, 409u);
}

TEST(ClusterFile, BadKeysAreNamed) {
  auto err = [](const std::string& text) { return parse_cluster_json(text).error; };
  const std::string nodes =
      "\"nodes\":[{\"name\":\"p0\",\"kind\":\"partition\",\"address\":\"127.0.0.1:7000\"},"
      "{\"name\":\"c0\",\"kind\":\"coordinator\",\"address\":\"127.0.0.1:7001\",\"http_port\":8080}]";
  const std::string ok = "{\"partitions\":1,\"accounts\":10,\"initial_balances\":{\"USD\":\"10.00\"}," + nodes + "}";
  ClusterParse good = parse_cluster_json(ok);
  ASSERT_TRUE(good.spec) << good.error;
  EXPECT_EQ(good.spec->config.coordinators, 1u);
  EXPECT_NE(err("{\"partitions\":2,\"accounts\":10,\"initial_balances\":{\"USD\":\"10\"}," + nodes + "}").find("'partitions'"),
            std::string::npos);
  EXPECT_NE(err("{\"partitions\":1,\"accounts\":10,\"initial_balances\":{\"USD\":\"1.234\"}," + nodes + "}")
                .find("'initial_balances.USD'"),
            std::string::npos);
  EXPECT_NE(err("{\"partitions\":1,\"acounts\":10}").find("'acounts'"), std::string::npos);
  std::string bad_addr = ok;
  bad_addr.replace(bad_addr.find("127.0.0.1:7000"), 14, "127.0.0.1");
  EXPECT_NE(err(bad_addr).find("'nodes[0].address'"), std::string::npos);
  for (const char* replicas : {"0", "2", "4", "6"}) {
    std::string with = ok;
    with.insert(1, std::string("\"replicas\":") + replicas + ",");
    EXPECT_NE(err(with).find("'replicas'"), std::string::npos) << replicas << ": " << err(with);
  }
  // Groups of three need every node placed in one.
  std::string three = ok;
  three.insert(1, "\"replicas\":3,");
  EXPECT_NE(err(three).find("'nodes[0].group'"), std::string::npos) << err(three);
  std::string one = ok;
  one.insert(1, "\"replicas\":1,");
  EXPECT_TRUE(parse_cluster_json(one).spec) << err(one);
}

// A cluster file of groups of three: p0 and c0, each three replicas.
std::string group_file(const std::string& replicas_json, const std::string& extra_node = "",
                       const std::string& replication = "") {
  std::string nodes;
  for (const char* kind : {"partition", "coordinator"})
    for (int r = 0; r < 3; ++r) {
      const bool coord = std::string(kind) == "coordinator";
      nodes += std::string(nodes.empty() ? "" : ",") + "{\"name\":\"" + (coord ? "c0r" : "p0r") + std::to_string(r) +
               "\",\"kind\":\"" + kind + "\",\"group\":0,\"replica\":" + std::to_string(r) +
               ",\"address\":\"127.0.0.1:" + std::to_string(7000 + (coord ? 10 : 0) + r) + "\"" +
               (coord ? ",\"http_port\":" + std::to_string(8080 + r) : "") + "}";
    }
  return "{\"partitions\":1,\"accounts\":10,\"replicas\":" + replicas_json + "," + replication +
         "\"initial_balances\":{\"USD\":\"10.00\"},\"nodes\":[" + nodes + extra_node + "]}";
}

TEST(ClusterFile, GroupsOfThreeArePlacedAndCheckedAsAWhole) {
  ClusterParse g = parse_cluster_json(group_file("3"));
  ASSERT_TRUE(g.spec) << g.error;
  const ClusterConfig& c = g.spec->config;
  EXPECT_EQ(c.replicas(), 3u);
  EXPECT_EQ(c.coordinators, 1u);
  EXPECT_EQ(c.clients, 3u);  // one front end per coordinator replica
  // Replica 0 of a group is the group's node; the others follow the front ends.
  const NodeSpec* p0r0 = g.spec->find("p0r0");
  const NodeSpec* p0r2 = g.spec->find("p0r2");
  const NodeSpec* c0r1 = g.spec->find("c0r1");
  ASSERT_TRUE(p0r0 && p0r2 && c0r1);
  EXPECT_EQ(p0r0->id, c.partition_node(0));
  EXPECT_EQ(p0r2->id, c.replica_node(c.partition_node(0), 2));
  EXPECT_EQ(c.group_of(c0r1->id), c.coordinator_node(0));
  EXPECT_NE(g.spec->frontend_of(0, 1), g.spec->frontend_of(0, 2));
  EXPECT_EQ(c.replication.heartbeat_interval, 100 * kMillisecond);

  auto err = [](const std::string& text) { return parse_cluster_json(text).error; };
  // A fourth replica of p0, a replica listed twice, and one missing.
  const std::string extra = ",{\"name\":\"p0r3\",\"kind\":\"partition\",\"group\":0,\"replica\":3,\"address\":\"127.0.0.1:7100\"}";
  EXPECT_NE(err(group_file("3", extra)).find("'nodes[6].replica'"), std::string::npos) << err(group_file("3", extra));
  const std::string twice = ",{\"name\":\"p0x\",\"kind\":\"partition\",\"group\":0,\"replica\":1,\"address\":\"127.0.0.1:7100\"}";
  EXPECT_NE(err(group_file("3", twice)).find("replica 1 of partition 0 is listed twice"), std::string::npos)
      << err(group_file("3", twice));
  EXPECT_NE(err(group_file("5")).find("replica 3 of partition 0 is missing"), std::string::npos) << err(group_file("5"));
  const std::string other_group = ",{\"name\":\"p1r0\",\"kind\":\"partition\",\"group\":1,\"replica\":0,\"address\":\"127.0.0.1:7100\"}";
  EXPECT_NE(err(group_file("3", other_group)).find("'partitions'"), std::string::npos) << err(group_file("3", other_group));
  // Duplicate addresses, and Raft timers that cannot work.
  std::string dup = group_file("3");
  dup.replace(dup.find("127.0.0.1:7001"), 14, "127.0.0.1:7000");
  EXPECT_NE(err(dup).find("address used by two nodes"), std::string::npos) << err(dup);
  EXPECT_NE(err(group_file("3", "", "\"replication\":{\"heartbeat_ms\":700},")).find("'replication.heartbeat_ms'"),
            std::string::npos);
  EXPECT_NE(err(group_file("3", "", "\"replication\":{\"election_timeout_max_ms\":100},"))
                .find("'replication.election_timeout_max_ms'"),
            std::string::npos);
  EXPECT_NE(err(group_file("3", "", "\"replication\":{\"pre_vote\":\"yes\"},")).find("'replication.pre_vote'"),
            std::string::npos);
  {
    ClusterParse off = parse_cluster_json(group_file("3", "", "\"replication\":{\"check_quorum\":false},"));
    ASSERT_TRUE(off.spec) << off.error;
    EXPECT_FALSE(off.spec->config.replication.check_quorum);
    EXPECT_TRUE(off.spec->config.replication.pre_vote);
  }

  // The configuration id names the membership: moving one replica changes it.
  std::string moved = group_file("3");
  moved.replace(moved.find("127.0.0.1:7002"), 14, "127.0.0.1:7302");
  ClusterParse m = parse_cluster_json(moved);
  ASSERT_TRUE(m.spec) << m.error;
  EXPECT_NE(m.spec->config_id, g.spec->config_id);

  // The manifest keeps the groups.
  const std::string text = manifest_json(*g.spec, "");
  ClusterParse back = parse_manifest_json(text);
  ASSERT_TRUE(back.spec) << back.error;
  EXPECT_EQ(manifest_json(*back.spec, ""), text);
  EXPECT_EQ(back.spec->config.replicas(), 3u);
  EXPECT_EQ(back.spec->find("c0r1")->id, c0r1->id);
}

TEST(ClusterFile, RetentionWindowIsAKey) {
  const std::string nodes =
      "\"nodes\":[{\"name\":\"p0\",\"kind\":\"partition\",\"address\":\"127.0.0.1:7000\"},"
      "{\"name\":\"c0\",\"kind\":\"coordinator\",\"address\":\"127.0.0.1:7001\",\"http_port\":8080}]";
  auto with = [&](const std::string& protocol) {
    return parse_cluster_json("{\"partitions\":1,\"accounts\":10,\"initial_balances\":{\"USD\":\"10\"}," + protocol +
                              nodes + "}");
  };
  ClusterParse d = with("");
  ASSERT_TRUE(d.spec) << d.error;
  EXPECT_EQ(d.spec->config.protocol.retention, 3600 * kSecond);
  ClusterParse r = with("\"protocol\":{\"kind\":\"tcc\",\"retention_ms\":60000},");
  ASSERT_TRUE(r.spec) << r.error;
  EXPECT_EQ(r.spec->config.protocol.retention, 60 * kSecond);
  EXPECT_NE(with("\"protocol\":{\"kind\":\"tcc\",\"retention_ms\":0},").error.find("'protocol.retention_ms'"),
            std::string::npos);
}

TEST(ClusterFile, StorageKeysAndNodeNamesAreChecked) {
  auto with = [](const std::string& extra, const std::string& p0 = "p0") {
    return parse_cluster_json("{\"partitions\":1,\"accounts\":10,\"initial_balances\":{\"USD\":\"10\"}," + extra +
                              "\"nodes\":[{\"name\":\"" + p0 +
                              "\",\"kind\":\"partition\",\"address\":\"127.0.0.1:7000\"},"
                              "{\"name\":\"c0\",\"kind\":\"coordinator\",\"address\":\"127.0.0.1:7001\",\"http_port\":8080}]}");
  };
  ClusterParse d = with("");
  ASSERT_TRUE(d.spec) << d.error;
  EXPECT_TRUE(d.spec->storage.keep_archive);
  ClusterParse del = with("\"storage\":{\"archive\":\"delete\",\"segment_bytes\":65536},");
  ASSERT_TRUE(del.spec) << del.error;
  EXPECT_FALSE(del.spec->storage.keep_archive);
  EXPECT_EQ(del.spec->storage.segment_bytes, 65536u);
  EXPECT_NE(with("\"storage\":{\"archive\":\"shred\"},").error.find("'storage.archive'"), std::string::npos);
  EXPECT_NE(with("\"storage\":{\"segment_bytes\":1},").error.find("'storage.segment_bytes'"), std::string::npos);
  EXPECT_NE(with("\"storage\":{\"archives\":\"keep\"},").error.find("'storage.archives'"), std::string::npos);
  // Names become file names: nothing that could leave the data directory.
  EXPECT_NE(with("", "../p0").error.find("'nodes[0].name'"), std::string::npos);
  EXPECT_NE(with("", "a b").error.find("'nodes[0].name'"), std::string::npos);
  EXPECT_NE(with("", "local").error.find("'nodes[0].name'"), std::string::npos);
}

TEST(Manifest, RoundTripsAndKeepsTheCurrencyOrder) {
  ClusterSpec spec = local_cluster(3, 2, 50, 0);  // USD then EUR: not alphabetical
  for (const std::string shared : {"", "local"}) {
    const std::string text = manifest_json(spec, shared);
    ClusterParse back = parse_manifest_json(text);
    ASSERT_TRUE(back.spec) << back.error;
    EXPECT_EQ(manifest_json(*back.spec, back.spec->storage.shared_log), text);
    EXPECT_EQ(back.spec->storage.shared_log, shared);
    ASSERT_EQ(back.spec->config.currencies.size(), 2u);
    EXPECT_EQ(std::string(back.spec->config.currencies[0].code), "USD");
    EXPECT_EQ(back.spec->config.account_partition, spec.config.account_partition);
    EXPECT_EQ(back.spec->nodes.size(), 5u);
    EXPECT_EQ(back.spec->nodes[3].id, spec.nodes[3].id);
  }
  EXPECT_NE(parse_manifest_json("{\"format\":2}").error.find("'format'"), std::string::npos);
  EXPECT_NE(parse_manifest_json("[").error.find("not valid JSON"), std::string::npos);
}

}  // namespace
}  // namespace ws::net
