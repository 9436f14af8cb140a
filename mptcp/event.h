// Events a Connection reports to its user through PollEvent(): the connection's own life
// cycle, its subflows coming and going, data readiness, and addresses the peer announces.
#ifndef MPTCP_EVENT_H_
#define MPTCP_EVENT_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string_view>

#include "mptcp/address.h"

namespace mptcp {

// Why a connection (or a subflow) ended.
enum class CloseReason : uint8_t {
  kNone,
  kNormal,          // both DATA_FINs acknowledged (RFC 8684 §3.3.3), or TCP FINs after fallback
  kReset,           // the peer reset the connection (RST after fallback, or MP_FASTCLOSE)
  kRefused,         // the peer refused the first subflow
  kTimeout,         // no subflow could deliver data (all timed out)
  kAborted,         // the application called Abort()
  kProtocolError,   // the peer violated the protocol in a way that cannot be recovered
};

constexpr std::string_view CloseReasonName(CloseReason r) {
  switch (r) {
    case CloseReason::kNone: return "none";
    case CloseReason::kNormal: return "normal";
    case CloseReason::kReset: return "reset";
    case CloseReason::kRefused: return "refused";
    case CloseReason::kTimeout: return "timeout";
    case CloseReason::kAborted: return "aborted";
    case CloseReason::kProtocolError: return "protocol-error";
  }
  return "?";
}

inline std::ostream& operator<<(std::ostream& os, CloseReason r) { return os << CloseReasonName(r); }

enum class EventType : uint8_t {
  kEstablished,        // the connection can carry data (MPTCP or, after fallback, TCP)
  kFellBackToTcp,      // the connection continues as plain TCP (RFC 8684 §3.7)
  kSubflowUp,          // a subflow is fully established and may carry data
  kSubflowDown,        // a subflow closed (subflow_reason says why)
  kReadable,           // Read() has data (or the peer's DATA_FIN)
  kWritable,           // Write() has room again after it was full
  kAddressAnnounced,   // the peer sent ADD_ADDR (address, address_id)
  kAddressRemoved,     // the peer sent REMOVE_ADDR (address_id)
  kClosed,             // the connection is over (reason)
};

constexpr std::string_view EventTypeName(EventType t) {
  switch (t) {
    case EventType::kEstablished: return "Established";
    case EventType::kFellBackToTcp: return "FellBackToTcp";
    case EventType::kSubflowUp: return "SubflowUp";
    case EventType::kSubflowDown: return "SubflowDown";
    case EventType::kReadable: return "Readable";
    case EventType::kWritable: return "Writable";
    case EventType::kAddressAnnounced: return "AddressAnnounced";
    case EventType::kAddressRemoved: return "AddressRemoved";
    case EventType::kClosed: return "Closed";
  }
  return "?";
}

using SubflowId = uint32_t;

struct Event {
  EventType type = EventType::kEstablished;
  SubflowId subflow = 0;            // kSubflowUp / kSubflowDown
  CloseReason reason = CloseReason::kNone;  // kClosed / kSubflowDown
  uint8_t address_id = 0;           // kAddressAnnounced / kAddressRemoved
  SocketAddress address{};          // kAddressAnnounced (port 0: the connection's port)

  friend bool operator==(const Event&, const Event&) = default;
};

inline std::ostream& operator<<(std::ostream& os, const Event& e) {
  os << EventTypeName(e.type);
  switch (e.type) {
    case EventType::kSubflowUp: return os << "(" << e.subflow << ")";
    case EventType::kSubflowDown: return os << "(" << e.subflow << ", " << e.reason << ")";
    case EventType::kAddressAnnounced:
      return os << "(id " << int{e.address_id} << ", " << e.address << ")";
    case EventType::kAddressRemoved: return os << "(id " << int{e.address_id} << ")";
    case EventType::kClosed: return os << "(" << e.reason << ")";
    default: return os;
  }
}

}  // namespace mptcp

#endif  // MPTCP_EVENT_H_
