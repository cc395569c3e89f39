#include "core/text.h"

#include <cstdio>

namespace ws {

// The text comes straight from a request: escape it so the message stays one
// printable line, and cut it short so a huge input cannot bloat logs.
std::string quote_input(std::string_view text) {
  constexpr size_t kMaxShown = 64;
  std::string out = "\"";
  for (size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  if (text.size() > kMaxShown) out += "... (" + std::to_string(text.size()) + " characters)";
  return out;
}

}  // namespace ws
