// libFuzzer target for the wire codec (TCP segments and options, every MPTCP option, IP
// packets, checksums). The input's first byte selects the mode; the checked properties are in
// wire_checks.h. Build and run: see docs/fuzzing.md.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz/wire_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mptcp::fuzz::CheckWireInput(std::span<const uint8_t>(data, size));
  return 0;
}
