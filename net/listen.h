// Opening a listening TCP socket, shared by the node transport and the HTTP
// server.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "net/asio.h"

namespace ws::net {

// A bound, listening acceptor on host:port, or null with `error` naming the
// address and the cause; `what` says what the socket is for ("HTTP",
// "peer").
std::unique_ptr<tcp::acceptor> open_acceptor(asio::io_context& io, const std::string& host, uint16_t port,
                                             const std::string& what, std::string& error);

}  // namespace ws::net
