// A simulated host: one real mptcp::Endpoint behind several interfaces (addresses). Packets
// that reach the host (Deliver, from any interface) go to Endpoint::OnPacket; what the
// endpoint sends (PollTransmit) leaves through the interface that owns the packet's source
// address; the host wakes at Endpoint::NextDeadline() for timers. An application hook runs at
// every wake-up so a test can connect, write and read.
//
// Every call into the endpoint happens inside Act(): Deliver() only queues the packet and
// asks for a wake-up now, so the endpoint is never re-entered from another element, and
// packets arriving at the same instant are handled together before anything is sent.
//
// A wake-up runs, in order: OnPacket for each queued packet, OnTimeout if a timer is due, the
// application hook, then PollTransmit until it is empty; then the host sleeps until
// NextDeadline(). If the endpoint keeps asking to run "now" while no packet comes in or goes
// out (a livelock in the core), the host gives up after kMaxIdleWakesPerInstant such wake-ups
// at one instant, records why (stuck()), and retries 1 ms later so the run can still end.
#ifndef MPTCP_IO_SIM_HOST_H_
#define MPTCP_IO_SIM_HOST_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "io/sim/packet.h"
#include "io/sim/router.h"
#include "io/sim/simulator.h"
#include "mptcp/address.h"
#include "mptcp/endpoint.h"
#include "mptcp/time.h"

namespace mptcp::sim {

struct HostStats {
  uint64_t packets_in = 0;          // delivered to the host
  uint64_t packets_out = 0;         // sent through an interface
  uint64_t not_for_us = 0;          // dropped: destination is none of our addresses
  uint64_t no_interface = 0;        // dropped: no interface owns the source address
  uint64_t rejected = 0;            // OnPacket verdict other than delivered / new connection
  uint64_t segments_dropped = 0;    // delivered to a connection, which dropped it
  uint64_t wakes = 0;
};

class Host : public Actor, public PacketSink {
 public:
  static constexpr int kMaxIdleWakesPerInstant = 1'000;
  using WakeFn = std::function<void(Timestamp now, Host& host)>;

  Host(Simulator& sim, std::string name, const EndpointConfig& config, uint64_t seed)
      : Actor(sim, std::move(name)),
        endpoint_(config, seed),
        buf_(kBufferSize) {}

  Endpoint& endpoint() { return endpoint_; }
  const Endpoint& endpoint() const { return endpoint_; }

  // Adds an address; packets sent from it go to `out` (a link, a filter, a router...).
  void AddInterface(const IpAddress& address, PacketSink* out) {
    for (Interface& i : interfaces_) {
      if (i.address == address) {
        i.out = out;
        return;
      }
    }
    interfaces_.push_back(Interface{address, out, 0});
  }
  bool Owns(const IpAddress& a) const {
    for (const Interface& i : interfaces_) {
      if (i.address == a) return true;
    }
    return false;
  }
  std::vector<IpAddress> addresses() const {
    std::vector<IpAddress> v;
    for (const Interface& i : interfaces_) v.push_back(i.address);
    return v;
  }
  // Packets sent through the interface owning `a`.
  uint64_t interface_packets(const IpAddress& a) const {
    for (const Interface& i : interfaces_) {
      if (i.address == a) return i.packets;
    }
    return 0;
  }

  // The application: called at every wake-up, after input and timers, before output.
  void set_on_wake(WakeFn fn) { on_wake_ = std::move(fn); }
  // Asks for a wake-up at `at` (e.g. for the application to start, or to act later).
  void WakeAt(Timestamp at) { Schedule(at); }

  void Deliver(Packet packet) override {
    ++stats_.packets_in;
    inbox_.push_back(std::move(packet));
    Schedule(simulator().now());
  }

  void Act(Timestamp now) override;

  const HostStats& stats() const { return stats_; }
  // Set once the endpoint livelocked (see the header comment).
  bool stuck() const { return !stuck_reason_.empty(); }
  const std::string& stuck_reason() const { return stuck_reason_; }
  // What the endpoint said about the last packet it rejected, for diagnostics.
  std::optional<PacketVerdict> last_rejection() const { return last_rejection_; }
  // Why a connection dropped the last segment it dropped (static text), and the TCP reason.
  std::string_view last_drop_reason() const { return last_drop_.reason; }
  tcp::DropReason last_tcp_drop() const { return last_drop_.tcp_drop; }
  // Called with every packet handed to the endpoint and what became of it (for tracing).
  using PacketHook = std::function<void(Timestamp now, const Packet&, const PacketResult&)>;
  void set_on_packet(PacketHook hook) { on_packet_ = std::move(hook); }

 private:
  // Room for any IP packet the endpoint can build (40 + 60 + MSS, MSS <= 65535 - 100).
  static constexpr size_t kBufferSize = 65536;

  struct Interface {
    IpAddress address;
    PacketSink* out;
    uint64_t packets;
  };

  // The Transmit names the path: its local address picks the interface.
  void Send(Timestamp now, const Transmit& t) {
    const size_t len = t.len;
    for (Interface& i : interfaces_) {
      if (i.address == t.path.local.ip && i.out != nullptr) {
        ++i.packets;
        ++stats_.packets_out;
        Packet p = simulator().NewPacket(
            std::vector<uint8_t>(buf_.begin(), buf_.begin() + static_cast<ptrdiff_t>(len)));
        p.created = now;
        i.out->Deliver(std::move(p));
        return;
      }
    }
    ++stats_.no_interface;
  }

  Endpoint endpoint_;
  std::vector<Interface> interfaces_;
  std::deque<Packet> inbox_;
  std::vector<uint8_t> buf_;
  WakeFn on_wake_;
  HostStats stats_;
  Timestamp last_wake_ = Timestamp::Never();
  int idle_wakes_this_instant_ = 0;
  std::string stuck_reason_;
  std::optional<PacketVerdict> last_rejection_;
  Disposition last_drop_;
  PacketHook on_packet_;
};

// --- implementation ---------------------------------------------------------------------------

inline void Host::Act(Timestamp now) {
  ++stats_.wakes;
  if (now != last_wake_) idle_wakes_this_instant_ = 0;
  last_wake_ = now;
  bool busy = !inbox_.empty();
  while (!inbox_.empty()) {
    Packet p = std::move(inbox_.front());
    inbox_.pop_front();
    const std::optional<IpAddress> dst = Router::DestinationOf(p.bytes);
    if (dst && !Owns(*dst)) {
      ++stats_.not_for_us;
      continue;
    }
    const PacketResult r = endpoint_.OnPacket(now, p.bytes);
    if (r.verdict != PacketVerdict::kDelivered && r.verdict != PacketVerdict::kNewConnection) {
      ++stats_.rejected;
      last_rejection_ = r.verdict;
    } else if (r.disposition.verdict == Verdict::kDropped) {
      ++stats_.segments_dropped;
      last_drop_ = r.disposition;
    }
    if (on_packet_) on_packet_(now, p, r);
  }
  const PollAt due = endpoint_.NextDeadline();
  if (due.DueBy(now)) endpoint_.OnTimeout(now);  // a no-op when only output is ready
  if (on_wake_) on_wake_(now, *this);
  while (const TransmitResult t = endpoint_.PollTransmit(now, buf_)) {
    Send(now, *t);
    busy = true;
  }

  Timestamp next = endpoint_.NextDeadline().WakeAt(now);
  if (next <= now) {
    // The endpoint wants to run again at once. Fine while it makes progress; a run of wake-ups
    // at one instant with no packet in or out is a livelock.
    idle_wakes_this_instant_ = busy ? 0 : idle_wakes_this_instant_ + 1;
    next = now;
    if (idle_wakes_this_instant_ >= kMaxIdleWakesPerInstant) {
      if (stuck_reason_.empty()) {
        stuck_reason_ = absl::StrFormat(
            "%s: endpoint livelock at %.6fs: NextDeadline() stays at or before now for %d "
            "wake-ups in which no packet came in or went out",
            name(), (now - Timestamp::Zero()).seconds(), kMaxIdleWakesPerInstant);
      }
      next = now + Duration::Millis(1);
    }
  }
  Schedule(next);
}

}  // namespace mptcp::sim

#endif  // MPTCP_IO_SIM_HOST_H_
