// What travels through the simulated network: a Packet (the IP packet's bytes plus simulator
// metadata) and PacketSink, the one interface every element that accepts packets implements.
#ifndef MPTCP_IO_SIM_PACKET_H_
#define MPTCP_IO_SIM_PACKET_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "mptcp/time.h"

namespace mptcp::sim {

struct Packet {
  // A whole IPv4 or IPv6 packet (LINKTYPE_RAW framing: no link-layer header).
  std::vector<uint8_t> bytes;
  // Unique per simulator (Simulator::NewPacket). A copy made by a duplicating link keeps the
  // id of its original: it is the same packet, delivered twice. Packets a middlebox builds
  // (segments split from or merged into others) get fresh ids.
  uint64_t id = 0;
  // When the packet entered the network (left its host or was built by a middlebox).
  Timestamp created;

  size_t size() const { return bytes.size(); }
  std::span<const uint8_t> span() const { return bytes; }
};

// An input port: anything that accepts packets. Ports are unconstrained (quiche's
// UnconstrainedPortInterface): they take every packet offered, at once, and queue or drop it
// themselves, so senders never wait. Elements that forward do so synchronously (routers,
// filters, taps) or schedule delivery for later (links, hosts); none calls back into its
// sender.
class PacketSink {
 public:
  virtual ~PacketSink() = default;
  virtual void Deliver(Packet packet) = 0;
};

// Swallows everything, counting: a default output, and the end of a path under test.
class DiscardSink : public PacketSink {
 public:
  void Deliver(Packet packet) override {
    ++packets_;
    bytes_ += packet.size();
  }
  uint64_t packets() const { return packets_; }
  uint64_t bytes() const { return bytes_; }

 private:
  uint64_t packets_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace mptcp::sim

#endif  // MPTCP_IO_SIM_PACKET_H_
