// The values the subflow engine hands back: what happened to an arriving segment (with a typed
// drop reason), the events an application polls, and the description of the next segment to
// transmit (which the MPTCP layer may shorten and decorate with its own options before it is
// emitted).
#ifndef MPTCP_TCP_ENGINE_TYPES_H_
#define MPTCP_TCP_ENGINE_TYPES_H_

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string_view>

#include "mptcp/seq.h"

namespace mptcp::tcp {

// Why an arriving segment was not (fully) accepted. Each reason maps to one MIB counter.
enum class DropReason : uint8_t {
  kNone,             // accepted
  kMalformed,        // did not parse (truncated header, bad option lengths, ...)
  kBadChecksum,      // RFC 9293 §3.1: failed checksum
  kWrongPorts,       // not addressed to this connection's ports
  kClosed,           // arrived in CLOSED
  kListenNotSyn,     // LISTEN: not a SYN (an ACK gets a RST in reply)
  kSynSentBadAck,    // SYN-SENT: ACK does not cover our SYN (RST in reply)
  kSynSentNoSyn,     // SYN-SENT: neither SYN nor acceptable RST
  kPaws,             // RFC 7323 §5: timestamp older than TS.Recent
  kOutOfWindow,      // RFC 9293 §3.10.7.4: sequence not acceptable (an ACK is sent)
  kRstOutOfWindow,   // RFC 5961 §3.2: RST outside the window, ignored
  kRstChallenged,    // RFC 5961 §3.2: RST in window but not at RCV.NXT: challenge ACK
  kSynChallenged,    // RFC 5961 §4.2: SYN in a synchronized state: challenge ACK
  kNoAck,            // RFC 9293: segment without ACK in a synchronized state
  kBadAck,           // RFC 5961 §5.2: ACK outside [SND.UNA - MAX.SND.WND, SND.NXT]
  kSynReceivedBadAck,  // SYN-RECEIVED: unacceptable ACK (RST in reply)
  kOutOfOrderLimit,  // more disjoint out-of-order ranges than the configured bound
  kZeroWindow,       // text arrived for a zero window (the ACK field was still processed)
};

constexpr std::string_view DropReasonName(DropReason r) {
  switch (r) {
    case DropReason::kNone: return "none";
    case DropReason::kMalformed: return "malformed";
    case DropReason::kBadChecksum: return "bad-checksum";
    case DropReason::kWrongPorts: return "wrong-ports";
    case DropReason::kClosed: return "closed";
    case DropReason::kListenNotSyn: return "listen-not-syn";
    case DropReason::kSynSentBadAck: return "syn-sent-bad-ack";
    case DropReason::kSynSentNoSyn: return "syn-sent-no-syn";
    case DropReason::kPaws: return "paws";
    case DropReason::kOutOfWindow: return "out-of-window";
    case DropReason::kRstOutOfWindow: return "rst-out-of-window";
    case DropReason::kRstChallenged: return "rst-challenged";
    case DropReason::kSynChallenged: return "syn-challenged";
    case DropReason::kNoAck: return "no-ack";
    case DropReason::kBadAck: return "bad-ack";
    case DropReason::kSynReceivedBadAck: return "syn-received-bad-ack";
    case DropReason::kOutOfOrderLimit: return "out-of-order-limit";
    case DropReason::kZeroWindow: return "zero-window";
  }
  return "?";
}

inline std::ostream& operator<<(std::ostream& os, DropReason r) { return os << DropReasonName(r); }

// What processing one segment did. Tests assert on this rather than on internal fields.
struct SegmentOutcome {
  DropReason drop = DropReason::kNone;
  uint32_t bytes_acked = 0;       // sequence space newly acknowledged (cumulative)
  uint32_t bytes_sacked = 0;      // newly SACKed
  uint32_t bytes_delivered = 0;   // new in-order bytes made readable
  bool fin_received = false;      // the peer's FIN was processed by this segment
  bool reset = false;             // this segment reset the connection
  bool state_changed = false;

  bool accepted() const { return drop == DropReason::kNone; }
};

enum class CloseReason : uint8_t {
  kNone,
  kNormal,     // both FINs exchanged and acknowledged (or TIME-WAIT expired)
  kReset,      // the peer reset the connection
  kRefused,    // RST in reply to our SYN
  kTimeout,    // retransmissions exhausted (RFC 9293 §3.8.3, R2)
  kAborted,    // the application called Abort()
};

constexpr std::string_view CloseReasonName(CloseReason r) {
  switch (r) {
    case CloseReason::kNone: return "none";
    case CloseReason::kNormal: return "normal";
    case CloseReason::kReset: return "reset";
    case CloseReason::kRefused: return "refused";
    case CloseReason::kTimeout: return "timeout";
    case CloseReason::kAborted: return "aborted";
  }
  return "?";
}

inline std::ostream& operator<<(std::ostream& os, CloseReason r) {
  return os << CloseReasonName(r);
}

enum class TcpEventType : uint8_t {
  kConnected,  // reached ESTABLISHED
  kReadable,   // new in-order data
  kWritable,   // send-buffer space after the buffer had filled
  kPeerFin,    // the peer closed its direction: Read() returns what is left, then EOF
  kClosed,     // reached CLOSED (see reason)
};

struct TcpEvent {
  TcpEventType type;
  CloseReason reason = CloseReason::kNone;
  friend bool operator==(const TcpEvent&, const TcpEvent&) = default;
};

// The kind of segment the engine wants to send next.
enum class TxKind : uint8_t {
  kSyn,
  kSynAck,
  kRst,
  kRetransmit,  // a record of the retransmission queue deemed lost (or the FIN)
  kNewData,     // new bytes from the send buffer (may carry the FIN)
  kFin,         // a FIN without data
  kProbe,       // zero-window probe (RFC 9293 §3.8.6.1)
  kAck,         // a pure ACK (delayed-ACK expiry, window update, challenge, duplicate)
};

constexpr std::string_view TxKindName(TxKind k) {
  switch (k) {
    case TxKind::kSyn: return "SYN";
    case TxKind::kSynAck: return "SYN-ACK";
    case TxKind::kRst: return "RST";
    case TxKind::kRetransmit: return "retransmit";
    case TxKind::kNewData: return "data";
    case TxKind::kFin: return "FIN";
    case TxKind::kProbe: return "probe";
    case TxKind::kAck: return "ACK";
  }
  return "?";
}

// The next segment, as planned by NextTransmission(). The caller may lower `payload_len`
// (never raise it) and must pass it to Emit() before any other call on the engine.
struct Transmission {
  TxKind kind = TxKind::kAck;
  SeqNum32 seq;
  uint32_t payload_len = 0;
  bool fin = false;            // FIN rides on this segment if the payload reaches the end
  size_t record = 0;           // retransmission-queue index for kRetransmit
  size_t option_space = 0;     // option bytes left for the caller after the engine's own
  // GSO: when payload_len exceeds it, the payload goes out as one super-segment that the I/O
  // layer (or the NIC) cuts into segments of this many bytes, each with the same header and
  // options; the last may be shorter. 0: an ordinary segment.
  uint32_t segment_size = 0;
  uint64_t plan_id = 0;        // ties Emit() to the plan it was made from
};

}  // namespace mptcp::tcp

#endif  // MPTCP_TCP_ENGINE_TYPES_H_
