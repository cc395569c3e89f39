#include "net/listen.h"

namespace ws::net {

std::unique_ptr<tcp::acceptor> open_acceptor(asio::io_context& io, const std::string& host, uint16_t port,
                                             const std::string& what, std::string& error) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) {
    error = "bad " + what + " address " + host + ": " + ec.message();
    return nullptr;
  }
  auto acceptor = std::make_unique<tcp::acceptor>(io);
  tcp::endpoint ep(addr, port);
  acceptor->open(ep.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(ep, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error = "cannot listen for " + what + " on " + host + ":" + std::to_string(port) + ": " + ec.message();
    return nullptr;
  }
  return acceptor;
}

}  // namespace ws::net
