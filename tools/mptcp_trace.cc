// mptcp_trace: reads a pcap or pcapng capture and reports its MPTCP connections (subflows,
// handshakes and joins, address signalling, bytes per subflow, reinjections, DATA_FIN, MP_FAIL,
// MP_FASTCLOSE, MP_TCPRST, fallback) and what violates RFC 8684 (docs/trace.md).
//
//   mptcp_trace FILE.pcap [--json] [--svg FILE] [--csv FILE] [--subflow_csv FILE]
//               [--progress | --quiet] [--fail_on_findings]
//
// Exit status: 0 the capture was analysed (a file cut short inside its last record is
// analysed up to there, with a warning); 1 an output file could not be written, or
// --fail_on_findings and a check failed; 2 a bad flag, or a file that cannot be read or is not
// a well-formed capture (what came before a malformed record is still reported).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "tools/trace/analyzer.h"
#include "tools/trace/pcap_reader.h"
#include "tools/trace/report.h"
#include "tools/trace/run.h"

ABSL_FLAG(bool, json, false, "print the summary as JSON (stable keys) instead of text");
ABSL_FLAG(std::optional<std::string>, svg, std::nullopt,
          "write the plot of relative DSN against time, by subflow, here");
ABSL_FLAG(std::optional<std::string>, csv, std::nullopt,
          "write one row per data-carrying segment here");
ABSL_FLAG(std::optional<std::string>, subflow_csv, std::nullopt,
          "write one row per subflow (addresses, IDs, flags, packets and bytes) here");
ABSL_FLAG(bool, progress, false, "show progress on stderr even when it is not a terminal");
ABSL_FLAG(bool, quiet, false, "no progress on stderr");
ABSL_FLAG(bool, fail_on_findings, false, "exit 1 when a check reports a finding");

namespace mptcp::trace {
namespace {

constexpr int kExitOutput = 1;
constexpr int kExitInput = 2;

int Fail(int code, const std::string& msg) {
  std::fprintf(stderr, "mptcp_trace: %s\n", msg.c_str());
  return code;
}

// A progress bar drawn in place, at most ~10 times a second.
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled) {}
  void Update(uint64_t done, uint64_t total) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (drawn_ && now - last_ < std::chrono::milliseconds(100) && done != total) return;
    last_ = now;
    drawn_ = true;
    if (total > 0) {
      const double f = static_cast<double>(done) / static_cast<double>(total);
      const int filled = static_cast<int>(f * 40);
      std::fprintf(stderr, "\r[%s%s] %5.1f%% of %.1f MB\033[K", std::string(filled, '#').c_str(),
                   std::string(40 - filled, ' ').c_str(), 100 * f,
                   static_cast<double>(total) / 1e6);
    } else {
      std::fprintf(stderr, "\r%.1f MB read\033[K", static_cast<double>(done) / 1e6);
    }
  }
  void Done() {
    if (enabled_ && drawn_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "analyses the MPTCP connections in a pcap or pcapng capture.\n"
      "  mptcp_trace FILE [--json] [--svg FILE] [--csv FILE] [--subflow_csv FILE]\n"
      "              [--progress|--quiet] [--fail_on_findings]\n"
      "docs/trace.md describes the checks and the outputs.");
  const std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    return Fail(kExitInput, args.size() < 2 ? "expected a capture file (mptcp_trace FILE.pcap)"
                                            : absl::StrCat("unexpected argument \"", args[2],
                                                           "\": one capture file at a time"));
  }
  const std::string path = args[1];
  // bazel run starts us in the runfiles tree; relative paths mean the caller's directory.
  if (const char* wd = std::getenv("BUILD_WORKING_DIRECTORY"); wd != nullptr && *wd != '\0') {
    if (::chdir(wd) != 0) return Fail(kExitInput, absl::StrCat("cannot change to ", wd));
  }

  absl::StatusOr<std::unique_ptr<CaptureReader>> reader = CaptureReader::OpenFile(path);
  if (!reader.ok()) {
    const std::string msg(reader.status().message());
    return Fail(kExitInput, absl::StrContains(msg, path) ? msg : absl::StrCat(path, ": ", msg));
  }

  std::ofstream csv;
  const std::optional<std::string> csv_path = absl::GetFlag(FLAGS_csv);
  if (csv_path) {
    csv.open(*csv_path, std::ios::binary | std::ios::trunc);
    if (!csv) return Fail(kExitOutput, absl::StrCat(*csv_path, ": cannot write"));
    csv << kCsvHeader;
  }
  // CSV times are relative to the capture's first frame, as in the summary and the plot.
  const Analyzer* self = nullptr;
  AnalyzerOptions options;
  if (csv_path) {
    options.on_data = [&](const DataPoint& p) { csv << CsvLine(p, self->first_time_ns()); };
  }
  Analyzer analyzer(std::move(options));
  self = &analyzer;
  const bool show = !absl::GetFlag(FLAGS_quiet) &&
                    (absl::GetFlag(FLAGS_progress) || isatty(STDERR_FILENO) == 1);
  ProgressBar bar(show);
  RunResult run = AnalyzeCapture(**reader, analyzer, [&](uint64_t done, uint64_t total) {
    bar.Update(done, total);
  });
  bar.Done();

  InputInfo info;
  info.path = path;
  DescribeInput(**reader, run, &info);
  if (absl::GetFlag(FLAGS_json)) {
    std::printf("%s\n", JsonReport(info, run.summary)
                            .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                            .c_str());
  } else {
    std::fputs(TextReport(info, run.summary).c_str(), stdout);
  }
  int status = 0;
  if (csv_path) {
    csv.flush();
    if (!csv) status = Fail(kExitOutput, absl::StrCat(*csv_path, ": write failed"));
  }
  if (const std::optional<std::string> svg = absl::GetFlag(FLAGS_svg)) {
    std::ofstream f(*svg, std::ios::binary | std::ios::trunc);
    f << SvgPlot(info, run.summary, analyzer.points());
    f.flush();
    if (!f) status = Fail(kExitOutput, absl::StrCat(*svg, ": cannot write"));
  }
  if (const std::optional<std::string> sub = absl::GetFlag(FLAGS_subflow_csv)) {
    std::ofstream f(*sub, std::ios::binary | std::ios::trunc);
    f << SubflowCsv(run.summary);
    f.flush();
    if (!f) status = Fail(kExitOutput, absl::StrCat(*sub, ": cannot write"));
  }
  if (!run.read_status.ok()) {
    if (info.truncated_tail) {
      std::fprintf(stderr, "mptcp_trace: warning: %s: %s\n", path.c_str(),
                   info.read_error.c_str());
    } else {
      return Fail(kExitInput, absl::StrCat(path, ": ", info.read_error));
    }
  }
  if (status == 0 && absl::GetFlag(FLAGS_fail_on_findings) && !run.summary.findings.empty()) {
    status = kExitOutput;
  }
  return status;
}

}  // namespace
}  // namespace mptcp::trace

int main(int argc, char** argv) { return mptcp::trace::Main(argc, argv); }
