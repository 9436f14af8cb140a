// libFuzzer target for mptcp_trace's capture reader and MPTCP analysis: the input is a whole
// capture file (pcap or pcapng). The checked properties are in trace_checks.h; the seed corpus
// (corpus/pcap_reader_fuzzer) holds small valid captures from make_pcap_corpus.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz/trace_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mptcp::fuzz::CheckCaptureInput(std::span<const uint8_t>(data, size));
  return 0;
}
