// Capture construction for mptcp_trace's tests (capture_builder.h).
#include "tools/trace/capture_builder.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "mptcp/crypto/keys.h"
#include "mptcp/wire/ip.h"
#include "mptcp/wire/tcp.h"
#include "tools/trace/sha1.h"

namespace mptcp::trace::testing {
namespace {

namespace w = wire;

[[noreturn]] void Die(const char* what, const w::WireError& e) {
  std::fprintf(stderr, "capture_builder: %s: %s\n", what, e.ToString().c_str());
  std::abort();
}

void Be16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}

}  // namespace

Bytes BuildPacket(const SegmentSpec& spec) {
  w::TcpRepr t;
  t.src_port = spec.src.port;
  t.dst_port = spec.dst.port;
  t.seq = SeqNum32(spec.seq);
  t.ack = SeqNum32(spec.ack);
  t.flags = spec.flags;
  t.window = 65535;
  t.options.mss = spec.mss;
  for (const w::MptcpOption& o : spec.mptcp) {
    uint8_t buf[40];
    auto n = w::EmitMptcpOption(o, buf, spec.version);
    if (!n.ok()) Die("MPTCP option", n.error());
    if (!t.options.AddMptcpOption(std::span<const uint8_t>(buf, *n))) {
      std::fprintf(stderr, "capture_builder: MPTCP options exceed 40 bytes\n");
      std::abort();
    }
  }
  const Bytes payload(spec.payload_len, 0x5a);
  t.payload = payload;
  w::IpRepr ip;
  ip.src = spec.src.ip;
  ip.dst = spec.dst.ip;
  ip.payload_len = static_cast<uint16_t>(t.EncodedLength());
  Bytes out(ip.HeaderLength() + t.EncodedLength());
  auto h = ip.Emit(out);
  if (!h.ok()) Die("IP header", h.error());
  auto n = t.Emit(std::span<uint8_t>(out).subspan(*h), ip.src, ip.dst);
  if (!n.ok()) Die("TCP segment", n.error());
  return out;
}

Bytes Ethernet(std::span<const uint8_t> ip, std::span<const uint16_t> vlan_ids) {
  Bytes b = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};
  for (uint16_t id : vlan_ids) {
    Be16(b, 0x8100);
    Be16(b, id);
  }
  Be16(b, !ip.empty() && (ip[0] >> 4) == 6 ? 0x86dd : 0x0800);
  b.insert(b.end(), ip.begin(), ip.end());
  return b;
}

Bytes LinuxSll(std::span<const uint8_t> ip) {
  // Packet type (0: to us), ARPHRD_ETHER, address length 6, address (8), protocol.
  Bytes b = {0, 0, 0, 1, 0, 6, 0x02, 0, 0, 0, 0, 1, 0, 0};
  Be16(b, !ip.empty() && (ip[0] >> 4) == 6 ? 0x86dd : 0x0800);
  b.insert(b.end(), ip.begin(), ip.end());
  return b;
}

Bytes LinuxSll2(std::span<const uint8_t> ip) {
  // Protocol, reserved, interface index (4), ARPHRD_ETHER, packet type, address length,
  // address (8).
  Bytes b;
  Be16(b, !ip.empty() && (ip[0] >> 4) == 6 ? 0x86dd : 0x0800);
  for (uint8_t x : {0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 0x02, 0, 0, 0, 0, 1, 0, 0}) b.push_back(x);
  b.insert(b.end(), ip.begin(), ip.end());
  return b;
}

PcapFile::PcapFile(uint32_t link_type, bool big_endian, bool nanos, uint32_t snaplen)
    : big_endian_(big_endian), nanos_(nanos), snaplen_(snaplen) {
  Put32(nanos ? 0xa1b23c4d : 0xa1b2c3d4);
  Put16(2);
  Put16(4);
  Put32(0);
  Put32(0);
  Put32(snaplen);
  Put32(link_type);
}

void PcapFile::Put32(uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    const int shift = big_endian_ ? 24 - 8 * i : 8 * i;
    bytes_.push_back(static_cast<uint8_t>(v >> shift));
  }
}

void PcapFile::Put16(uint16_t v) {
  for (int i = 0; i < 2; ++i) {
    const int shift = big_endian_ ? 8 - 8 * i : 8 * i;
    bytes_.push_back(static_cast<uint8_t>(v >> shift));
  }
}

void PcapFile::Add(int64_t time_ns, std::span<const uint8_t> frame) {
  const uint32_t incl = static_cast<uint32_t>(std::min<size_t>(frame.size(), snaplen_));
  Put32(static_cast<uint32_t>(time_ns / 1'000'000'000));
  const int64_t frac = time_ns % 1'000'000'000;
  Put32(static_cast<uint32_t>(nanos_ ? frac : frac / 1000));
  Put32(incl);
  Put32(static_cast<uint32_t>(frame.size()));
  bytes_.insert(bytes_.end(), frame.begin(), frame.begin() + incl);
}

PcapngFile::PcapngFile(bool big_endian) : big_endian_(big_endian) { AddSection(); }

void PcapngFile::Put32(Bytes& b, uint32_t v) const {
  for (int i = 0; i < 4; ++i) {
    const int shift = big_endian_ ? 24 - 8 * i : 8 * i;
    b.push_back(static_cast<uint8_t>(v >> shift));
  }
}

void PcapngFile::Put16(Bytes& b, uint16_t v) const {
  for (int i = 0; i < 2; ++i) {
    const int shift = big_endian_ ? 8 - 8 * i : 8 * i;
    b.push_back(static_cast<uint8_t>(v >> shift));
  }
}

void PcapngFile::AddBlock(uint32_t type, std::span<const uint8_t> body) {
  Bytes padded(body.begin(), body.end());
  while (padded.size() % 4 != 0) padded.push_back(0);
  const uint32_t len = static_cast<uint32_t>(12 + padded.size());
  Put32(bytes_, type);
  Put32(bytes_, len);
  bytes_.insert(bytes_.end(), padded.begin(), padded.end());
  Put32(bytes_, len);
}

void PcapngFile::AddSection() {
  interfaces_ = 0;
  Bytes body;
  Put32(body, 0x1a2b3c4d);
  Put16(body, 1);
  Put16(body, 0);
  Put32(body, 0xffffffff);  // section length unknown (-1)
  Put32(body, 0xffffffff);
  AddBlock(0x0a0d0d0a, body);
}

uint32_t PcapngFile::AddInterface(uint16_t link_type, uint32_t snaplen, uint8_t tsresol) {
  Bytes body;
  Put16(body, link_type);
  Put16(body, 0);
  Put32(body, snaplen);
  if (tsresol != 6) {
    Put16(body, 9);  // if_tsresol
    Put16(body, 1);
    body.insert(body.end(), {tsresol, 0, 0, 0});
  }
  Put16(body, 0);  // opt_endofopt
  Put16(body, 0);
  AddBlock(1, body);
  return interfaces_++;
}

void PcapngFile::AddPacket(uint32_t interface_id, uint64_t ticks, std::span<const uint8_t> frame,
                           uint32_t snaplen) {
  const uint32_t cap = static_cast<uint32_t>(
      snaplen == 0 ? frame.size() : std::min<size_t>(frame.size(), snaplen));
  Bytes body;
  Put32(body, interface_id);
  Put32(body, static_cast<uint32_t>(ticks >> 32));
  Put32(body, static_cast<uint32_t>(ticks));
  Put32(body, cap);
  Put32(body, static_cast<uint32_t>(frame.size()));
  body.insert(body.end(), frame.begin(), frame.begin() + cap);
  AddBlock(6, body);
}

void PcapngFile::AddSimplePacket(std::span<const uint8_t> frame) {
  Bytes body;
  Put32(body, static_cast<uint32_t>(frame.size()));
  body.insert(body.end(), frame.begin(), frame.end());
  AddBlock(3, body);
}

ScriptedConnection ScriptConnection(const ScriptOptions& opt) {
  ScriptedConnection sc;
  sc.client_key = 0x1111222233334444;
  sc.server_key = 0x5555666677778888;
  const uint64_t ck = sc.client_key, sk = sc.server_key;
  const uint64_t c_idsn = opt.v0 ? V0KeyIdsn(ck) : crypto::KeyIdsn(ck);
  const uint64_t s_idsn = opt.v0 ? V0KeyIdsn(sk) : crypto::KeyIdsn(sk);
  const w::MptcpVersion version = opt.v0 ? w::MptcpVersion::kV0 : w::MptcpVersion::kV1;
  const SocketAddress c0{IpAddress::V4(192, 0, 2, 1), 40000};
  const SocketAddress c1{IpAddress::V4(192, 0, 2, 2), 40001};
  const SocketAddress srv{IpAddress::V4(198, 51, 100, 1), 80};
  const uint32_t L = opt.segment_bytes;
  int64_t t = 1'700'000'000'000'000'000;
  auto add = [&](SegmentSpec s) {
    s.version = version;
    sc.packets.push_back(BuildPacket(s));
    sc.times_ns.push_back(t);
    t += 1'000'000;
  };
  auto seg = [](SocketAddress src, SocketAddress dst, uint32_t seq, uint32_t ack, uint8_t flags,
                std::vector<w::MptcpOption> o, uint32_t payload = 0) {
    SegmentSpec s;
    s.src = src;
    s.dst = dst;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.mptcp = std::move(o);
    s.payload_len = payload;
    return s;
  };
  auto dss = [](std::optional<uint64_t> ack, std::optional<w::DssMapping> map, bool fin = false) {
    w::Dss d;
    if (ack) d.data_ack = w::DataAck{*ack, true};
    d.mapping = map;
    d.data_fin = fin;
    return d;
  };
  auto mapping = [](uint64_t dsn, uint32_t ssn, uint16_t len) {
    w::DssMapping m;
    m.dsn = dsn;
    m.dsn_is_64bit = true;
    m.subflow_seq = ssn;
    m.data_len = len;
    return m;
  };
  namespace F = w::TcpFlag;
  constexpr uint8_t kAck = F::kAck;
  // RFC 8684 §3.1: the MP_CAPABLE handshake.
  w::MpCapable syn;
  syn.flags = w::MpCapable::kFlagH;
  if (opt.v0) {
    syn.version = 0;  // RFC 6824 §3.1: the SYN carries the sender's key too
    syn.sender_key = ck;
  }
  SegmentSpec s0 = seg(c0, srv, 1000, 0, F::kSyn, {syn});
  s0.mss = 1460;
  add(s0);
  w::MpCapable synack = syn;
  synack.sender_key = sk;
  add(seg(srv, c0, 5000, 1001, F::kSyn | kAck, {synack}));
  w::MpCapable third = synack;
  third.sender_key = ck;
  third.receiver_key = sk;
  add(seg(c0, srv, 1001, 5001, kAck, {third}));
  if (opt.add_addr) {
    w::AddAddr a;
    a.address_id = 1;
    a.address = IpAddress::V4(203, 0, 113, 1);
    a.port = opt.add_addr_port;
    if (!opt.v0) a.hmac = crypto::AddAddrHmac(sk, ck, 1, a.address, a.port);
    add(seg(srv, c0, 5001, 1001, kAck, {a}));
    if (!opt.v0) {  // v0 has no echo flag
      w::AddAddr echo = a;
      echo.echo = true;
      echo.hmac.reset();
      add(seg(c0, srv, 1001, 5001, kAck, {echo}));
    }
  }
  uint64_t c_next = c_idsn + 1, s_next = s_idsn + 1;
  uint32_t c0_seq = 1001, s_seq = 5001;
  for (int i = 0; i < opt.segments_each; ++i) {
    add(seg(c0, srv, c0_seq, s_seq, kAck,
            {dss(s_next, mapping(c_next, c0_seq - 1000, static_cast<uint16_t>(L)))}, L));
    c0_seq += L;
    c_next += L;
    sc.c2s_bytes += L;
    add(seg(srv, c0, s_seq, c0_seq, kAck,
            {dss(c_next, mapping(s_next, s_seq - 5000, static_cast<uint16_t>(L)))}, L));
    s_seq += L;
    s_next += L;
    sc.s2c_bytes += L;
  }
  if (opt.conflicting_mapping) {
    // The first segment again, its bytes now mapped 5 bytes further: RFC 8684 §3.3.1 forbids.
    add(seg(c0, srv, 1001, s_seq, kAck, {dss(s_next, mapping(c_idsn + 6, 1, static_cast<uint16_t>(L)))},
            L));
    sc.c2s_bytes += L;
  }
  if (opt.data_ack_backwards) add(seg(srv, c0, s_seq, c0_seq, kAck, {dss(c_next - 100, {})}));
  if (opt.join) {
    // RFC 8684 §3.2: MP_JOIN to the server's token, with HMACs from both keys and nonces.
    const uint32_t nc = 0xaaaa0001, ns = 0xbbbb0002;
    w::MpJoinSyn js;
    js.address_id = 2;
    js.receiver_token = opt.v0 ? V0KeyToken(sk) : crypto::KeyToken(sk);
    js.sender_nonce = nc;
    add(seg(c1, srv, 7000, 0, F::kSyn, {js}));
    w::MpJoinSynAck ja;
    ja.address_id = 0;
    ja.truncated_hmac = crypto::JoinSynAckHmac(sk, ck, ns, nc) ^ (opt.bad_join_hmac ? 1 : 0);
    ja.sender_nonce = ns;
    add(seg(srv, c1, 9000, 7001, F::kSyn | kAck, {ja}));
    w::MpJoinAck jk;
    jk.hmac = crypto::JoinAckHmac(ck, sk, nc, ns);
    add(seg(c1, srv, 7001, 9001, kAck, {jk}));
    uint32_t c1_seq = 7001;
    for (int i = 0; i < opt.segments_each; ++i) {
      add(seg(c1, srv, c1_seq, 9001, kAck,
              {dss(s_next, mapping(c_next, c1_seq - 7000, static_cast<uint16_t>(L)))}, L));
      c1_seq += L;
      c_next += L;
      sc.c2s_bytes += L;
    }
    if (opt.prio_and_remove) {
      w::MpPrio prio;
      prio.backup = true;
      add(seg(c1, srv, c1_seq, 9001, kAck, {prio}));
      add(seg(srv, c0, s_seq, c0_seq, kAck, {w::RemoveAddr::Of({1})}));
    }
    if (opt.reinject) {
      add(seg(c1, srv, c1_seq, 9001, kAck,
              {dss(s_next, mapping(c_idsn + 1, c1_seq - 7000, static_cast<uint16_t>(L)))}, L));
      c1_seq += L;
      sc.c2s_bytes += L;
      sc.reinjected_c2s += L;
    }
  }
  if (opt.infinite_mapping) {
    add(seg(srv, c0, s_seq, c0_seq, kAck, {dss(c_next, mapping(s_next, s_seq - 5000, 0))}, L));
    s_seq += L;
    sc.s2c_bytes += L;
  }
  if (opt.fastclose) {
    w::MpFastclose fc;
    fc.receiver_key = sk;
    add(seg(c0, srv, c0_seq, s_seq, kAck, {fc}));
    w::MpTcpRst rst;
    rst.reason = 0x01;
    add(seg(srv, c0, s_seq, c0_seq, F::kRst | kAck, {rst}));
    return sc;
  }
  // RFC 8684 §3.3.3: the client's DATA_FIN alone (subflow sequence 0, length 1).
  add(seg(c0, srv, c0_seq, s_seq, kAck, {dss(s_next, mapping(c_next, 0, 1), true)}));
  return sc;
}

}  // namespace mptcp::trace::testing
