#include "net/metrics.h"

#include <cstdio>

namespace ws::net {

void LatencyHistogram::observe(Duration d) {
  double s = static_cast<double>(d) / 1e9;
  size_t i = 0;
  while (i < kBoundsSeconds.size() && s > kBoundsSeconds[i]) ++i;
  ++buckets[i];
  ++count;
  sum_seconds += s;
}

void LatencyHistogram::render(std::string& out, const std::string& name, const std::string& help) const {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  uint64_t cum = 0;
  char line[160];
  for (size_t i = 0; i < kBoundsSeconds.size(); ++i) {
    cum += buckets[i];
    std::snprintf(line, sizeof line, "%s_bucket{le=\"%g\"} %llu\n", name.c_str(), kBoundsSeconds[i],
                  static_cast<unsigned long long>(cum));
    out += line;
  }
  cum += buckets.back();
  std::snprintf(line, sizeof line, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n",
                name.c_str(), static_cast<unsigned long long>(cum), name.c_str(), sum_seconds,
                name.c_str(), static_cast<unsigned long long>(count));
  out += line;
}

}  // namespace ws::net
