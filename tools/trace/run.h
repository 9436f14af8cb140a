// One whole analysis: read every frame of a capture into an Analyzer, with an optional
// progress callback, and say how reading ended. Shared by mptcp_trace and the fuzz target.
#ifndef MPTCP_TOOLS_TRACE_RUN_H_
#define MPTCP_TOOLS_TRACE_RUN_H_

#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "tools/trace/analyzer.h"
#include "tools/trace/pcap_reader.h"
#include "tools/trace/report.h"

namespace mptcp::trace {

struct RunResult {
  TraceSummary summary;
  // OK when the file was read to its end. DataLoss: it ends inside a record (everything
  // before was analysed). Other codes: malformed from that point on (the frames before it
  // were analysed too).
  absl::Status read_status;
};

// Called every `progress_every` frames and at the end with (bytes read, total bytes or 0).
using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

RunResult AnalyzeCapture(CaptureReader& reader, Analyzer& analyzer,
                         const ProgressFn& progress = nullptr, uint64_t progress_every = 4096);

// Fills `info` (format, read_error, truncated_tail) from the reader and the run.
void DescribeInput(const CaptureReader& reader, const RunResult& run, InputInfo* info);

}  // namespace mptcp::trace

#endif  // MPTCP_TOOLS_TRACE_RUN_H_
