// Fuzz target: the failure-file reader (properties/failure_file.cc,
// failure_from_json, and through it the scenario loader), which
// `walletsim replay` and `shrink` run on files people pass around.
//
// Input: the text of a failure file. It is parsed as load_failure_file
// does, then read twice: as it is (mostly refused by the checksum), and
// with its "checksum" recomputed, so the fuzzer reaches every key behind
// the checksum.
//
// Asserts, beyond "does not crash":
//  - a refused file has an error; once the checksum is recomputed the
//    error is not about the checksum;
//  - an accepted file keeps the seed, trace hash, property and message it
//    holds; written out again with failure_to_json it loads again, and
//    writing that gives the same document (the reader and the writer agree
//    on every field of the spec).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/hash.h"
#include "fuzz/check.h"
#include "properties/failure_file.h"

namespace {

using nlohmann::json;

void reseal(json& doc) {
  json body = doc;
  body.erase("checksum");
  doc["checksum"] = ws::hex64(ws::fnv1a64(body.dump()));
}

json write_back(const ws::FailureFile& f) {
  ws::RunResult result;
  ws::Violation v;
  v.property = f.property;
  v.message = f.message;
  result.ok = false;
  result.violations.push_back(v);
  result.trace_hash = f.trace_hash;
  return ws::failure_to_json(f.spec, result);
}

void check_accepted(const json& doc, const ws::FailureFile& f) {
  FUZZ_CHECK(doc.at("seed").get<uint64_t>() == f.spec.seed);
  FUZZ_CHECK(doc.at("trace_hash").get<std::string>() == ws::hex64(f.trace_hash));
  FUZZ_CHECK(doc.at("violation").at("property").get<std::string>() == ws::to_string(f.property));
  FUZZ_CHECK(doc.at("violation").at("message").get<std::string>() == f.message);
  FUZZ_CHECK(f.spec.workload.requests.size() == doc.at("workload").size());

  const json once = write_back(f);
  ws::FailureLoad again = ws::failure_from_json(once);
  FUZZ_CHECK(again.file.has_value() && again.error.empty());
  FUZZ_CHECK(write_back(*again.file) == once);
}

void read(const json& doc, bool resealed) {
  ws::FailureLoad l = ws::failure_from_json(doc);
  if (!l.file) {
    FUZZ_CHECK(!l.error.empty());
    if (resealed)
      FUZZ_CHECK(l.error.rfind("checksum mismatch", 0) != 0 && l.error != "missing key 'checksum'");
    return;
  }
  check_accepted(doc, *l.file);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  json doc = json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return 0;  // load_failure_file refuses it as "not valid JSON"
  read(doc, false);
  if (!doc.is_object()) return 0;
  reseal(doc);
  read(doc, true);
  return 0;
}
