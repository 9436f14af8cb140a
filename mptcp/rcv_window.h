// The data-level receive window one segment advertises (RFC 8684 §3.3.4, §3.3.5): which
// DATA_ACK it carries and which window, so that the right edge the peer computes (DATA_ACK +
// window) never moves left and never promises more than the receive buffer holds.
//
// Two things make this more than "DATA_ACK = RCV.NXT, window = free space":
//  - Window scaling (RFC 7323 §2.3) carries the window in units of 2^scale octets. Rounding the
//    window down can retract the edge by up to a unit; rounding it up promises octets the buffer
//    may not hold. When rounding up would overrun the buffer, the DATA_ACK is held back by less
//    than one unit instead, so that the edge lands exactly where it already was.
//  - A peer takes the window of a segment only if the segment is newer than the one it last took
//    the window from (RFC 9293 §3.10.7.4 SND.WL1/SND.WL2; Linux's tcp_may_update_window is
//    stricter still and ignores a smaller window at the same SEQ and ACK). Linux MPTCP then adds
//    the window it kept to the newest DATA_ACK (net/mptcp/options.c, ack_update_msk). A pure ACK
//    that repeats the subflow's SEQ and ACK but carries a newer DATA_ACK (data arrived on another
//    subflow) with a smaller window would make such a peer send past our edge. On such a
//    segment the window stays what the peer keeps and the DATA_ACK is held back to match.
#ifndef MPTCP_RCV_WINDOW_H_
#define MPTCP_RCV_WINDOW_H_

#include <algorithm>
#include <cstdint>

#include "mptcp/seq.h"

namespace mptcp {

struct WindowAdvert {
  Dsn64 data_ack = 0;   // what the DSS carries (at most the receiver's RCV.NXT)
  uint64_t window = 0;  // octets, a multiple of 2^scale (of 1 for a SYN)
  Dsn64 edge() const { return data_ack + window; }
};

struct WindowInputs {
  Dsn64 rcv_nxt = 0;      // the data level's next expected octet (the true DATA_ACK)
  Dsn64 edge = 0;         // the highest right edge advertised so far
  Dsn64 buffer_edge = 0;  // what the buffer offers: octets read + nominal capacity
  Dsn64 hard_edge = 0;    // the last octet the buffer can store + 1 (>= buffer_edge)
  uint8_t scale = 0;      // the subflow's receive window scale (RFC 7323 §2.2)
  uint64_t max_window = 0xffff;  // the largest window the field can carry, in octets
  // The window the peer keeps when this segment is not newer than the last one it took a
  // window from (0 when it is newer): see TcpEngine::WindowPeerKeeps.
  uint64_t peer_keeps = 0;
  // The peer's DATA_FIN was received: the DATA_ACK must be exact (no data can follow it).
  bool final = false;
  // The segment carries no DATA_ACK (an MP_CAPABLE or MP_JOIN third ACK): nothing to hold
  // back, so the window is rounded down where rounding up would overrun the buffer.
  bool no_data_ack = false;
};

inline uint64_t RoundUpToUnit(uint64_t bytes, uint8_t scale) {
  const uint64_t unit = uint64_t{1} << scale;
  return (bytes + unit - 1) & ~(unit - 1);
}

inline WindowAdvert ChooseWindow(const WindowInputs& in) {
  const uint64_t unit = uint64_t{1} << in.scale;
  const uint64_t max_window = in.max_window & ~(unit - 1);
  // RFC 8684 §3.3.5: the right edge never moves left.
  Dsn64 target = std::max(in.edge, std::min(in.buffer_edge, in.rcv_nxt + max_window));
  target = std::max(target, in.rcv_nxt);
  WindowAdvert a{in.rcv_nxt, std::min(RoundUpToUnit(target - in.rcv_nxt, in.scale), max_window)};
  const uint64_t keeps = std::min(RoundUpToUnit(in.peer_keeps, in.scale), max_window);
  if (in.final) {
    a.window = std::max(a.window, keeps);
    return a;
  }
  if (in.no_data_ack) {
    if (a.edge() > in.hard_edge && a.window >= unit) a.window -= unit;
    a.window = std::max(a.window, keeps);  // (the peer keeps that one anyway)
    return a;
  }
  if (keeps > a.window) {
    // The peer would ignore the smaller window: keep its window, hold DATA_ACK back.
    a.window = keeps;
    a.data_ack = target - keeps;
  } else if (a.edge() > in.hard_edge) {
    // Rounding up would promise octets the buffer cannot hold: hold DATA_ACK back by less than
    // one unit so that the edge is exactly `target`.
    a.data_ack = target - a.window;
  }
  return a;
}

}  // namespace mptcp

#endif  // MPTCP_RCV_WINDOW_H_
