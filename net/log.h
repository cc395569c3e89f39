// One-line log records on stderr: UTC time, the process's name, the text.
#pragma once

#include <string>
#include <string_view>

namespace ws::net {

void set_log_name(std::string name);
void log_line(std::string_view text);

}  // namespace ws::net
