// libFuzzer target for the whole stack: two Endpoints in memory, the input scripting the
// network and the applications. The properties are in endpoint_checks.h.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz/endpoint_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mptcp::fuzz::CheckEndpointScript(std::span<const uint8_t>(data, size));
  return 0;
}
