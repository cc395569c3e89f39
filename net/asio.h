// The one place Boost.Asio and Beast are included. Debian's Boost 1.74 with
// g++ 12 in C++20 mode needs <utility> before any Asio header (DESIGN.md 9).
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace ws::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
}  // namespace ws::net
