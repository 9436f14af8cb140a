// libFuzzer target for receive reassembly, differential against a model (reassembly_checks.h).
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz/reassembly_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mptcp::fuzz::CheckReassemblyScript(std::span<const uint8_t>(data, size));
  return 0;
}
