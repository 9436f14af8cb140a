// The connection's life as one state machine. RFC 8684 §3.3.3: DATA_FIN closes the data
// stream as TCP's FIN closes a byte stream, so the states after establishment are TCP's
// (RFC 9293 §3.3.2) at the data level; the connection is closed once both DATA_FINs are
// acknowledged, with no TIME-WAIT at this level (the subflows keep their own). After a
// fallback to TCP (RFC 8684 §3.7) the DATA_FIN is the subflow's FIN, and the connection closes
// once the subflow has finished its FIN exchange.
//
//   state         input              next           what happened
//   ------------  -----------------  -------------  -------------------------------------------
//   kHandshake    kEstablished       kEstablished   the initial subflow can carry data
//                 kAppClose          kFinWait1      Close() before that: DATA_FIN waits for it
//                 kPeerDataFin       kCloseWait
//   kEstablished  kAppClose          kFinWait1      our DATA_FIN follows the queued data
//                 kPeerDataFin       kCloseWait     the peer's DATA_FIN, in order
//   kFinWait1     kDataFinAcked      kFinWait2      DATA_ACK covers our DATA_FIN
//                 kPeerDataFin       kClosing       simultaneous close
//   kFinWait2     kPeerDataFin       kClosed        both DATA_FINs acknowledged
//   kCloseWait    kAppClose          kLastAck
//   kClosing      kDataFinAcked      kClosed
//   kLastAck      kDataFinAcked      kClosed
//   kClosing,     kFinished          kClosed        after fallback: the subflow finished its
//   kLastAck,                                       FINs (both sides closed)
//   kFinWait2
//   any           kReset             kClosed        RST or MP_FASTCLOSE, abort, timeout,
//                                                   refusal (close_reason() says which)
//
// Any other input leaves the state as it is (kEstablished on an established connection, a
// second Close(), a repeated DATA_FIN).
#ifndef MPTCP_CONNECTION_STATE_H_
#define MPTCP_CONNECTION_STATE_H_

#include <cstdint>
#include <ostream>
#include <string_view>

namespace mptcp {

enum class ConnectionState : uint8_t {
  kHandshake,
  kEstablished,
  kFinWait1,
  kFinWait2,
  kCloseWait,
  kClosing,
  kLastAck,
  kClosed,
};

// Whether the connection speaks MPTCP, or fell back to plain TCP on one subflow (RFC 8684
// §3.7: options stripped, a plain TCP peer, an infinite mapping, a checksum failure).
enum class ConnectionMode : uint8_t { kMptcp, kFallback };

enum class StateInput : uint8_t {
  kEstablished,    // the initial subflow completed its handshake (MPTCP or fallback)
  kAppClose,       // the application called Close()
  kPeerDataFin,    // the peer's DATA_FIN (or, after fallback, FIN) arrived in order
  kDataFinAcked,   // a DATA_ACK covers our DATA_FIN
  kFinished,       // after fallback: no subflow has a FIN exchange left
  kReset,          // the connection ends abnormally
};

constexpr ConnectionState NextState(ConnectionState s, StateInput in) {
  using S = ConnectionState;
  using I = StateInput;
  if (in == I::kReset) return S::kClosed;
  switch (s) {
    case S::kHandshake:
      if (in == I::kEstablished) return S::kEstablished;
      if (in == I::kAppClose) return S::kFinWait1;
      if (in == I::kPeerDataFin) return S::kCloseWait;
      break;
    case S::kEstablished:
      if (in == I::kAppClose) return S::kFinWait1;
      if (in == I::kPeerDataFin) return S::kCloseWait;
      break;
    case S::kFinWait1:
      if (in == I::kDataFinAcked) return S::kFinWait2;
      if (in == I::kPeerDataFin) return S::kClosing;
      break;
    case S::kFinWait2:
      if (in == I::kPeerDataFin || in == I::kFinished) return S::kClosed;
      break;
    case S::kCloseWait:
      if (in == I::kAppClose) return S::kLastAck;
      break;
    case S::kClosing:
    case S::kLastAck:
      if (in == I::kDataFinAcked || in == I::kFinished) return S::kClosed;
      break;
    case S::kClosed:
      break;
  }
  return s;
}

// We closed our direction: Close() was called (the DATA_FIN may still wait for data).
constexpr bool WeClosed(ConnectionState s) {
  return s == ConnectionState::kFinWait1 || s == ConnectionState::kFinWait2 ||
         s == ConnectionState::kClosing || s == ConnectionState::kLastAck;
}
// The peer's DATA_FIN has arrived (states before kClosed).
constexpr bool PeerClosed(ConnectionState s) {
  return s == ConnectionState::kCloseWait || s == ConnectionState::kClosing ||
         s == ConnectionState::kLastAck;
}

constexpr std::string_view ConnectionStateName(ConnectionState s) {
  switch (s) {
    case ConnectionState::kHandshake: return "HANDSHAKE";
    case ConnectionState::kEstablished: return "ESTABLISHED";
    case ConnectionState::kFinWait1: return "FIN-WAIT-1";
    case ConnectionState::kFinWait2: return "FIN-WAIT-2";
    case ConnectionState::kCloseWait: return "CLOSE-WAIT";
    case ConnectionState::kClosing: return "CLOSING";
    case ConnectionState::kLastAck: return "LAST-ACK";
    case ConnectionState::kClosed: return "CLOSED";
  }
  return "?";
}

inline std::ostream& operator<<(std::ostream& os, ConnectionState s) {
  return os << ConnectionStateName(s);
}

}  // namespace mptcp

#endif  // MPTCP_CONNECTION_STATE_H_
