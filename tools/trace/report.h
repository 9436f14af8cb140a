// mptcp_trace's outputs from an analysis (analyzer.h): the human summary, the JSON summary
// (stable keys; tests read it), the per-segment CSV, and the SVG plot of relative data
// sequence number against time, one panel per connection and direction, coloured by subflow.
#ifndef MPTCP_TOOLS_TRACE_REPORT_H_
#define MPTCP_TOOLS_TRACE_REPORT_H_

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "tools/trace/analyzer.h"

namespace mptcp::trace {

// What the input was, for the headers of the reports.
struct InputInfo {
  std::string path;
  std::string format;  // "pcap" or "pcapng"
  // Set when reading stopped early: the error, and whether it was only a cut-short tail.
  std::string read_error;
  bool truncated_tail = false;
};

std::string TextReport(const InputInfo& in, const TraceSummary& s);
nlohmann::json JsonReport(const InputInfo& in, const TraceSummary& s);

inline constexpr char kCsvHeader[] =
    "time_s,connection,subflow,direction,dsn,length,ssn,reinjected,frame\n";
// One CSV line (with its newline) for a data point; times relative to `t0_ns`.
std::string CsvLine(const DataPoint& p, int64_t t0_ns);

inline constexpr char kSubflowCsvHeader[] =
    "connection,subflow,initiator,responder,opened_by,join,initiator_address_id,"
    "responder_address_id,backup,established,hmac,packets_c2s,packets_s2c,bytes_c2s,bytes_s2c\n";
// The per-subflow summary as CSV (with its header): one row per subflow of every connection.
std::string SubflowCsv(const TraceSummary& s);

// The plot of `points`, at most `max_marks_per_panel` marks per panel (evenly thinned).
std::string SvgPlot(const InputInfo& in, const TraceSummary& s,
                    const std::vector<DataPoint>& points, size_t max_marks_per_panel = 20000);

}  // namespace mptcp::trace

#endif  // MPTCP_TOOLS_TRACE_REPORT_H_
