// An HTTP message read by Beast's parser into strings the caller reuses:
// the start line and the body, and no header map (the parser itself tracks
// the length, chunking and keep-alive). walletd reads its requests and
// walletload its answers this way, so that once the strings have room a
// message costs no allocation (Beast's own header map allocates one node
// per header line).
#pragma once

#include <cstdint>
#include <string>

#include "net/asio.h"

namespace ws::net {

struct HttpParts {
  std::string method;  // a request's
  std::string target;  // a request's
  unsigned status = 0;  // an answer's
  unsigned version = 11;
  std::string body;
};

template <bool isRequest>
class PartsParser final : public http::basic_parser<isRequest> {
 public:
  explicit PartsParser(HttpParts& parts) : parts_(parts) {}

 private:
  void on_request_impl(http::verb, beast::string_view method, beast::string_view target, int version,
                       beast::error_code&) override {
    parts_.method.assign(method.data(), method.size());
    parts_.target.assign(target.data(), target.size());
    begin(version);
  }
  void on_response_impl(int code, beast::string_view, int version, beast::error_code&) override {
    parts_.status = static_cast<unsigned>(code);
    begin(version);
  }
  void on_field_impl(http::field, beast::string_view, beast::string_view, beast::error_code&) override {}
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length, beast::error_code&) override {
    if (length) parts_.body.reserve(static_cast<size_t>(*length));  // at most the body limit
  }
  size_t on_body_impl(beast::string_view b, beast::error_code&) override { return append(b); }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, beast::string_view b, beast::error_code&) override { return append(b); }
  void on_finish_impl(beast::error_code&) override {}

  void begin(int version) {
    parts_.version = static_cast<unsigned>(version);
    parts_.body.clear();
  }
  size_t append(beast::string_view b) {
    parts_.body.append(b.data(), b.size());
    return b.size();
  }

  HttpParts& parts_;
};

}  // namespace ws::net
