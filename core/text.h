// Quoting of untrusted input inside error messages: one printable line,
// escapes for control and non-ASCII bytes, and a bound on what is shown.
#pragma once

#include <string>
#include <string_view>

namespace ws {

std::string quote_input(std::string_view text);

}  // namespace ws
