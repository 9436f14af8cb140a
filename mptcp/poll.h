// What the pull interface hands back: when to call again (PollAt) and where a packet goes
// (Transmit). Endpoint and Connection share them, so the driving loop reads the same way at
// either level:
//
//   while (auto t = ep.PollTransmit(now, buf)) send(t->path, buf.first(t->len));
//   switch (PollAt p = ep.NextDeadline(); p.kind()) { ... }
#ifndef MPTCP_POLL_H_
#define MPTCP_POLL_H_

#include <cstddef>
#include <cstdint>
#include <ostream>

#include "mptcp/address.h"
#include "mptcp/event.h"
#include "mptcp/time.h"

namespace mptcp {

// When the owner should call again: now (a packet is ready, or a timer is due), at a time,
// or never (nothing will happen until input or an API call).
class PollAt {
 public:
  enum class Kind : uint8_t { kNow, kAt, kNever };

  static constexpr PollAt Now() { return PollAt(Kind::kNow, Timestamp::Zero()); }
  static constexpr PollAt At(Timestamp t) { return PollAt(Kind::kAt, t); }
  static constexpr PollAt Never() { return PollAt(Kind::kNever, Timestamp::Never()); }
  // A timestamp as a PollAt: Never() stays never.
  static constexpr PollAt FromDeadline(Timestamp t) {
    return t == Timestamp::Never() ? Never() : At(t);
  }

  constexpr Kind kind() const { return kind_; }
  constexpr bool now() const { return kind_ == Kind::kNow; }
  constexpr bool never() const { return kind_ == Kind::kNever; }
  // For kAt: the instant.
  constexpr Timestamp at() const { return at_; }
  // Whether calling at `now` has something to do.
  constexpr bool DueBy(Timestamp now) const {
    return kind_ == Kind::kNow || (kind_ == Kind::kAt && at_ <= now);
  }
  // The instant to wake up at, given the current time: `now` for kNow, Never() for kNever.
  constexpr Timestamp WakeAt(Timestamp now) const {
    return kind_ == Kind::kNow ? now : at_;
  }

  // The earlier of two.
  static constexpr PollAt Earliest(PollAt a, PollAt b) {
    if (a.now() || b.never()) return a;
    if (b.now() || a.never()) return b;
    return a.at_ <= b.at_ ? a : b;
  }

  friend constexpr bool operator==(PollAt a, PollAt b) {
    return a.kind_ == b.kind_ && (a.kind_ != Kind::kAt || a.at_ == b.at_);
  }

 private:
  constexpr PollAt(Kind k, Timestamp t) : at_(t), kind_(k) {}
  Timestamp at_;
  Kind kind_;
};

inline std::ostream& operator<<(std::ostream& os, PollAt p) {
  switch (p.kind()) {
    case PollAt::Kind::kNow: return os << "now";
    case PollAt::Kind::kNever: return os << "never";
    case PollAt::Kind::kAt: return os << "at " << p.at();
  }
  return os;
}

// One packet (or, with segment_size, a GSO super-segment) written at the start of the caller's
// buffer, and where it goes.
struct Transmit {
  FourTuple path;            // local address first: the local one picks the device
  size_t len = 0;            // bytes in the buffer
  // When nonzero, the packet is a super-segment to be cut into segments of this many payload
  // bytes (GSO); 0: one packet as it is.
  uint16_t segment_size = 0;
  SubflowId subflow = 0;     // the subflow it belongs to (0: none, e.g. a RST to a stray)
};

// The outcome of PollTransmit: a packet, nothing to send now, or a buffer too small to hold
// the next packet (which stays queued). Tests true only for a packet:
//   while (auto t = ep.PollTransmit(now, buf)) Send(*t);
class TransmitResult {
 public:
  enum class Status : uint8_t { kPacket, kIdle, kBufferTooSmall };

  static TransmitResult Packet(const Transmit& t) { return TransmitResult(Status::kPacket, t, 0); }
  static TransmitResult Idle() { return TransmitResult(Status::kIdle, {}, 0); }
  static TransmitResult BufferTooSmall(size_t needed) {
    return TransmitResult(Status::kBufferTooSmall, {}, needed);
  }

  explicit operator bool() const { return status_ == Status::kPacket; }
  Status status() const { return status_; }
  const Transmit& operator*() const { return transmit_; }
  const Transmit* operator->() const { return &transmit_; }
  // For kBufferTooSmall: the buffer size needed.
  size_t needed() const { return needed_; }

 private:
  TransmitResult(Status s, const Transmit& t, size_t needed)
      : transmit_(t), needed_(needed), status_(s) {}
  Transmit transmit_;
  size_t needed_;
  Status status_;
};

}  // namespace mptcp

#endif  // MPTCP_POLL_H_
