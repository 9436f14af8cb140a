// What is left of a subflow in TIME-WAIT once its connection has been released: the few
// fields needed to acknowledge a retransmitted FIN and to answer old duplicates (RFC 9293
// §3.10.7.4), as Linux keeps a tcp_timewait_sock instead of the whole socket. 28 bytes instead
// of a whole engine, so that closed connections leave at once and a busy host can hold many.
#ifndef MPTCP_TCP_TIME_WAIT_H_
#define MPTCP_TCP_TIME_WAIT_H_

#include <cstdint>

#include "mptcp/seq.h"
#include "mptcp/time.h"
#include "mptcp/wire/tcp.h"

namespace mptcp::tcp {

struct TimeWaitRecord {
  SeqNum32 snd_nxt;    // after our FIN
  SeqNum32 rcv_nxt;    // after the peer's FIN
  uint32_t ts_offset = 0;  // our timestamp clock's offset (RFC 7323 §5.4)
  uint32_t ts_recent = 0;  // the peer's latest TSval (echoed in TSecr)
  Timestamp expiry;        // 2 MSL after the last FIN
  uint16_t window = 0;     // the window field our ACKs carry (already scaled)
  bool timestamps = false;

  enum class Action : uint8_t {
    kIgnore,  // a duplicate ACK: nothing to say
    kAck,     // answer with Ack() (a retransmitted FIN, an old duplicate)
    kForget,  // a RST: the record goes (RFC 9293 §3.10.7.4; Linux without tcp_rfc1337)
    kReuse,   // a new SYN beyond the old connection: the record goes, the SYN opens anew
  };

  // RFC 9293 §3.10.7.4 for a segment arriving in TIME-WAIT; restarts the 2 MSL wait on a
  // retransmitted FIN. `time_wait` is 2 MSL.
  Action OnSegment(Timestamp now, const wire::TcpRepr& seg, Duration time_wait) {
    if (seg.has_flag(wire::TcpFlag::kRst)) return Action::kForget;
    if (seg.has_flag(wire::TcpFlag::kSyn) && !seg.has_flag(wire::TcpFlag::kAck)) {
      // A new incarnation may start where the old one cannot be confused with it: its SYN
      // beyond what the old one received, or its timestamp newer (RFC 6191; Linux's
      // tcp_timewait_state_process).
      const bool newer_ts = timestamps && seg.options.timestamps &&
                            static_cast<int32_t>(seg.options.timestamps->tsval - ts_recent) > 0;
      if (seg.seq > rcv_nxt || newer_ts) return Action::kReuse;
      return Action::kAck;
    }
    if (seg.has_flag(wire::TcpFlag::kFin)) {
      expiry = now + time_wait;  // "restart the 2 MSL timeout"
      // (TS.Recent stays: as the engine and Linux's tcp_timewait_state_process, the ACK
      // echoes the timestamp of the FIN that was acknowledged first.)
      return Action::kAck;
    }
    // Anything carrying data, or not at RCV.NXT, is an old duplicate: acknowledge it.
    if (!seg.payload.empty() || seg.seq != rcv_nxt) return Action::kAck;
    return Action::kIgnore;
  }

  // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, with timestamps when they were in use.
  wire::TcpRepr Ack(Timestamp now, uint16_t local_port, uint16_t remote_port) const {
    wire::TcpRepr r;
    r.src_port = local_port;
    r.dst_port = remote_port;
    r.seq = snd_nxt;
    r.ack = rcv_nxt;
    r.flags = wire::TcpFlag::kAck;
    r.window = window;
    if (timestamps) {
      r.options.timestamps =
          wire::TcpTimestamps{static_cast<uint32_t>(now.nanos() / 1'000'000) + ts_offset,
                              ts_recent};
    }
    return r;
  }
};

}  // namespace mptcp::tcp

#endif  // MPTCP_TCP_TIME_WAIT_H_
