// The connection states of RFC 9293 §3.3.2, with printable names.
#ifndef MPTCP_TCP_TCP_STATE_H_
#define MPTCP_TCP_TCP_STATE_H_

#include <cstdint>
#include <ostream>
#include <string_view>

namespace mptcp::tcp {

enum class TcpState : uint8_t {
  kClosed,
  kListen,
  kSynSent,
  kSynReceived,
  kEstablished,
  kFinWait1,
  kFinWait2,
  kCloseWait,
  kClosing,
  kLastAck,
  kTimeWait,
};

constexpr std::string_view TcpStateName(TcpState s) {
  switch (s) {
    case TcpState::kClosed: return "CLOSED";
    case TcpState::kListen: return "LISTEN";
    case TcpState::kSynSent: return "SYN-SENT";
    case TcpState::kSynReceived: return "SYN-RECEIVED";
    case TcpState::kEstablished: return "ESTABLISHED";
    case TcpState::kFinWait1: return "FIN-WAIT-1";
    case TcpState::kFinWait2: return "FIN-WAIT-2";
    case TcpState::kCloseWait: return "CLOSE-WAIT";
    case TcpState::kClosing: return "CLOSING";
    case TcpState::kLastAck: return "LAST-ACK";
    case TcpState::kTimeWait: return "TIME-WAIT";
  }
  return "?";
}

inline std::ostream& operator<<(std::ostream& os, TcpState s) { return os << TcpStateName(s); }

// RFC 9293 §3.3.2: the states after the handshake, where both sequence spaces are known.
constexpr bool IsSynchronized(TcpState s) {
  return s != TcpState::kClosed && s != TcpState::kListen && s != TcpState::kSynSent &&
         s != TcpState::kSynReceived;
}

// States in which the application may still queue data to send.
constexpr bool CanSend(TcpState s) {
  return s == TcpState::kSynSent || s == TcpState::kSynReceived || s == TcpState::kEstablished ||
         s == TcpState::kCloseWait;
}

// States in which arriving segment text is accepted (RFC 9293 §3.10.7.4, seventh step).
constexpr bool CanReceiveData(TcpState s) {
  return s == TcpState::kEstablished || s == TcpState::kFinWait1 || s == TcpState::kFinWait2;
}

}  // namespace mptcp::tcp

#endif  // MPTCP_TCP_TCP_STATE_H_
