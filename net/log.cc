#include "net/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace ws::net {
namespace {
std::string g_name = "walletd";
}

void set_log_name(std::string name) { g_name = std::move(name); }

void log_line(std::string_view text) {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
  std::fprintf(stderr, "%s.%03lld %s: %.*s\n", stamp, static_cast<long long>(ms), g_name.c_str(),
               static_cast<int>(text.size()), text.data());
}

}  // namespace ws::net
