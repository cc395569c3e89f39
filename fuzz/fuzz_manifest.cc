// Fuzz target: the data directory's manifest reader (net/cluster_file.cc,
// parse_manifest_json). `walletd audit` and every walletd start read
// DATA/manifest.json, which a person, a tool or damage may have changed.
//
// Asserts, beyond "does not crash": a manifest that parses describes a
// usable cluster (at least one partition and one coordinator, as many
// partition nodes as partitions, node ids in range, every account placed on
// a partition), and writing it out again and reading that back gives the
// same text (so what walletd writes is what it reads).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/check.h"
#include "net/cluster_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  ws::net::ClusterParse r = ws::net::parse_manifest_json(text);
  if (!r.spec) {
    FUZZ_CHECK(!r.error.empty());
    return 0;
  }
  const ws::ClusterConfig& c = r.spec->config;
  FUZZ_CHECK(c.partitions >= 1 && c.coordinators >= 1 && !c.currencies.empty());
  FUZZ_CHECK(c.account_partition.size() == c.accounts);
  for (uint32_t p : c.account_partition) FUZZ_CHECK(p < c.partitions);
  uint32_t partitions = 0;
  for (const ws::net::NodeSpec& n : r.spec->nodes) {
    FUZZ_CHECK(n.id < c.partitions + c.coordinators);
    partitions += n.kind == ws::net::NodeKind::kPartition ? 1 : 0;
  }
  FUZZ_CHECK(partitions == c.partitions);
  const std::string again = ws::net::manifest_json(*r.spec, r.spec->storage.shared_log);
  ws::net::ClusterParse back = ws::net::parse_manifest_json(again);
  FUZZ_CHECK(back.spec);
  FUZZ_CHECK(ws::net::manifest_json(*back.spec, back.spec->storage.shared_log) == again);
  return 0;
}
