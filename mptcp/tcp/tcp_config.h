// Tunables of one subflow TCP engine. Defaults follow Linux where the RFCs leave a choice, and
// every limit on memory is here, so a connection's footprint is known in advance.
#ifndef MPTCP_TCP_TCP_CONFIG_H_
#define MPTCP_TCP_TCP_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "mptcp/cc/controller.h"
#include "mptcp/time.h"

namespace mptcp::tcp {

struct TcpConfig {
  // (Fields are grouped by size, widest first, so that the copy each engine keeps is small.)

  // Buffer limits in bytes. The receive buffer bounds both in-order unread data and
  // out-of-order data; the advertised window never exceeds its free space.
  size_t send_buffer = 256 * 1024;
  size_t recv_buffer = 256 * 1024;
  // Largest window this end will ever advertise, when larger than recv_buffer: sizes the
  // window scale (RFC 7323 §2.3). MPTCP sets it to the connection's receive buffer, since a
  // subflow advertises the shared window (RFC 8684 §3.3.4). 0: recv_buffer.
  size_t max_advertised_window = 0;
  // Most disjoint out-of-order ranges held at once; a segment needing more is dropped. The
  // receive buffer bounds the bytes; this bounds the bookkeeping (each operation is linear in
  // it). A queue overflowing in slow start loses every other segment of a window: 32 ranges
  // made the receiver drop, unSACKed, all it got past the 32nd hole, and the sender waited for
  // its RTO. Linux keeps any number (an rbtree, pruned for memory).
  size_t max_ooo_ranges = 1024;
  // Largest reordering, in segments, that loss detection learns to wait out (Linux
  // net.ipv4.tcp_max_reordering = 300). The duplicate threshold starts at RFC 6675's 3 and
  // rises to the degree of reordering a subflow has shown (TcpEngine::dupthresh()).
  int max_reordering = 300;

  // RFC 6298 retransmission timer. RFC 6298 says a 1 s minimum; Linux uses 200 ms.
  Duration rto_initial = Duration::Seconds(1);
  Duration rto_min = Duration::Millis(200);
  Duration rto_max = Duration::Seconds(120);
  // Delayed ACK (RFC 9293 §3.8.6.3, RFC 5681 §4.2): ACK at least every `delayed_ack_segments`
  // full-sized segments (below) and within `delayed_ack_timeout` (RFC: at most 500 ms).
  Duration delayed_ack_timeout = Duration::Millis(40);
  // 2*MSL before TIME-WAIT closes (RFC 9293 §3.4.2; Linux uses 60 s).
  Duration time_wait = Duration::Seconds(60);
  // RFC 5961 §7: challenge ACKs are rate-limited per connection: at most
  // `challenge_ack_limit` (below) per `challenge_ack_interval`.
  Duration challenge_ack_interval = Duration::Seconds(1);

  // Consecutive RTOs before the connection is aborted (Linux tcp_retries2 = 15) and
  // SYN retransmissions before a connect fails (Linux tcp_syn_retries = 6).
  int max_retransmits = 15;
  int max_syn_retransmits = 6;
  int delayed_ack_segments = 2;
  int challenge_ack_limit = 10;
  uint32_t initial_cwnd_segments = 10;  // RFC 6928

  // The MSS we announce on IPv4 and the largest payload we send before the peer's MSS is known
  // (RFC 9293 §3.7.1; 1460 = 1500-byte MTU minus the 20-byte IPv4 and TCP headers). IPv6's
  // header is 20 bytes longer (RFC 8200), so an IPv6 subflow announces mss - 20 (1440).
  uint16_t mss = 1460;
  // RFC 9293 §3.7.1: without an MSS option the peer's MSS is taken to be 536 on IPv4 and 1220
  // on IPv6 (RFC 8200's 1280-byte minimum MTU less 60 bytes of headers).
  uint16_t default_peer_mss = 536;
  uint16_t default_peer_mss_v6 = 1220;

  // Options offered on our SYN (and accepted in a SYN-ACK only when the peer offered them).
  bool window_scaling = true;  // RFC 7323 §2
  bool sack = true;            // RFC 2018
  bool timestamps = true;      // RFC 7323 §3
  // Nagle's algorithm (RFC 9293 §3.7.4). Off by default: MPTCP's scheduler batches itself.
  bool nagle = false;

  // Congestion control (with initial_cwnd_segments above). A plain TCP engine takes an
  // uncoupled one; an MPTCP connection sets its subflows' from ConnectionConfig.
  cc::CcAlgorithm congestion_control = cc::CcAlgorithm::kCubic;
};

// Whether `c` describes a plain TCP engine that can run. A coupled controller (LIA, OLIA,
// BALIA) is an error here: it couples the subflows of an MPTCP connection, and a lone TCP
// engine has none (ConnectionConfig::congestion_control chooses one for a connection).
inline absl::Status ValidateTcpConfig(const TcpConfig& c) {
  if (cc::IsCoupled(c.congestion_control)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "congestion control \"", std::string(cc::CcAlgorithmName(c.congestion_control)),
        "\" couples the subflows of an MPTCP connection; a plain TCP engine takes an "
        "uncoupled one (newreno or cubic)"));
  }
  if (c.mss == 0) return absl::InvalidArgumentError("mss must be positive");
  if (c.max_reordering < 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_reordering is ", c.max_reordering, "; it must be at least 3 (RFC 6675's DupThresh)"));
  }
  return absl::OkStatus();
}

}  // namespace mptcp::tcp

#endif  // MPTCP_TCP_TCP_CONFIG_H_
