// The read loop of run.h.
#include "tools/trace/run.h"

#include <string>

namespace mptcp::trace {

RunResult AnalyzeCapture(CaptureReader& reader, Analyzer& analyzer, const ProgressFn& progress,
                         uint64_t progress_every) {
  RunResult r;
  for (uint64_t n = 0;; ++n) {
    absl::StatusOr<std::optional<CaptureFrame>> f = reader.Next();
    if (!f.ok()) {
      r.read_status = f.status();
      break;
    }
    if (!f->has_value()) break;
    analyzer.OnFrame(**f);
    if (progress && progress_every > 0 && n % progress_every == 0) {
      progress(reader.offset(), reader.size());
    }
  }
  if (progress) progress(reader.offset(), reader.size());
  r.summary = analyzer.Finish();
  return r;
}

void DescribeInput(const CaptureReader& reader, const RunResult& run, InputInfo* info) {
  info->format = reader.format() == CaptureFormat::kPcap ? "pcap" : "pcapng";
  if (!run.read_status.ok()) {
    info->read_error = std::string(run.read_status.message());
    info->truncated_tail = run.read_status.code() == absl::StatusCode::kDataLoss;
  }
}

}  // namespace mptcp::trace
