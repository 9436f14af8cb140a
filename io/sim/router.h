// A router (quiche's Switch, but routing by IP address instead of learning): forwards each
// packet, the instant it arrives, to the port of the longest prefix that matches its
// destination address (RFC 1812 §5.2.4.3); exact host routes are /32 or /128 prefixes.
// It never queues (links do) and does not touch the packet: no TTL decrement, so a capture on
// either side shows the same bytes.
#ifndef MPTCP_IO_SIM_ROUTER_H_
#define MPTCP_IO_SIM_ROUTER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "io/sim/packet.h"
#include "mptcp/address.h"

namespace mptcp::sim {

struct RouterStats {
  uint64_t forwarded = 0;
  uint64_t no_route = 0;   // dropped: no prefix matches
  uint64_t malformed = 0;  // dropped: not an IPv4/IPv6 packet with a whole header
};

class Router : public PacketSink {
 public:
  explicit Router(std::string name = "router") : name_(std::move(name)) {}

  const std::string& name() const { return name_; }

  // Adds an output port and returns its number (0, 1, ...).
  size_t AddPort(PacketSink* out) {
    ports_.push_back(Port{out, 0});
    return ports_.size() - 1;
  }
  void set_port(size_t port, PacketSink* out) { ports_.at(port).out = out; }
  size_t port_count() const { return ports_.size(); }
  // Packets forwarded to `port` so far.
  uint64_t port_packets(size_t port) const { return ports_.at(port).packets; }

  // Routes `prefix`/`length` to `port`, replacing a route for the same prefix. Bits of
  // `prefix` past `length` are ignored. Returns false (nothing added) for a length beyond the
  // family's width or an unknown port.
  bool AddRoute(const IpAddress& prefix, int length, size_t port) {
    if (length < 0 || static_cast<size_t>(length) > prefix.size() * 8 || port >= ports_.size()) {
      return false;
    }
    const IpAddress masked = Mask(prefix, length);
    for (Route& r : routes_) {
      if (r.prefix == masked && r.length == length) {
        r.port = port;
        return true;
      }
    }
    routes_.push_back(Route{masked, length, port});
    return true;
  }
  bool AddHostRoute(const IpAddress& host, size_t port) {
    return AddRoute(host, static_cast<int>(host.size() * 8), port);
  }
  // A /0 route for the family of `any` (pass IpAddress::V4(0,0,0,0) or an IPv6 address).
  bool SetDefaultRoute(const IpAddress& any, size_t port) { return AddRoute(any, 0, port); }

  // The port for `dst`: the longest matching prefix of its family, or nullopt.
  std::optional<size_t> Lookup(const IpAddress& dst) const {
    const Route* best = nullptr;
    for (const Route& r : routes_) {
      if (r.prefix.family() != dst.family()) continue;
      if (best != nullptr && r.length <= best->length) continue;
      if (Mask(dst, r.length) == r.prefix) best = &r;
    }
    if (best == nullptr) return std::nullopt;
    return best->port;
  }

  void Deliver(Packet packet) override {
    const std::optional<IpAddress> dst = DestinationOf(packet.bytes);
    if (!dst) {
      ++stats_.malformed;
      return;
    }
    const std::optional<size_t> port = Lookup(*dst);
    if (!port || ports_[*port].out == nullptr) {
      ++stats_.no_route;
      return;
    }
    ++stats_.forwarded;
    ++ports_[*port].packets;
    ports_[*port].out->Deliver(std::move(packet));
  }

  const RouterStats& stats() const { return stats_; }

  // The destination address of an IPv4 or IPv6 packet, read from the fixed header only (a
  // router does not need the rest to be valid); nullopt when the header is incomplete.
  static std::optional<IpAddress> DestinationOf(std::span<const uint8_t> p) {
    if (p.empty()) return std::nullopt;
    if ((p[0] >> 4) == 4 && p.size() >= 20) return IpAddress::V4FromBytes(p.data() + 16);
    if ((p[0] >> 4) == 6 && p.size() >= 40) return IpAddress::V6FromBytes(p.data() + 24);
    return std::nullopt;
  }
  static std::optional<IpAddress> SourceOf(std::span<const uint8_t> p) {
    if (p.empty()) return std::nullopt;
    if ((p[0] >> 4) == 4 && p.size() >= 20) return IpAddress::V4FromBytes(p.data() + 12);
    if ((p[0] >> 4) == 6 && p.size() >= 40) return IpAddress::V6FromBytes(p.data() + 8);
    return std::nullopt;
  }

 private:
  struct Port {
    PacketSink* out;
    uint64_t packets;
  };
  struct Route {
    IpAddress prefix;  // masked to `length`
    int length;
    size_t port;
  };

  static IpAddress Mask(const IpAddress& a, int length) {
    uint8_t b[16] = {};
    const size_t n = a.size();
    for (size_t i = 0; i < n; ++i) {
      const int bits = length - static_cast<int>(i) * 8;
      const uint8_t mask = bits >= 8   ? 0xff
                           : bits <= 0 ? 0
                                       : static_cast<uint8_t>(0xff << (8 - bits));
      b[i] = a.data()[i] & mask;
    }
    return a.is_v4() ? IpAddress::V4FromBytes(b) : IpAddress::V6FromBytes(b);
  }

  std::string name_;
  std::vector<Port> ports_;
  std::vector<Route> routes_;
  RouterStats stats_;
};

}  // namespace mptcp::sim

#endif  // MPTCP_IO_SIM_ROUTER_H_
