// Test-only: builds captures byte by byte for mptcp_trace's tests and seed corpus: IP/TCP
// segments with MPTCP options (the project's emitters), link-layer framings, classic pcap and
// pcapng files in either byte order, and a scripted MPTCP v1 connection with real keys and
// HMACs (RFC 8684 §3.1-3.2) whose expected analysis is known.
#ifndef MPTCP_TOOLS_TRACE_CAPTURE_BUILDER_H_
#define MPTCP_TOOLS_TRACE_CAPTURE_BUILDER_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "mptcp/address.h"
#include "mptcp/wire/mptcp_options.h"
#include "mptcp/wire/tcp_options.h"

namespace mptcp::trace::testing {

using Bytes = std::vector<uint8_t>;

struct SegmentSpec {
  SocketAddress src, dst;
  uint32_t seq = 0, ack = 0;
  uint8_t flags = 0;
  std::vector<wire::MptcpOption> mptcp;
  wire::MptcpVersion version = wire::MptcpVersion::kV1;
  std::optional<uint16_t> mss;
  uint32_t payload_len = 0;  // zero bytes of payload, written whole
};

// A whole IPv4/IPv6 packet (valid checksums). Aborts the test binary on an encoding error.
Bytes BuildPacket(const SegmentSpec& spec);

// Link-layer framings of an IP packet.
Bytes Ethernet(std::span<const uint8_t> ip, std::span<const uint16_t> vlan_ids = {});
Bytes LinuxSll(std::span<const uint8_t> ip);
Bytes LinuxSll2(std::span<const uint8_t> ip);

// Classic pcap.
class PcapFile {
 public:
  PcapFile(uint32_t link_type, bool big_endian = false, bool nanos = false,
           uint32_t snaplen = 65535);
  // Keeps the first min(snaplen, size) bytes; the original length is `frame.size()`.
  void Add(int64_t time_ns, std::span<const uint8_t> frame);
  const Bytes& bytes() const { return bytes_; }

 private:
  void Put32(uint32_t v);
  void Put16(uint16_t v);
  Bytes bytes_;
  bool big_endian_, nanos_;
  uint32_t snaplen_;
};

// pcapng: a section header at construction, then blocks in call order.
class PcapngFile {
 public:
  explicit PcapngFile(bool big_endian = false);
  // An Interface Description Block; `tsresol` is the if_tsresol byte (6 = microseconds,
  // 9 = nanoseconds). Returns the interface id.
  uint32_t AddInterface(uint16_t link_type, uint32_t snaplen = 0, uint8_t tsresol = 6);
  // An Enhanced Packet Block stamped `ticks` in the interface's resolution; keeps at most
  // `snaplen` bytes (0: all).
  void AddPacket(uint32_t interface_id, uint64_t ticks, std::span<const uint8_t> frame,
                 uint32_t snaplen = 0);
  void AddSimplePacket(std::span<const uint8_t> frame);
  void AddBlock(uint32_t type, std::span<const uint8_t> body);  // any other block
  void AddSection();  // a new Section Header Block (interfaces start over)
  const Bytes& bytes() const { return bytes_; }

 private:
  void Put32(Bytes& b, uint32_t v) const;
  void Put16(Bytes& b, uint16_t v) const;
  Bytes bytes_;
  bool big_endian_;
  uint32_t interfaces_ = 0;
};

// A scripted MPTCP v1 connection, client 192.0.2.1 -> server 198.51.100.1:80, the frames as
// raw IP packets in order, and what the analysis should find.
struct ScriptedConnection {
  std::vector<Bytes> packets;
  std::vector<int64_t> times_ns;
  uint64_t client_key = 0, server_key = 0;
  uint64_t c2s_bytes = 0, s2c_bytes = 0;  // payload, all subflows
  uint64_t reinjected_c2s = 0;
};

struct ScriptOptions {
  bool join = true;          // a second subflow 192.0.2.2 -> 198.51.100.1 (MP_JOIN)
  bool add_addr = true;      // the server announces 203.0.113.1 (and the client echoes it)
  bool reinject = false;     // the client resends its first segment's DSNs on the join
  bool bad_join_hmac = false;      // a wrong truncated HMAC in the join SYN/ACK
  bool conflicting_mapping = false;  // a second mapping of the same bytes to another DSN
  bool data_ack_backwards = false;   // the server's DATA_ACK goes back by 100
  bool infinite_mapping = false;     // the server falls back with an infinite mapping
  bool fastclose = false;            // the client ends with MP_FASTCLOSE, the server MP_TCPRST
  std::optional<uint16_t> add_addr_port;  // announce 203.0.113.1 with this port
  bool prio_and_remove = false;  // the client marks the join backup (MP_PRIO), the server
                                 // withdraws 203.0.113.1 (REMOVE_ADDR id 1)
  bool v0 = false;  // RFC 6824 (keys on the SYN, SHA-1 tokens; HMACs left zero: not checked)
  uint32_t segment_bytes = 1000;
  int segments_each = 4;  // data segments per subflow and direction
};

ScriptedConnection ScriptConnection(const ScriptOptions& options = {});

}  // namespace mptcp::trace::testing

#endif  // MPTCP_TOOLS_TRACE_CAPTURE_BUILDER_H_
