#pragma once
// The transport the CMP tests talk to their loopback servers with: libcurl
// with short timeouts, so a server that does not answer fails the test in
// seconds. Records a test failure and returns null when it cannot be made.

#include <gtest/gtest.h>

#include <memory>

#include "io/curl_transport.h"

namespace scepd::testing {

inline std::unique_ptr<CurlTransport> LoopbackTransport() {
  TransportOptions t;
  t.connect_timeout_s = 5;
  t.total_timeout_s = 10;
  auto transport = CurlTransport::Create(t);
  EXPECT_TRUE(transport) << transport.error().message;
  return transport ? std::move(*transport) : nullptr;
}

}  // namespace scepd::testing
