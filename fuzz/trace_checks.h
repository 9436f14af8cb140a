// The properties the capture-analyser fuzz target checks (pcap_reader_fuzzer.cc): any bytes,
// read as a pcap or pcapng file and analysed by mptcp_trace's library, end in a typed result
// (never a crash, an out-of-bounds read or a hang), with counts that add up, findings that
// name frames that exist, and reports that render. trace_checks_test runs the same checks on
// the seed corpus under gcc.
#ifndef MPTCP_FUZZ_TRACE_CHECKS_H_
#define MPTCP_FUZZ_TRACE_CHECKS_H_

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tools/trace/analyzer.h"
#include "tools/trace/pcap_reader.h"
#include "tools/trace/report.h"
#include "tools/trace/run.h"

namespace mptcp::fuzz {

[[noreturn]] inline void TraceViolation(int line, const char* condition, const std::string& detail) {
  std::fprintf(stderr, "\n*** trace fuzz check failed (fuzz/trace_checks.h:%d): %s\n    %s\n",
               line, condition, detail.c_str());
  std::fflush(stderr);
  __builtin_trap();
}

#define MPTCP_TRACE_CHECK(cond, ...)                                                  \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      ::mptcp::fuzz::TraceViolation(__LINE__, #cond,                                  \
                                    absl::StrCat("" __VA_OPT__(, ) __VA_ARGS__));     \
    }                                                                                 \
  } while (0)

inline void CheckCaptureInput(std::span<const uint8_t> data) {
  auto reader = trace::CaptureReader::FromBytes(data);
  if (!reader.ok()) {
    MPTCP_TRACE_CHECK(reader.status().code() == absl::StatusCode::kInvalidArgument,
                      reader.status().ToString());
    return;
  }
  uint64_t data_points = 0;
  trace::AnalyzerOptions options;
  options.max_points = 64;
  options.max_findings = 64;
  options.max_events_per_connection = 64;
  options.on_data = [&](const trace::DataPoint& p) {
    ++data_points;
    MPTCP_TRACE_CHECK(p.direction == 0 || p.direction == 1, p.direction);
  };
  trace::Analyzer analyzer(std::move(options));
  const trace::RunResult run = trace::AnalyzeCapture(**reader, analyzer);
  const absl::StatusCode code = run.read_status.code();
  MPTCP_TRACE_CHECK(code == absl::StatusCode::kOk || code == absl::StatusCode::kInvalidArgument ||
                        code == absl::StatusCode::kDataLoss,
                    run.read_status.ToString());
  const trace::TraceSummary& s = run.summary;
  MPTCP_TRACE_CHECK(s.frames == (*reader)->frames(), s.frames, " vs ", (*reader)->frames());
  MPTCP_TRACE_CHECK(
      s.frames == s.tcp_segments + s.non_tcp_frames + s.unsupported_link_frames +
                      s.malformed_frames,
      "frame counts do not add up: ", s.frames);
  MPTCP_TRACE_CHECK(analyzer.points().size() <= 64 && analyzer.points().size() <= data_points,
                    analyzer.points().size());
  MPTCP_TRACE_CHECK(s.findings.size() <= 64, s.findings.size());
  for (const trace::Finding& f : s.findings) {
    MPTCP_TRACE_CHECK(f.frame >= 1 && f.frame <= s.frames, "finding on frame ", f.frame);
    MPTCP_TRACE_CHECK(f.connection >= -1 &&
                          f.connection < static_cast<int>(s.connections.size()),
                      f.connection);
  }
  for (const trace::ConnectionSummary& c : s.connections) {
    MPTCP_TRACE_CHECK(c.events.size() <= 64, c.events.size());
    for (const trace::SubflowSummary& f : c.subflows) {
      for (int d = 0; d < 2; ++d) {
        // A TCP segment carries at most 65535 - 20 - 20 bytes (IPv4) or 65535 - 20 (IPv6).
        MPTCP_TRACE_CHECK(f.payload_bytes[d] <= f.packets[d] * 65535, f.payload_bytes[d]);
      }
    }
  }
  trace::InputInfo info;
  info.path = "fuzz";
  trace::DescribeInput(**reader, run, &info);
  const std::string text = trace::TextReport(info, s);
  MPTCP_TRACE_CHECK(!text.empty());
  const std::string json = trace::JsonReport(info, s).dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  MPTCP_TRACE_CHECK(!json.empty());
  const std::string subflows = trace::SubflowCsv(s);
  MPTCP_TRACE_CHECK(subflows.rfind(trace::kSubflowCsvHeader, 0) == 0);
  const std::string svg = trace::SvgPlot(info, s, analyzer.points());
  MPTCP_TRACE_CHECK(svg.rfind("<svg", 0) == 0);
}

}  // namespace mptcp::fuzz

#endif  // MPTCP_FUZZ_TRACE_CHECKS_H_
