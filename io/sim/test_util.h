// Test helpers for io/sim: a sink that records what reaches it and when, and builders for
// hand-made TCP packets with MPTCP options.
#ifndef MPTCP_IO_SIM_TEST_UTIL_H_
#define MPTCP_IO_SIM_TEST_UTIL_H_

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <utility>
#include <vector>

#include "io/sim/packet.h"
#include "io/sim/packet_edit.h"
#include "io/sim/simulator.h"
#include "mptcp/address.h"
#include "mptcp/wire/mptcp_options.h"
#include "mptcp/wire/tcp.h"

namespace mptcp::sim::testing {

// Keeps every packet it receives with the simulated time of arrival.
class RecordingSink : public PacketSink {
 public:
  explicit RecordingSink(Simulator& sim) : sim_(sim) {}
  struct Arrival {
    Timestamp at;
    Packet packet;
  };
  void Deliver(Packet packet) override { arrivals_.push_back({sim_.now(), std::move(packet)}); }
  const std::vector<Arrival>& arrivals() const { return arrivals_; }
  size_t size() const { return arrivals_.size(); }
  const Packet& packet(size_t i) const { return arrivals_.at(i).packet; }
  Timestamp at(size_t i) const { return arrivals_.at(i).at; }
  void clear() { arrivals_.clear(); }

 private:
  Simulator& sim_;
  std::vector<Arrival> arrivals_;
};

inline Timestamp Ms(int64_t n) { return Timestamp::Zero() + Duration::Millis(n); }
inline Timestamp Us(int64_t n) { return Timestamp::Zero() + Duration::Micros(n); }

// An IPv4 packet of exactly `size` bytes (a UDP-less, protocol-253 filler: routers and links
// do not look inside), with `tag` in its IP ID so tests can tell packets apart.
inline std::vector<uint8_t> FillerPacket(size_t size, uint16_t tag,
                                         IpAddress src = IpAddress::V4(10, 0, 0, 1),
                                         IpAddress dst = IpAddress::V4(10, 0, 0, 2)) {
  wire::IpRepr ip;
  ip.src = src;
  ip.dst = dst;
  ip.protocol = 253;  // RFC 3692 experimental
  ip.ident = tag;
  ip.payload_len = static_cast<uint16_t>(size - ip.HeaderLength());
  std::vector<uint8_t> out(size, 0);
  (void)ip.Emit(out);
  return out;
}
inline uint16_t TagOf(const Packet& p) {
  return static_cast<uint16_t>(p.bytes[4] << 8 | p.bytes[5]);
}

// Appends one MPTCP option to `opts`.
template <typename T>
void AddMptcp(wire::TcpOptions& opts, const T& option) {
  std::array<uint8_t, 40> buf{};
  auto n = wire::EmitMptcpOption(option, buf);
  if (n.ok()) opts.AddMptcpOption(std::span<const uint8_t>(buf).first(*n));
}

struct SegmentSpec {
  SocketAddress src{IpAddress::V4(192, 0, 2, 1), 40000};
  SocketAddress dst{IpAddress::V4(198, 51, 100, 1), 80};
  uint32_t seq = 1000;
  uint32_t ack = 5000;
  uint8_t flags = wire::TcpFlag::kAck;
  uint16_t window = 65535;
  wire::TcpOptions options;
  std::vector<uint8_t> payload;
  uint16_t ip_ident = 0;
};

inline std::vector<uint8_t> BuildSegment(const SegmentSpec& s) {
  wire::TcpRepr tcp;
  tcp.src_port = s.src.port;
  tcp.dst_port = s.dst.port;
  tcp.seq = SeqNum32(s.seq);
  tcp.ack = SeqNum32(s.ack);
  tcp.flags = s.flags;
  tcp.window = s.window;
  tcp.options = s.options;
  tcp.payload = s.payload;
  return BuildTcpPacket(s.src.ip, s.dst.ip, tcp, s.ip_ident);
}

inline std::vector<uint8_t> Bytes(size_t n, uint8_t first = 0) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(first + i);
  return v;
}

// The parsed TCP segment of a packet (for assertions); the packet must outlive the result.
inline wire::TcpRepr ParseSegment(const std::vector<uint8_t>& packet) {
  auto ip = wire::ParseIpPacket(packet);
  if (!ip.ok()) return {};
  auto tcp = wire::TcpRepr::Parse(ip->payload);
  return tcp.ok() ? *tcp : wire::TcpRepr{};
}

// The MPTCP options a packet carries, parsed.
inline std::vector<wire::MptcpOption> MptcpOptionsOf(const std::vector<uint8_t>& packet) {
  std::vector<wire::MptcpOption> v;
  const wire::TcpRepr seg = ParseSegment(packet);
  for (std::span<const uint8_t> o : seg.options.mptcp_options()) {
    auto p = wire::ParseMptcpOption(o);
    if (p.ok()) v.push_back(*p);
  }
  return v;
}

// The packet's 4-tuple, sender first (empty addresses if it is not TCP).
inline FourTuple TupleOf(std::vector<uint8_t> packet) {
  auto v = ParseTcpPacket(packet);
  return v ? v->tuple() : FourTuple{};
}

inline bool ChecksumsValid(std::vector<uint8_t> packet) {
  auto v = ParseTcpPacket(packet);
  return v && v->ChecksumsValid();
}

}  // namespace mptcp::sim::testing

#endif  // MPTCP_IO_SIM_TEST_UTIL_H_
