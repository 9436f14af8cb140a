// GSO super-segments end to end: two Endpoints in memory, the sender allowed up to 44
// segments per packet (Endpoint::PollTransmit's gso_max_segments), the network cutting them
// as Linux's GSO does (wire::ForEachGsoSegment) or, like GRO, handing them over whole.
// Every transfer is checked byte for byte; the cut segments are checked against the DSS
// mapping each repeats (RFC 8684 §3.3.1).
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "mptcp/endpoint.h"
#include "mptcp/wire/checksum.h"
#include "mptcp/wire/ip.h"
#include "mptcp/wire/mptcp_options.h"
#include "mptcp/wire/tcp.h"
#include "testing/endpoint_pair.h"

namespace mptcp {
namespace {

using ::mptcp::testing::EndpointPair;
using ::mptcp::testing::kPairServer0;

constexpr size_t kBytes = 4 << 20;
constexpr size_t kGsoSegments = 44;

uint8_t PatternByte(size_t i) { return static_cast<uint8_t>(i * 131 + (i >> 9)); }

EndpointConfig Config(bool checksum) {
  EndpointConfig c;
  c.connection.checksum = checksum;
  c.connection.send_buffer = 1 << 20;
  c.connection.recv_buffer = 1 << 20;
  return c;
}

// What the segments on the wire showed.
struct WireStats {
  uint64_t data_segments = 0;
  uint64_t largest_payload = 0;
  uint64_t unmapped = 0;   // payload not inside the DSS mapping the segment carries
  uint64_t malformed = 0;
  std::optional<SeqNum32> iss;
};

void Inspect(std::span<const uint8_t> packet, WireStats& w) {
  auto ip = wire::ParseIpPacket(packet);
  if (!ip.ok() || !wire::VerifyTcpChecksum(ip->ip.src, ip->ip.dst, ip->payload)) {
    ++w.malformed;
    return;
  }
  auto tcp = wire::TcpRepr::Parse(ip->payload);
  if (!tcp.ok()) {
    ++w.malformed;
    return;
  }
  if (tcp->has_flag(wire::TcpFlag::kSyn)) w.iss = tcp->seq;
  if (tcp->payload.empty()) return;
  ++w.data_segments;
  w.largest_payload = std::max<uint64_t>(w.largest_payload, tcp->payload.size());
  for (std::span<const uint8_t> o : tcp->options.mptcp_options()) {
    auto opt = wire::ParseMptcpOption(o);
    if (!opt.ok()) {
      ++w.malformed;
      continue;
    }
    if (const auto* dss = std::get_if<wire::Dss>(&*opt); dss && dss->mapping && w.iss) {
      // The mapping's subflow sequence number is relative to the ISN (RFC 8684 §3.3.1).
      const uint64_t rel = static_cast<uint32_t>(tcp->seq - *w.iss);
      const uint64_t from = dss->mapping->subflow_seq;
      if (rel >= from && rel + tcp->payload.size() <= from + dss->mapping->data_len) return;
      break;
    }
    if (std::holds_alternative<wire::MpCapable>(*opt)) return;  // the first data
  }
  ++w.unmapped;
}

struct Outcome {
  bool done = false;
  bool exact = false;
  uint64_t super_segments = 0;
  bool fell_back = false;
  WireStats wire;
};

// A middlebox that strips MP_CAPABLE from the client's SYN (the options become NOPs): the
// connection falls back to TCP at once (RFC 8684 §3.7).
void StripMpCapableFromSyn(std::vector<uint8_t>& packet) {
  auto ip = wire::ParseIpPacket(packet);
  if (!ip.ok() || ip->payload.size() < 20) return;
  const size_t at = packet.size() - ip->payload.size();
  uint8_t* tcp = packet.data() + at;
  if ((tcp[13] & wire::TcpFlag::kSyn) == 0 || (tcp[13] & wire::TcpFlag::kAck) != 0) return;
  const size_t hdr = static_cast<size_t>(tcp[12] >> 4) * 4;
  for (size_t i = 20; i + 1 < hdr;) {
    if (tcp[i] == 0) break;
    if (tcp[i] == 1) {
      ++i;
      continue;
    }
    const size_t len = tcp[i + 1];
    if (len < 2 || i + len > hdr) break;
    if (tcp[i] == 30) std::memset(tcp + i, 1, len);
    i += len;
  }
  wire::FillTcpChecksum(ip->ip.src, ip->ip.dst, std::span<uint8_t>(tcp, packet.size() - at));
}

// 4 MiB from client to server over one subflow.
Outcome Transfer(bool checksum, size_t gso, bool whole, uint64_t drop_every = 0,
                 bool strip_mptcp = false) {
  EndpointPair p(Config(checksum));
  if (strip_mptcp) p.rewrite = StripMpCapableFromSyn;
  p.gso_max_segments = gso;
  p.gso_whole = whole;
  Outcome out;
  uint64_t seen = 0;
  p.drop = [&](const Transmit&) { return drop_every != 0 && ++seen % drop_every == 0; };
  p.tap = [&](const Transmit& t, std::span<const uint8_t> packet) {
    if (t.path.local.port != 80) Inspect(packet, out.wire);  // client to server
  };
  const SocketAddress client{IpAddress::V4(192, 0, 2, 1), 40000};
  auto cid = p.client.Connect(p.now, client, kPairServer0);
  EXPECT_TRUE(cid.ok());
  std::vector<uint8_t> chunk(64 * 1024), got(64 * 1024);
  size_t written = 0, read = 0;
  bool exact = true;
  Connection* server = nullptr;
  out.done = p.RunUntil(
      [&] {
        Connection* c = p.client.connection(*cid);
        while (written < kBytes && c != nullptr) {
          const size_t n = std::min(chunk.size(), kBytes - written);
          for (size_t i = 0; i < n; ++i) chunk[i] = PatternByte(written + i);
          const size_t w = c->Write(p.now, std::span<const uint8_t>(chunk.data(), n));
          if (w == 0) break;
          written += w;
        }
        while (auto e = p.server.PollEvent()) server = p.server.connection(e->id);
        if (server != nullptr) {
          for (size_t n; (n = server->Read(p.now, got)) > 0; read += n) {
            for (size_t i = 0; i < n; ++i) exact &= got[i] == PatternByte(read + i);
          }
        }
        return read == kBytes;
      },
      200000);
  out.exact = exact && read == kBytes;
  if (Connection* c = p.client.connection(*cid)) out.fell_back = c->fallen_back();
  out.super_segments = p.super_segments;
  EXPECT_EQ(p.bad_super_segments, 0u);
  return out;
}

TEST(EndpointGsoTest, SuperSegmentsCutAsLinuxDoesCarryEveryByte) {
  const Outcome o = Transfer(/*checksum=*/false, kGsoSegments, /*whole=*/false);
  ASSERT_TRUE(o.done);
  EXPECT_TRUE(o.exact);
  EXPECT_GT(o.super_segments, 0u);
  // On the wire: MSS-sized segments, each inside the mapping it repeats.
  EXPECT_LE(o.wire.largest_payload, 1460u);
  EXPECT_EQ(o.wire.unmapped, 0u);
  EXPECT_EQ(o.wire.malformed, 0u);
  // Fewer packets leave the stack than segments reach the wire.
  EXPECT_LT(o.super_segments * 2, o.wire.data_segments);
  std::printf("%llu super-segments became %llu segments on the wire\n",
              static_cast<unsigned long long>(o.super_segments),
              static_cast<unsigned long long>(o.wire.data_segments));
}

TEST(EndpointGsoTest, CoalescedSuperSegmentsAreReceivedWhole) {
  const Outcome o = Transfer(/*checksum=*/false, kGsoSegments, /*whole=*/true);
  ASSERT_TRUE(o.done);
  EXPECT_TRUE(o.exact);
  EXPECT_GT(o.super_segments, 0u);
  EXPECT_GT(o.wire.largest_payload, 1460u * 8);  // the receiver took them as they came
  EXPECT_EQ(o.wire.malformed, 0u);
}

TEST(EndpointGsoTest, LostCutSegmentsAreRecovered) {
  const Outcome o = Transfer(/*checksum=*/false, kGsoSegments, /*whole=*/false,
                             /*drop_every=*/37);
  ASSERT_TRUE(o.done);
  EXPECT_TRUE(o.exact);
  EXPECT_GT(o.super_segments, 0u);
}

TEST(EndpointGsoTest, WithDssChecksumsSegmentsStayMssSized) {
  const Outcome o = Transfer(/*checksum=*/true, kGsoSegments, /*whole=*/false);
  ASSERT_TRUE(o.done);
  EXPECT_TRUE(o.exact);
  EXPECT_EQ(o.super_segments, 0u);
}

TEST(EndpointGsoTest, AfterFallbackToTcpSuperSegmentsCarryEveryByte) {
  const Outcome o = Transfer(/*checksum=*/false, kGsoSegments, /*whole=*/false,
                             /*drop_every=*/0, /*strip_mptcp=*/true);
  ASSERT_TRUE(o.done);
  EXPECT_TRUE(o.exact);
  EXPECT_TRUE(o.fell_back);
  EXPECT_GT(o.super_segments, 0u);
  EXPECT_LE(o.wire.largest_payload, 1460u);
}

TEST(EndpointGsoTest, WithoutGsoNothingChanges) {
  const Outcome o = Transfer(/*checksum=*/false, 1, /*whole=*/false);
  ASSERT_TRUE(o.done);
  EXPECT_TRUE(o.exact);
  EXPECT_EQ(o.super_segments, 0u);
  EXPECT_LE(o.wire.largest_payload, 1460u);
}

}  // namespace
}  // namespace mptcp
