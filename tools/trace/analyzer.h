// The MPTCP analysis behind mptcp_trace: groups TCP subflows into MPTCP connections (by the
// MP_CAPABLE keys and the MP_JOIN token, RFC 8684 §3.1-3.2), follows each connection's
// handshake, joins, address signalling, data sequence mappings and acknowledgments, counts
// payload per subflow and direction, and checks what can be checked from the outside:
//
//   data_ack_backwards   a DATA_ACK lower than an earlier one on the same subflow and
//                        direction (RFC 8684 §3.3.2: the cumulative data-level ACK)
//   mapping_conflict     two DSS mappings that map the same subflow bytes to different data
//                        sequence numbers (RFC 8684 §3.3.1)
//   join_hmac            an MP_JOIN SYN/ACK or third-ACK HMAC that does not verify (§3.2)
//   add_addr_hmac        an ADD_ADDR HMAC that does not verify (§3.4.1)
//   key_mismatch         MP_CAPABLE keys on the third ACK differing from the SYN/ACK's (§3.1)
//
// Connections are numbered in the order their first SYN appears; a connection's direction 0
// is client (the MP_CAPABLE SYN's sender) to server. A capture point sees the two directions
// of different paths interleaved in arbitrary order, so the DATA_ACK check is per subflow,
// where TCP keeps the order.
//
// Feed frames in file order (OnFrame), then call Finish() once.
#ifndef MPTCP_TOOLS_TRACE_ANALYZER_H_
#define MPTCP_TOOLS_TRACE_ANALYZER_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mptcp/address.h"
#include "tools/trace/packet_decode.h"
#include "tools/trace/pcap_reader.h"

namespace mptcp::trace {

// One data-carrying segment, for the CSV and the plot. Sequence numbers are relative: the
// data sequence number to the connection direction's first byte (IDSN + 1, RFC 8684 §3.3.1,
// or the first DSN seen when the keys are not in the capture), the subflow sequence number to
// the subflow's ISN + 1.
struct DataPoint {
  int64_t time_ns = 0;
  int connection = 0;
  int subflow = 0;
  int direction = 0;  // 0: client to server
  uint64_t dsn = 0;
  uint32_t length = 0;
  uint64_t ssn = 0;
  bool reinjected = false;  // carried on another subflow before
  uint64_t frame = 0;
};

struct Finding {
  uint64_t frame = 0;
  int connection = -1;
  std::string check;  // one of the names at the top of this file
  std::string message;
};

struct TraceEvent {
  uint64_t frame = 0;
  int64_t time_ns = 0;
  int subflow = -1;
  int direction = 0;
  std::string what;
};

struct SubflowSummary {
  int index = 0;
  SocketAddress initiator, responder;  // the SYN's source and destination
  int initiator_side = 0;              // 0: the connection's client opened it
  bool join = false;                   // MP_JOIN (else the MP_CAPABLE subflow)
  std::optional<uint8_t> initiator_address_id, responder_address_id;
  bool backup = false;            // the B flag of the join SYN (or a later MP_PRIO)
  bool established = false;       // the handshake completed (third ACK seen)
  std::string hmac = "n/a";       // MP_JOIN: "ok", "bad", or "unverified" (keys not seen)
  bool reset = false;
  std::optional<uint8_t> tcprst_reason;
  std::array<uint64_t, 2> packets{};        // by connection direction
  std::array<uint64_t, 2> payload_bytes{};  // TCP payload on the wire, by direction
  uint64_t first_frame = 0;
  int64_t first_time_ns = 0;
};

struct ConnectionSummary {
  int index = 0;
  int version = 1;
  std::array<std::optional<uint64_t>, 2> key;    // [0] client, [1] server
  std::array<std::optional<uint32_t>, 2> token;  // from the key, or the join SYN
  std::vector<SubflowSummary> subflows;
  // MP_JOIN handshake steps seen, once per subflow (retransmissions not counted).
  uint64_t join_syns = 0, join_synacks = 0, join_acks = 0;
  std::array<uint64_t, 2> add_addr{}, add_addr_echo{}, remove_addr{}, mp_prio{};
  uint64_t mp_fail = 0, mp_fastclose = 0, mp_tcprst = 0;
  std::array<std::optional<uint64_t>, 2> data_fin;  // relative DSN of the DATA_FIN
  std::array<uint64_t, 2> reinjected_bytes{};
  bool checksum = false;  // MP_CAPABLE flag A
  bool fallback = false;
  std::string fallback_reason;
  std::vector<TraceEvent> events;
  uint64_t events_dropped = 0;

  uint64_t payload_bytes(int dir) const {
    uint64_t n = 0;
    for (const SubflowSummary& s : subflows) n += s.payload_bytes[dir];
    return n;
  }
};

struct TraceSummary {
  uint64_t frames = 0;
  uint64_t tcp_segments = 0;
  uint64_t non_tcp_frames = 0;
  uint64_t unsupported_link_frames = 0;
  uint64_t malformed_frames = 0;
  std::vector<std::string> malformed_examples;  // "frame N: why", the first few
  uint64_t plain_tcp_flows = 0;     // TCP connections without MPTCP options
  uint64_t unmatched_segments = 0;  // segments of subflows whose SYN is not in the capture
  std::vector<ConnectionSummary> connections;
  std::vector<Finding> findings;
  uint64_t findings_dropped = 0;
  int64_t first_time_ns = 0, last_time_ns = 0;
};

struct AnalyzerOptions {
  // Data points kept for the plot (later ones are still passed to on_data).
  size_t max_points = 200'000;
  size_t max_findings = 1000;
  size_t max_events_per_connection = 2000;
  // Called for every data-carrying segment whose DSN is known (CSV writers stream from here).
  std::function<void(const DataPoint&)> on_data;
};

class Analyzer {
 public:
  explicit Analyzer(AnalyzerOptions options = {});
  ~Analyzer();
  Analyzer(const Analyzer&) = delete;
  Analyzer& operator=(const Analyzer&) = delete;

  void OnFrame(const CaptureFrame& frame);
  // The same for an already decoded segment (tests).
  void OnSegment(uint64_t frame, int64_t time_ns, const DecodedSegment& seg);

  // The data points kept for the plot (at most AnalyzerOptions::max_points).
  const std::vector<DataPoint>& points() const;
  // The first frame's time (0 before any): the zero of the reports' relative times.
  int64_t first_time_ns() const;
  // Call once, after the last frame.
  TraceSummary Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mptcp::trace

#endif  // MPTCP_TOOLS_TRACE_ANALYZER_H_
