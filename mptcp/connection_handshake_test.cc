// Conversation tests of the MPTCP handshakes on one Connection (RFC 8684 §3.1 MP_CAPABLE,
// §3.2 MP_JOIN, §3.7 fallback) and of the Endpoint's answers to strays: hand-built segments in
// at given times, every emitted segment parsed back and compared field by field. Keys, tokens,
// IDSNs, HMACs and DSS checksums are computed with python3 (connection_test_util.h), never
// with mptcp/crypto.
//
// Checks that once exposed deviations (no FellBackToTcp event, unchecked MP_CAPABLE flags, no
// RST for a bad join HMAC, bare RSTs for unknown tokens, a spurious data RTO after idle) FAIL
// with "regression:" should they reappear.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "mptcp/connection.h"
#include "mptcp/endpoint.h"
#include "mptcp/wire/ip.h"
#include "mptcp/wire/mptcp_options.h"
#include "mptcp/wire/tcp.h"
#include "testing/connection_test_util.h"
#include "testing/prerequisites.h"

namespace mptcp::testing {
namespace {

constexpr uint64_t kSeed = 42;
constexpr uint8_t kH = wire::MpCapable::kFlagH;
constexpr uint8_t kA = wire::MpCapable::kFlagA;
constexpr uint8_t kB = wire::MpCapable::kFlagB;
// The peer's initial sequence numbers (ours come from the connection's ISN generator).
constexpr uint32_t kPeerIss = 5000;
constexpr uint32_t kPeerJoinIss = 9000;
constexpr uint32_t kPeerNonce = 0xa1b2c3d4;

using wire::DataAck;
using wire::Dss;
using wire::DssMapping;
using wire::MpCapable;
using wire::MpJoinAck;
using wire::MpJoinSyn;
using wire::MpJoinSynAck;
using wire::MpTcpRst;
using wire::MpTcpRstReason;

#define SKIP_IF_NO_PYTHON()                                                              \
  do {                                                                                   \
    if (!PyOracle::Available()) MPTCP_SKIP_MISSING_PREREQUISITE(PyOracle::SkipReason()); \
  } while (0)

Event Ev(EventType t, SubflowId subflow = 0) { return Event{.type = t, .subflow = subflow}; }

// ---- The fixed values themselves ------------------------------------------------------------

TEST(ConnectionHandshakeTest, FixedKeyValuesMatchPython) {
  SKIP_IF_NO_PYTHON();
  EXPECT_EQ(PyOracle::Token(kClientKey), kClientToken);
  EXPECT_EQ(PyOracle::Idsn(kClientKey), kClientIdsn);
  EXPECT_EQ(PyOracle::Token(kServerKey), kServerToken);
  EXPECT_EQ(PyOracle::Idsn(kServerKey), kServerIdsn);
  // The connection derives the same from its key (RFC 8684 §3.1).
  Connection c(TestConfig(), Role::kClient, kClientKey, kSeed);
  EXPECT_EQ(c.local_token(), kClientToken);
  EXPECT_EQ(c.local_idsn(), kClientIdsn);
}

// ---- Client MP_CAPABLE ----------------------------------------------------------------------

// SYN at 0, the server's SYN-ACK (ISS 5000, its key) at 100 ms, the third ACK. Returns our ISS.
uint32_t ClientHandshake(ConnHarness& c, uint8_t synack_flags = kH) {
  c->Connect(Ms(0), ClientPath1());
  auto syn = c.Poll(Ms(0));
  EXPECT_TRUE(syn.has_value());
  if (!syn) return 0;
  const uint32_t iss = syn->tcp.seq.value();
  const Disposition d = c.Send(
      Ms(100), ClientPath1(),
      PeerSeg().Flags(kSyn).SeqN(kPeerIss).AckN(iss + 1).Win(30000).Mss(1460).SackOk().Mptcp(
          MpCapable{.version = 1, .flags = synack_flags, .sender_key = kServerKey}));
  EXPECT_TRUE(d.accepted()) << d.reason;
  auto ack = c.Poll(Ms(100));
  EXPECT_TRUE(ack.has_value()) << "no third ACK";
  c.Events();
  return iss;
}

// The client above, made fully established by the server's first DSS at 110 ms.
uint32_t ClientFullyEstablished(ConnHarness& c) {
  const uint32_t iss = ClientHandshake(c);
  c.Send(Ms(110), ClientPath1(),
         PeerSeg().SeqN(kPeerIss + 1).AckN(iss + 1).Win(30000).Mptcp(AckDss(kClientIdsn + 1)));
  EXPECT_TRUE(c->fully_established());
  ExpectNothing(c, Ms(110));
  c.Events();
  return iss;
}

TEST(ConnectionHandshakeTest, ClientMpCapableV1) {
  ConnHarness c(TestConfig(), Role::kClient, kClientKey, kSeed);
  c->Connect(Ms(0), ClientPath1());
  EXPECT_EQ(c->mib().mp_capable_syn_tx, 1u);

  // RFC 8684 §3.1: the SYN carries MP_CAPABLE v1 without a key (length 4), H set, A clear.
  auto syn = c.Poll(Ms(0));
  ASSERT_TRUE(syn);
  EXPECT_EQ(syn->path, ClientPath1());
  EXPECT_EQ(syn->tcp.flags, kSyn);
  EXPECT_EQ(syn->tcp.window, 20000);
  EXPECT_EQ(syn->tcp.options.mss, 1000);
  EXPECT_TRUE(syn->tcp.options.sack_permitted);
  EXPECT_TRUE(syn->payload.empty());
  ASSERT_EQ(syn->mptcp.size(), 1u) << *syn;
  EXPECT_EQ(syn->mptcp_lengths[0], 4u);
  EXPECT_EQ(*syn->Get<MpCapable>(), (MpCapable{.version = 1, .flags = kH}));
  const uint32_t iss = syn->tcp.seq.value();
  ExpectNothing(c, Ms(0));

  // The SYN-ACK brings the server's key (length 12).
  const PeerSeg synack =
      PeerSeg().Flags(kSyn).SeqN(kPeerIss).AckN(iss + 1).Win(30000).Mss(1460).SackOk().Mptcp(
          MpCapable{.version = 1, .flags = kH, .sender_key = kServerKey});
  EXPECT_TRUE(c.Send(Ms(100), ClientPath1(), synack).accepted());
  ASSERT_TRUE(c->remote_key());
  EXPECT_EQ(*c->remote_key(), kServerKey);
  EXPECT_EQ(c->remote_token(), kServerToken);
  EXPECT_TRUE(c->established());
  EXPECT_FALSE(c->fully_established()) << "the server has not shown it has our key";
  EXPECT_FALSE(c->fallen_back());
  EXPECT_EQ(c->mib().mp_capable_synack_rx, 1u);
  EXPECT_EQ(c.Events(), (std::vector<Event>{Ev(EventType::kEstablished),
                                            Ev(EventType::kSubflowUp, 1)}));

  // The third ACK echoes both keys: MP_CAPABLE length 20.
  auto ack3 = c.Poll(Ms(100));
  ASSERT_TRUE(ack3);
  EXPECT_EQ(ack3->tcp.flags, kAck);
  EXPECT_EQ(ack3->tcp.seq.value(), iss + 1);
  EXPECT_EQ(ack3->tcp.ack.value(), kPeerIss + 1);
  EXPECT_EQ(ack3->tcp.window, 20000);
  EXPECT_TRUE(ack3->payload.empty());
  ASSERT_EQ(ack3->mptcp.size(), 1u) << *ack3;
  EXPECT_EQ(ack3->mptcp_lengths[0], 20u);
  const MpCapable both_keys{
      .version = 1, .flags = kH, .sender_key = kClientKey, .receiver_key = kServerKey};
  EXPECT_EQ(*ack3->Get<MpCapable>(), both_keys);
  ExpectNothing(c, Ms(100));

  // The server resends its SYN-ACK (our third ACK crossed it): the pure ACK we answer with
  // repeats MP_CAPABLE 20, since no DSS has come from the server yet.
  c.Send(Ms(105), ClientPath1(), synack);
  auto again = c.Poll(Ms(105));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->tcp.flags, kAck);
  EXPECT_EQ(again->tcp.seq.value(), iss + 1);
  EXPECT_EQ(again->tcp.ack.value(), kPeerIss + 1);
  ASSERT_EQ(again->mptcp.size(), 1u) << *again;
  EXPECT_EQ(again->mptcp_lengths[0], 20u);
  EXPECT_EQ(*again->Get<MpCapable>(), both_keys);

  // RFC 8684 §3.1: data before the server's first DSS carries MP_CAPABLE with the data-level
  // length (22); its DSN is implicitly IDSN + 1.
  const std::vector<uint8_t> data1 = Pattern(100);
  EXPECT_EQ(c->Write(c.now(), data1), 100u);
  auto d1 = c.Poll(Ms(110));
  ASSERT_TRUE(d1);
  EXPECT_EQ(d1->tcp.flags, kAck | kPsh);
  EXPECT_EQ(d1->tcp.seq.value(), iss + 1);
  EXPECT_EQ(d1->tcp.ack.value(), kPeerIss + 1);
  EXPECT_EQ(d1->payload, data1);
  ASSERT_EQ(d1->mptcp.size(), 1u) << *d1;
  EXPECT_EQ(d1->mptcp_lengths[0], 22u);
  MpCapable with_data = both_keys;
  with_data.data_len = 100;
  EXPECT_EQ(*d1->Get<MpCapable>(), with_data);
  EXPECT_EQ(d1->Count<Dss>(), 0u);
  ExpectNothing(c, Ms(110));

  // The server's first DSS: a DATA_ACK for IDSN + 1 + 100 (the 100 bytes took DSNs
  // [IDSN + 1, IDSN + 101)). The client is now fully established.
  EXPECT_TRUE(c.Send(Ms(200), ClientPath1(),
                     PeerSeg().SeqN(kPeerIss + 1).AckN(iss + 101).Win(30000).Mptcp(
                         AckDss(kClientIdsn + 101)))
                  .accepted());
  EXPECT_TRUE(c->fully_established());
  EXPECT_EQ(c->data_una(), kClientIdsn + 101);
  EXPECT_EQ(c->send_buffered(), 0u);

  // Server data mapped at its IDSN + 1.
  const std::vector<uint8_t> data2 = Pattern(50, 9);
  EXPECT_TRUE(c.Send(Ms(210), ClientPath1(),
                     PeerSeg()
                         .Flags(kAck | kPsh)
                         .SeqN(kPeerIss + 1)
                         .AckN(iss + 101)
                         .Win(30000)
                         .Data(data2)
                         .Mptcp(MapDss(kClientIdsn + 101, kServerIdsn + 1, 1, 50)))
                  .accepted());
  EXPECT_EQ(c.Events(), (std::vector<Event>{Ev(EventType::kReadable)}));
  std::vector<uint8_t> got(100);
  got.resize(c->Read(c.now(), got));
  EXPECT_EQ(got, data2);
  EXPECT_EQ(c->rcv_data_nxt(), kServerIdsn + 51);

  // The delayed ACK (40 ms) carries a DSS whose DATA_ACK is the server's IDSN + 1 + 50, and no
  // MP_CAPABLE any more.
  ExpectNothing(c, Ms(210));
  auto ack = c.Poll(Ms(250));
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->tcp.flags, kAck);
  EXPECT_EQ(ack->tcp.seq.value(), iss + 101);
  EXPECT_EQ(ack->tcp.ack.value(), kPeerIss + 51);
  EXPECT_EQ(ack->tcp.window, 20000);
  ASSERT_EQ(ack->mptcp.size(), 1u) << *ack;
  EXPECT_EQ(*ack->Get<Dss>(), AckDss(kServerIdsn + 51));

  // New data: a DSS with that DATA_ACK and a mapping at IDSN + 101, subflow sequence 101.
  const std::vector<uint8_t> data3 = Pattern(200, 5);
  EXPECT_EQ(c->Write(c.now(), data3), 200u);
  auto d3 = c.Poll(Ms(300));
  ASSERT_TRUE(d3);
  EXPECT_EQ(d3->tcp.flags, kAck | kPsh);
  EXPECT_EQ(d3->tcp.seq.value(), iss + 101);
  EXPECT_EQ(d3->tcp.ack.value(), kPeerIss + 51);
  EXPECT_EQ(d3->payload, data3);
  ASSERT_EQ(d3->mptcp.size(), 1u) << *d3;
  EXPECT_EQ(*d3->Get<Dss>(), MapDss(kServerIdsn + 51, kClientIdsn + 101, 101, 200));
  EXPECT_EQ(d3->Count<MpCapable>(), 0u);
  ExpectNothing(c, Ms(300));
}

// RFC 8684 §3.1 / §3.3.1: the segments sent before the server's first DSS map themselves. One
// of them lost and resent once the client is fully established must carry the very mapping its
// original did, not the larger mapping of the chunk it came from: Linux, reading the following
// segments under the larger one, would otherwise meet a different mapping for bytes it already
// holds a mapping for (issue 10).
TEST(ConnectionHandshakeTest, FirstFlightRetransmissionRepeatsItsOwnMapping) {
  ConnHarness c(TestConfig(), Role::kClient, kClientKey, kSeed);
  const uint32_t iss = ClientHandshake(c);
  const std::vector<uint8_t> data = Pattern(2500, 3);
  ASSERT_EQ(c->Write(c.now(), data), data.size());
  struct Out {
    uint32_t seq;
    size_t len;
    std::optional<DssMapping> map;
  };
  std::vector<Out> first;
  for (int i = 0; i < 10; ++i) {
    auto d = c.Poll(Ms(100));
    if (!d) break;
    if (d->payload.empty()) continue;
    std::optional<DssMapping> map;
    if (auto dss = d->Get<Dss>()) map = dss->mapping;
    first.push_back({d->tcp.seq.value(), d->payload.size(), map});
  }
  ASSERT_GE(first.size(), 3u);
  EXPECT_EQ(first[0].seq, iss + 1);
  EXPECT_FALSE(first[0].map) << "the first carries MP_CAPABLE";
  for (size_t i = 1; i < first.size(); ++i) {
    ASSERT_TRUE(first[i].map) << i;
    EXPECT_EQ(first[i].map->data_len, first[i].len) << "each maps itself";
  }
  // The second is lost. The server's first DSS acknowledges the first segment (with a SACK of
  // the third): the client is fully established.
  const uint32_t end1 = iss + 1 + static_cast<uint32_t>(first[0].len);
  c.Send(Ms(150), ClientPath1(),
         PeerSeg().SeqN(kPeerIss + 1).AckN(end1).Win(30000).Mptcp(
             AckDss(kClientIdsn + 1 + first[0].len)));
  ASSERT_TRUE(c->fully_established());
  // Its retransmission, whenever it comes: the same bytes under the same mapping.
  std::optional<Sent> again;
  for (int ms = 150; ms <= 3000 && !again; ms += 10) {
    while (auto d = c.Poll(Ms(ms))) {
      if (d->tcp.seq.value() == first[1].seq && !d->payload.empty()) {
        again = std::move(d);
        break;
      }
    }
  }
  ASSERT_TRUE(again) << "no retransmission of the lost segment";
  EXPECT_EQ(again->payload.size(), first[1].len);
  ASSERT_TRUE(again->Get<Dss>() && again->Get<Dss>()->mapping) << *again;
  EXPECT_EQ(*again->Get<Dss>()->mapping, *first[1].map)
      << "regression: the retransmission carried its chunk's mapping";
}

TEST(ConnectionHandshakeTest, ClientFirstDataAfterServerDssUsesDss) {
  ConnHarness c(TestConfig(), Role::kClient, kClientKey, kSeed);
  const uint32_t iss = ClientFullyEstablished(c);
  // Our first data: DSN = our IDSN + 1 (RFC 8684 §3.3: the SYN took IDSN), subflow sequence 1,
  // DATA_ACK = the server's IDSN + 1 (nothing received yet).
  const std::vector<uint8_t> data = Pattern(100);
  c->Write(c.now(), data);
  auto d = c.Poll(Ms(120));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->tcp.flags, kAck | kPsh);
  EXPECT_EQ(d->tcp.seq.value(), iss + 1);
  EXPECT_EQ(d->payload, data);
  ASSERT_EQ(d->mptcp.size(), 1u) << *d;
  EXPECT_EQ(*d->Get<Dss>(), MapDss(kServerIdsn + 1, kClientIdsn + 1, 1, 100));
}

TEST(ConnectionHandshakeTest, ClientOpenSubflowNeedsFullyEstablished) {
  ConnHarness c(TestConfig(), Role::kClient, kClientKey, kSeed);
  ClientHandshake(c);
  // RFC 8684 §3.2: the server may not know our key yet, so it could not verify a join.
  EXPECT_FALSE(c->OpenSubflow(Ms(105), ClientPath2()).ok());
  EXPECT_EQ(c->subflow_count(), 1u);
}

// Checksums: asked for by us, or by the server only (RFC 8684 §3.1: either side's A bit makes
// them required). The first data then carries MP_CAPABLE length 24 with the DSS checksum.
void CheckChecksumNegotiation(bool ours, uint8_t synack_flags) {
  SCOPED_TRACE(ours ? "client asks" : "server asks");
  ConnHarness c(TestConfig(/*checksum=*/ours), Role::kClient, kClientKey, kSeed);
  c->Connect(Ms(0), ClientPath1());
  auto syn = c.Poll(Ms(0));
  ASSERT_TRUE(syn);
  EXPECT_EQ(*syn->Get<MpCapable>(),
            (MpCapable{.version = 1, .flags = static_cast<uint8_t>(kH | (ours ? kA : 0))}));
  const uint32_t iss = syn->tcp.seq.value();
  c.Send(Ms(100), ClientPath1(),
         PeerSeg().Flags(kSyn).SeqN(kPeerIss).AckN(iss + 1).Win(30000).Mss(1460).Mptcp(
             MpCapable{.version = 1, .flags = synack_flags, .sender_key = kServerKey}));
  EXPECT_TRUE(c->checksum_enabled());
  const uint8_t flags = kH | kA;
  auto ack3 = c.Poll(Ms(100));
  ASSERT_TRUE(ack3);
  EXPECT_EQ(*ack3->Get<MpCapable>(), (MpCapable{.version = 1, .flags = flags,
                                                .sender_key = kClientKey,
                                                .receiver_key = kServerKey}));
  const std::vector<uint8_t> data = Pattern(100);
  c->Write(c.now(), data);
  auto d = c.Poll(Ms(110));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->payload, data);
  ASSERT_EQ(d->mptcp.size(), 1u) << *d;
  EXPECT_EQ(d->mptcp_lengths[0], 24u);
  // RFC 8684 §3.3.1: the checksum's pseudo-header has the full 64-bit DSN (IDSN + 1).
  EXPECT_EQ(*d->Get<MpCapable>(),
            (MpCapable{.version = 1, .flags = flags, .sender_key = kClientKey,
                       .receiver_key = kServerKey, .data_len = 100,
                       .checksum = PyOracle::DssChecksum(kClientIdsn + 1, 1, 100, data)}));
}

TEST(ConnectionHandshakeTest, ClientChecksumNegotiation) {
  SKIP_IF_NO_PYTHON();
  CheckChecksumNegotiation(/*ours=*/true, kH | kA);
  CheckChecksumNegotiation(/*ours=*/false, kH | kA);
}

TEST(ConnectionHandshakeTest, ClientFallsBackWhenSynAckLacksMpCapable) {
  ConnHarness c(TestConfig(), Role::kClient, kClientKey, kSeed);
  c->Connect(Ms(0), ClientPath1());
  auto syn = c.Poll(Ms(0));
  ASSERT_TRUE(syn);
  const uint32_t iss = syn->tcp.seq.value();
  // RFC 8684 §3.7: a SYN-ACK without MP_CAPABLE means the server (or the path) does not do
  // MPTCP: continue as plain TCP.
  EXPECT_TRUE(c.Send(Ms(100), ClientPath1(),
                     PeerSeg().Flags(kSyn).SeqN(kPeerIss).AckN(iss + 1).Win(30000).Mss(1460))
                  .accepted());
  const std::vector<Event> events = c.Events();
  EXPECT_TRUE(c->established());
  EXPECT_TRUE(c->fallen_back());
  EXPECT_FALSE(c->remote_key());
  EXPECT_EQ(c->mib().mp_capable_fallback_synack, 1u);
  EXPECT_TRUE(HasEvent(events, EventType::kEstablished));

  auto ack3 = c.Poll(Ms(100));
  ASSERT_TRUE(ack3);
  EXPECT_EQ(ack3->tcp.flags, kAck);
  EXPECT_EQ(ack3->tcp.ack.value(), kPeerIss + 1);
  EXPECT_TRUE(ack3->mptcp.empty()) << *ack3;
  // Data both ways as plain TCP, no MPTCP option anywhere.
  const std::vector<uint8_t> data = Pattern(100);
  c->Write(c.now(), data);
  auto d = c.Poll(Ms(110));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->payload, data);
  EXPECT_TRUE(d->mptcp.empty()) << *d;
  EXPECT_TRUE(c.Send(Ms(120), ClientPath1(),
                     PeerSeg().Flags(kAck | kPsh).SeqN(kPeerIss + 1).AckN(iss + 101).Win(30000)
                         .Data(Pattern(30, 1)))
                  .accepted());
  std::vector<uint8_t> got(100);
  got.resize(c->Read(c.now(), got));
  EXPECT_EQ(got, Pattern(30, 1));
  auto ack = c.Poll(Ms(160));
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->tcp.ack.value(), kPeerIss + 31);
  EXPECT_TRUE(ack->mptcp.empty()) << *ack;

  if (!HasEvent(events, EventType::kFellBackToTcp)) {
    FAIL() << "regression: no FellBackToTcp event when the SYN-ACK lacks MP_CAPABLE "
                    "(connection_input.h CheckSynAck sets fallen_back_ itself instead of "
                    "calling EnterFallback, which is what reports the event)";
  }
}

// ---- Server MP_CAPABLE ----------------------------------------------------------------------

// The client's SYN (ISS 1000) with an optional MP_CAPABLE.

TEST(ConnectionHandshakeTest, ServerMpCapableV1) {
  ConnHarness c(TestConfig(), Role::kServer, kServerKey, kSeed);
  EXPECT_TRUE(c.AcceptSyn(Ms(0), ServerPath1(),
                          ClientSyn().Mptcp(MpCapable{.version = 1, .flags = kH}))
                  .accepted());
  EXPECT_EQ(c->mib().mp_capable_syn_rx, 1u);

  // RFC 8684 §3.1: the SYN-ACK carries our key (length 12).
  auto synack = c.Poll(Ms(0));
  ASSERT_TRUE(synack);
  EXPECT_EQ(synack->path, ServerPath1());
  EXPECT_EQ(synack->tcp.flags, kSyn | kAck);
  EXPECT_EQ(synack->tcp.ack.value(), kClientIss + 1);
  EXPECT_EQ(synack->tcp.window, 20000);
  EXPECT_EQ(synack->tcp.options.mss, 1000);
  EXPECT_TRUE(synack->tcp.options.sack_permitted);
  ASSERT_EQ(synack->mptcp.size(), 1u) << *synack;
  EXPECT_EQ(synack->mptcp_lengths[0], 12u);
  EXPECT_EQ(*synack->Get<MpCapable>(),
            (MpCapable{.version = 1, .flags = kH, .sender_key = kServerKey}));
  const uint32_t siss = synack->tcp.seq.value();
  ExpectNothing(c, Ms(0));
  EXPECT_FALSE(c->established());
  EXPECT_TRUE(c.Events().empty());

  // The third ACK with both keys: established, and fully (both keys known to both sides).
  EXPECT_TRUE(c.Send(Ms(50), ServerPath1(),
                     PeerSeg().SeqN(kClientIss + 1).AckN(siss + 1).Win(30000).Mptcp(
                         MpCapable{.version = 1, .flags = kH, .sender_key = kClientKey,
                                   .receiver_key = kServerKey}))
                  .accepted());
  EXPECT_TRUE(c->established());
  EXPECT_TRUE(c->fully_established());
  ASSERT_TRUE(c->remote_key());
  EXPECT_EQ(*c->remote_key(), kClientKey);
  EXPECT_EQ(c->remote_token(), kClientToken);
  EXPECT_EQ(c->local_token(), kServerToken);
  EXPECT_EQ(c->mib().mp_capable_ack_rx, 1u);
  EXPECT_EQ(c.Events(), (std::vector<Event>{Ev(EventType::kEstablished),
                                            Ev(EventType::kSubflowUp, 1)}));
  // We ACK at once with a DSS (DATA_ACK = the client's IDSN + 1), which tells the client we
  // have its key (RFC 8684 §3.1: any DSS from the server makes the client fully established).
  auto ack = c.Poll(Ms(50));
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->tcp.flags, kAck);
  EXPECT_EQ(ack->tcp.seq.value(), siss + 1);
  EXPECT_EQ(ack->tcp.ack.value(), kClientIss + 1);
  EXPECT_TRUE(ack->payload.empty());
  ASSERT_EQ(ack->mptcp.size(), 1u) << *ack;
  EXPECT_EQ(*ack->Get<Dss>(), AckDss(kClientIdsn + 1));
  ExpectNothing(c, Ms(50));

  // Our first data: DSN = our IDSN + 1, DATA_ACK = the client's IDSN + 1.
  const std::vector<uint8_t> data = Pattern(100);
  c->Write(c.now(), data);
  auto d = c.Poll(Ms(60));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->tcp.flags, kAck | kPsh);
  EXPECT_EQ(d->tcp.seq.value(), siss + 1);
  EXPECT_EQ(d->tcp.ack.value(), kClientIss + 1);
  EXPECT_EQ(d->payload, data);
  ASSERT_EQ(d->mptcp.size(), 1u) << *d;
  EXPECT_EQ(*d->Get<Dss>(), MapDss(kClientIdsn + 1, kServerIdsn + 1, 1, 100));
}

TEST(ConnectionHandshakeTest, ServerAnswersHigherVersionWithV1) {
  ConnHarness c(TestConfig(), Role::kServer, kServerKey, kSeed);
  // RFC 8684 §3.1: the answer carries the version the server will use, at most the offered one.
  EXPECT_TRUE(c.AcceptSyn(Ms(0), ServerPath1(),
                          ClientSyn().Mptcp(MpCapable{.version = 2, .flags = kH}))
                  .accepted());
  auto synack = c.Poll(Ms(0));
  ASSERT_TRUE(synack);
  ASSERT_EQ(synack->mptcp.size(), 1u) << *synack;
  EXPECT_EQ(*synack->Get<MpCapable>(),
            (MpCapable{.version = 1, .flags = kH, .sender_key = kServerKey}));
  EXPECT_FALSE(c->fallen_back());
}

TEST(ConnectionHandshakeTest, ServerChecksumRequestedByClient) {
  ConnHarness c(TestConfig(), Role::kServer, kServerKey, kSeed);
  c.AcceptSyn(Ms(0), ServerPath1(), ClientSyn().Mptcp(MpCapable{.version = 1, .flags = kH | kA}));
  EXPECT_TRUE(c->checksum_enabled());
  auto synack = c.Poll(Ms(0));
  ASSERT_TRUE(synack);
  EXPECT_EQ(*synack->Get<MpCapable>(),
            (MpCapable{.version = 1, .flags = kH | kA, .sender_key = kServerKey}));
}

// A server handshake that must end as plain TCP: no MPTCP option in the SYN-ACK, the
// connection established without MPTCP, data both ways without options.
void CheckServerPlainTcp(const PeerSeg& syn) {
  ConnHarness c(TestConfig(), Role::kServer, kServerKey, kSeed);
  c.AcceptSyn(Ms(0), ServerPath1(), syn);
  EXPECT_EQ(c->mib().mp_capable_syn_rx, 0u);
  auto synack = c.Poll(Ms(0));
  ASSERT_TRUE(synack);
  EXPECT_EQ(synack->tcp.flags, kSyn | kAck);
  EXPECT_EQ(synack->tcp.ack.value(), kClientIss + 1);
  EXPECT_TRUE(synack->mptcp.empty()) << *synack;
  const uint32_t siss = synack->tcp.seq.value();
  EXPECT_TRUE(
      c.Send(Ms(50), ServerPath1(), PeerSeg().SeqN(kClientIss + 1).AckN(siss + 1).Win(30000))
          .accepted());
  EXPECT_TRUE(c->established());
  EXPECT_TRUE(c->fallen_back());
  EXPECT_FALSE(c->remote_key());
  EXPECT_TRUE(HasEvent(c.Events(), EventType::kEstablished));
  c.Send(Ms(60), ServerPath1(),
         PeerSeg().Flags(kAck | kPsh).SeqN(kClientIss + 1).AckN(siss + 1).Win(30000).Data(
             Pattern(30)));
  std::vector<uint8_t> got(100);
  got.resize(c->Read(c.now(), got));
  EXPECT_EQ(got, Pattern(30));
  c->Write(c.now(), Pattern(20, 8));
  auto d = c.Poll(Ms(70));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->tcp.ack.value(), kClientIss + 31);
  EXPECT_EQ(d->payload, Pattern(20, 8));
  EXPECT_TRUE(d->mptcp.empty()) << *d;
}

TEST(ConnectionHandshakeTest, ServerTreatsV0SynAsPlainTcp) {
  // RFC 8684 §3.1: a v1-only listener cannot answer with a version <= 0, so it answers without
  // MP_CAPABLE, i.e. plain TCP. Linux (net/mptcp/options.c) ignores the v0 option the same way.
  CheckServerPlainTcp(
      ClientSyn().Mptcp(MpCapable{.version = 0, .flags = kH, .sender_key = kClientKey}));
}

TEST(ConnectionHandshakeTest, ServerTreatsSynWithoutMpCapableAsPlainTcp) {
  CheckServerPlainTcp(ClientSyn());
}

TEST(ConnectionHandshakeTest, ServerIgnoresMpCapableWithBadFlags) {
  // RFC 8684 §3.1: with no crypto algorithm bit set (H clear) the option "MUST be treated as
  // invalid and ignored"; an unknown extensibility bit B likewise means the MP_CAPABLE "MUST
  // be silently ignored", i.e. fallback to TCP. Linux: mptcp_parse_option drops an MP_CAPABLE
  // whose flags are not exactly H (mask 0x3f) or that has B set.
  std::string deviations;
  for (uint8_t flags : {uint8_t{0}, static_cast<uint8_t>(kH | kB)}) {
    SCOPED_TRACE(absl::StrFormat("flags 0x%02x", flags));
    ConnHarness c(TestConfig(), Role::kServer, kServerKey, kSeed);
    c.AcceptSyn(Ms(0), ServerPath1(), ClientSyn().Mptcp(MpCapable{.version = 1, .flags = flags}));
    auto synack = c.Poll(Ms(0));
    ASSERT_TRUE(synack);
    if (synack->Count<MpCapable>() > 0) {
      absl::StrAppendFormat(&deviations, " flags 0x%02x answered with MP_CAPABLE;", flags);
      continue;
    }
    EXPECT_TRUE(synack->mptcp.empty()) << *synack;
    EXPECT_TRUE(c->fallen_back());
  }
  if (!deviations.empty()) {
    FAIL() << "regression: connection_input.h AcceptSyn accepts any v1 MP_CAPABLE SYN without "
                    "checking H / B:" << deviations;
  }
}

TEST(ConnectionHandshakeTest, ServerThirdAckLostFirstDataCarriesKeys) {
  ConnHarness c(TestConfig(), Role::kServer, kServerKey, kSeed);
  c.AcceptSyn(Ms(0), ServerPath1(), ClientSyn().Mptcp(MpCapable{.version = 1, .flags = kH}));
  auto synack = c.Poll(Ms(0));
  ASSERT_TRUE(synack);
  const uint32_t siss = synack->tcp.seq.value();
  // The third ACK is lost; the client's first data repeats MP_CAPABLE with both keys and the
  // data-level length (RFC 8684 §3.1): it establishes the connection and maps the data at the
  // client's IDSN + 1.
  const std::vector<uint8_t> data = Pattern(100, 11);
  const Disposition d = c.Send(Ms(50), ServerPath1(),
                               PeerSeg()
                                   .Flags(kAck | kPsh)
                                   .SeqN(kClientIss + 1)
                                   .AckN(siss + 1)
                                   .Win(30000)
                                   .Data(data)
                                   .Mptcp(MpCapable{.version = 1,
                                                    .flags = kH,
                                                    .sender_key = kClientKey,
                                                    .receiver_key = kServerKey,
                                                    .data_len = 100}));
  EXPECT_TRUE(d.accepted()) << d.reason;
  EXPECT_TRUE(c->established());
  EXPECT_TRUE(c->fully_established());
  ASSERT_TRUE(c->remote_key());
  EXPECT_EQ(*c->remote_key(), kClientKey);
  EXPECT_EQ(c->mib().mp_capable_ack_rx, 1u);
  const std::vector<Event> events = c.Events();
  EXPECT_TRUE(HasEvent(events, EventType::kEstablished));
  EXPECT_TRUE(HasEvent(events, EventType::kSubflowUp));
  EXPECT_TRUE(HasEvent(events, EventType::kReadable));
  EXPECT_EQ(c->rcv_data_nxt(), kClientIdsn + 101);
  std::vector<uint8_t> got(200);
  got.resize(c->Read(c.now(), got));
  EXPECT_EQ(got, data);
  // The ACK (at once: it also tells the client we have its key) carries DATA_ACK = the
  // client's IDSN + 101.
  auto ack = c.Poll(Ms(50));
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->tcp.flags, kAck);
  EXPECT_EQ(ack->tcp.seq.value(), siss + 1);
  EXPECT_EQ(ack->tcp.ack.value(), kClientIss + 101);
  ASSERT_EQ(ack->mptcp.size(), 1u) << *ack;
  EXPECT_EQ(*ack->Get<Dss>(), AckDss(kClientIdsn + 101));
  ExpectNothing(c, Ms(90));
}

// ---- MP_JOIN initiator ----------------------------------------------------------------------

TEST(ConnectionHandshakeTest, JoinInitiator) {
  SKIP_IF_NO_PYTHON();
  ConnHarness c(TestConfig(), Role::kClient, kClientKey, kSeed);
  const uint32_t iss1 = ClientFullyEstablished(c);

  auto sid = c->OpenSubflow(Ms(120), ClientPath2());
  ASSERT_TRUE(sid.ok()) << sid.status();
  EXPECT_EQ(c->mib().mp_join_syn_tx, 1u);
  // RFC 8684 §3.2: the SYN carries MP_JOIN with the server's token, our nonce, our address ID.
  auto syn = c.Poll(Ms(120));
  ASSERT_TRUE(syn);
  EXPECT_EQ(syn->path, ClientPath2());
  EXPECT_EQ(syn->subflow, *sid);
  EXPECT_EQ(syn->tcp.flags, kSyn);
  EXPECT_EQ(syn->tcp.options.mss, 1000);
  ASSERT_EQ(syn->mptcp.size(), 1u) << *syn;
  EXPECT_EQ(syn->mptcp_lengths[0], 12u);
  const MpJoinSyn join = *syn->Get<MpJoinSyn>();
  EXPECT_EQ(join.receiver_token, kServerToken);
  EXPECT_FALSE(join.backup);
  EXPECT_NE(join.address_id, 0) << "ID 0 is the initial subflow's address";
  EXPECT_EQ(join.reserved, 0);
  const uint32_t our_nonce = join.sender_nonce;
  const uint32_t iss2 = syn->tcp.seq.value();
  ExpectNothing(c, Ms(120));

  // The SYN-ACK with the right truncated HMAC: HMAC(Key-B || Key-A, R-B || R-A), B the server.
  const uint64_t synack_hmac = PyOracle::SynAckHmac(kServerKey, kClientKey, kPeerNonce, our_nonce);
  EXPECT_TRUE(c.Send(Ms(130), ClientPath2(),
                     PeerSeg().Flags(kSyn).SeqN(kPeerJoinIss).AckN(iss2 + 1).Win(30000).Mss(1460)
                         .SackOk()
                         .Mptcp(MpJoinSynAck{.backup = false, .address_id = 7,
                                             .truncated_hmac = synack_hmac,
                                             .sender_nonce = kPeerNonce}))
                  .accepted());
  EXPECT_EQ(c->mib().mp_join_synack_rx, 1u);
  EXPECT_EQ(c->mib().mp_join_synack_hmac_failure, 0u);
  EXPECT_TRUE(c.Events().empty()) << "not up before the fourth ACK";

  // The third ACK carries the full 160-bit HMAC(Key-A || Key-B, R-A || R-B), A us.
  const auto ack_hmac = PyOracle::AckHmac(kClientKey, kServerKey, our_nonce, kPeerNonce);
  const MpJoinAck want_ack{.hmac = ack_hmac};
  auto ack3 = c.Poll(Ms(130));
  ASSERT_TRUE(ack3);
  EXPECT_EQ(ack3->path, ClientPath2());
  EXPECT_EQ(ack3->tcp.flags, kAck);
  EXPECT_EQ(ack3->tcp.seq.value(), iss2 + 1);
  EXPECT_EQ(ack3->tcp.ack.value(), kPeerJoinIss + 1);
  EXPECT_TRUE(ack3->payload.empty());
  ASSERT_EQ(ack3->mptcp.size(), 1u) << *ack3;
  EXPECT_EQ(ack3->mptcp_lengths[0], 24u);
  EXPECT_EQ(*ack3->Get<MpJoinAck>(), want_ack);
  ExpectNothing(c, Ms(130));
  const SubflowInfo info = c->Subflows().back();
  EXPECT_EQ(info.remote_id, 7);
  EXPECT_FALSE(info.fully_established);

  // RFC 8684 §3.2: no data on the new subflow before the fourth ACK. The new subflow has the
  // lower RTT (10 ms against 100 ms), so the scheduler would pick it if it could.
  const std::vector<uint8_t> data1 = Pattern(100);
  c->Write(c.now(), data1);
  auto d1 = c.Poll(Ms(140));
  ASSERT_TRUE(d1);
  EXPECT_EQ(d1->path, ClientPath1()) << *d1;
  EXPECT_EQ(d1->payload, data1);
  ExpectNothing(c, Ms(140));
  c.Send(Ms(150), ClientPath1(),
         PeerSeg().SeqN(kPeerIss + 1).AckN(iss1 + 101).Win(30000).Mptcp(AckDss(kClientIdsn + 101)));
  EXPECT_EQ(c->data_una(), kClientIdsn + 101);

  // The fourth ACK never comes: the third ACK is resent on its timer (500 ms, the signal
  // retransmission interval, being above the subflow's RTO of 200 ms).
  ExpectNothing(c, Ms(629));
  auto again = c.Poll(Ms(630));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->path, ClientPath2());
  EXPECT_EQ(again->tcp.flags, kAck);
  EXPECT_EQ(again->tcp.seq.value(), iss2 + 1);
  ASSERT_EQ(again->mptcp.size(), 1u) << *again;
  EXPECT_EQ(*again->Get<MpJoinAck>(), want_ack);
  ExpectNothing(c, Ms(630));

  // The fourth ACK: the subflow is up and takes new data.
  EXPECT_TRUE(c.Send(Ms(640), ClientPath2(),
                     PeerSeg().SeqN(kPeerJoinIss + 1).AckN(iss2 + 1).Win(30000).Mptcp(
                         AckDss(kClientIdsn + 101)))
                  .accepted());
  EXPECT_EQ(c.Events(), (std::vector<Event>{Ev(EventType::kSubflowUp, *sid)}));
  const std::vector<uint8_t> data2 = Pattern(100, 4);
  c->Write(c.now(), data2);
  auto d2 = c.Poll(Ms(650));
  ASSERT_TRUE(d2);
  EXPECT_EQ(d2->path, ClientPath2()) << *d2;
  EXPECT_EQ(d2->tcp.flags, kAck | kPsh);
  EXPECT_EQ(d2->tcp.seq.value(), iss2 + 1);
  EXPECT_EQ(d2->tcp.ack.value(), kPeerJoinIss + 1);
  EXPECT_EQ(d2->payload, data2);
  ASSERT_EQ(d2->mptcp.size(), 1u) << *d2;
  EXPECT_EQ(*d2->Get<Dss>(), MapDss(kServerIdsn + 1, kClientIdsn + 101, 1, 100));
  ExpectNothing(c, Ms(650));
  // Once that data is acknowledged, nothing more: the third-ACK timer is off for good.
  c.Send(Ms(660), ClientPath2(),
         PeerSeg().SeqN(kPeerJoinIss + 1).AckN(iss2 + 101).Win(30000).Mptcp(
             AckDss(kClientIdsn + 201)));
  EXPECT_EQ(c->data_una(), kClientIdsn + 201);
  ExpectNothing(c, Ms(5000));
}

TEST(ConnectionHandshakeTest, JoinSynCarriesBackupFlag) {
  ConnHarness c(TestConfig(), Role::kClient, kClientKey, kSeed);
  ClientFullyEstablished(c);
  ASSERT_TRUE(c->OpenSubflow(Ms(120), ClientPath2(), /*backup=*/true).ok());
  auto syn = c.Poll(Ms(120));
  ASSERT_TRUE(syn);
  ASSERT_EQ(syn->Count<MpJoinSyn>(), 1u) << *syn;
  EXPECT_TRUE(syn->Get<MpJoinSyn>()->backup);
  EXPECT_EQ(syn->Get<MpJoinSyn>()->receiver_token, kServerToken);
}

TEST(ConnectionHandshakeTest, JoinInitiatorRejectsWrongSynAckHmac) {
  SKIP_IF_NO_PYTHON();
  ConnHarness c(TestConfig(), Role::kClient, kClientKey, kSeed);
  const uint32_t iss1 = ClientFullyEstablished(c);
  auto sid = c->OpenSubflow(Ms(120), ClientPath2());
  ASSERT_TRUE(sid.ok());
  auto syn = c.Poll(Ms(120));
  ASSERT_TRUE(syn);
  const uint32_t our_nonce = syn->Get<MpJoinSyn>()->sender_nonce;
  const uint32_t iss2 = syn->tcp.seq.value();
  // One bit off.
  const uint64_t bad =
      PyOracle::SynAckHmac(kServerKey, kClientKey, kPeerNonce, our_nonce) ^ 0x0100000000000000ULL;
  const Disposition d = c.Send(
      Ms(130), ClientPath2(),
      PeerSeg().Flags(kSyn).SeqN(kPeerJoinIss).AckN(iss2 + 1).Win(30000).Mss(1460).Mptcp(
          MpJoinSynAck{.address_id = 7, .truncated_hmac = bad, .sender_nonce = kPeerNonce}));
  EXPECT_EQ(d.verdict, Verdict::kReset) << d.reason;
  EXPECT_EQ(c->mib().mp_join_synack_hmac_failure, 1u);
  EXPECT_EQ(c->mib().mp_join_synack_rx, 0u);
  const std::optional<Sent> rst = c.Poll(Ms(130));

  // The connection carries on over the first subflow.
  EXPECT_TRUE(c->established());
  EXPECT_FALSE(c->closed());
  ExpectNothing(c, Ms(130));
  EXPECT_EQ(c->subflow_count(), 1u);
  for (const Event& e : c.Events()) {
    EXPECT_NE(e.type, EventType::kSubflowUp) << e;
    EXPECT_NE(e.type, EventType::kClosed) << e;
  }
  c->Write(c.now(), Pattern(10));
  auto d1 = c.Poll(Ms(140));
  ASSERT_TRUE(d1);
  EXPECT_EQ(d1->path, ClientPath1());
  EXPECT_EQ(d1->tcp.seq.value(), iss1 + 1);

  // RFC 8684 §3.2 / §3.6: the subflow is reset with MP_TCPRST "MPTCP-specific error" (Linux:
  // subflow_finish_connect resets with MPTCP_RST_EMPTCP).
  if (!rst) {
    FAIL() << "regression: no RST is sent for a join SYN-ACK with a wrong HMAC (MPRstTx = "
                 << c->mib().mp_rst_tx << " all the same). connection_input.h CheckSynAck "
                 << "calls ResetSubflow before the engine has processed the SYN-ACK; "
                 << "TcpEngine::Abort in SYN-SENT sends nothing (RFC 9293 §3.10.5).";
  }
  EXPECT_EQ(rst->path, ClientPath2());
  EXPECT_TRUE(rst->has(kRst));
  EXPECT_EQ(rst->tcp.seq.value(), iss2 + 1);
  ASSERT_EQ(rst->Count<MpTcpRst>(), 1u) << *rst;
  EXPECT_EQ(rst->Get<MpTcpRst>()->reason, static_cast<uint8_t>(MpTcpRstReason::kMptcpSpecific));
}

// ---- MP_JOIN responder ----------------------------------------------------------------------

TEST(ConnectionHandshakeTest, JoinResponder) {
  SKIP_IF_NO_PYTHON();
  ConnHarness c(TestConfig(), Role::kServer, kServerKey, kSeed);
  const JoinResponder r = ServerJoin(c);
  ASSERT_NE(r.siss2, 0u);
  EXPECT_EQ(c->mib().mp_join_syn_rx, 1u);
  // RFC 8684 §3.2: the SYN-ACK's truncated HMAC is HMAC(Key-B || Key-A, R-B || R-A), B us.
  const SubflowInfo info = c->Subflows().back();
  EXPECT_EQ(info.tuple, ServerPath2());
  EXPECT_EQ(info.remote_id, 2);
  EXPECT_EQ(r.synack,
            (MpJoinSynAck{.backup = false, .address_id = info.local_id,
                          .truncated_hmac =
                              PyOracle::SynAckHmac(kServerKey, kClientKey, r.nonce, kClientNonce),
                          .sender_nonce = r.nonce}));
  EXPECT_NE(info.local_id, 0) << "ID 0 is the initial subflow's address";
  ExpectNothing(c, Ms(100));

  // The third ACK with HMAC(Key-A || Key-B, R-A || R-B), A the client: the subflow is up and
  // the fourth ACK goes out at once.
  const Disposition d = c.Send(
      Ms(110), ServerPath2(),
      PeerSeg().SeqN(kClientJoinIss + 1).AckN(r.siss2 + 1).Win(30000).Mptcp(MpJoinAck{
          .hmac = PyOracle::AckHmac(kClientKey, kServerKey, kClientNonce, r.nonce)}));
  EXPECT_TRUE(d.accepted()) << d.reason;
  EXPECT_EQ(c->mib().mp_join_ack_rx, 1u);
  EXPECT_EQ(c->mib().mp_join_ack_hmac_failure, 0u);
  EXPECT_EQ(c.Events(), (std::vector<Event>{Ev(EventType::kSubflowUp, info.id)}));
  auto ack4 = c.Poll(Ms(110));
  ASSERT_TRUE(ack4);
  EXPECT_EQ(ack4->path, ServerPath2());
  EXPECT_EQ(ack4->tcp.flags, kAck);
  EXPECT_EQ(ack4->tcp.seq.value(), r.siss2 + 1);
  EXPECT_EQ(ack4->tcp.ack.value(), kClientJoinIss + 1);
  EXPECT_TRUE(ack4->payload.empty());
  ASSERT_EQ(ack4->mptcp.size(), 1u) << *ack4;
  EXPECT_EQ(*ack4->Get<Dss>(), AckDss(kClientIdsn + 1));
  ExpectNothing(c, Ms(110));

  // The responder may send on the new subflow at once (lower RTT: 10 ms against 50 ms).
  const std::vector<uint8_t> data = Pattern(100);
  c->Write(c.now(), data);
  auto d1 = c.Poll(Ms(120));
  ASSERT_TRUE(d1);
  EXPECT_EQ(d1->path, ServerPath2()) << *d1;
  EXPECT_EQ(d1->tcp.seq.value(), r.siss2 + 1);
  EXPECT_EQ(d1->payload, data);
  EXPECT_EQ(*d1->Get<Dss>(), MapDss(kClientIdsn + 1, kServerIdsn + 1, 1, 100));
}

TEST(ConnectionHandshakeTest, JoinResponderRejectsWrongAckHmac) {
  SKIP_IF_NO_PYTHON();
  ConnHarness c(TestConfig(), Role::kServer, kServerKey, kSeed);
  const JoinResponder r = ServerJoin(c);
  ASSERT_NE(r.siss2, 0u);
  auto hmac = PyOracle::AckHmac(kClientKey, kServerKey, kClientNonce, r.nonce);
  hmac[19] ^= 0x80;
  const Disposition d = c.Send(
      Ms(110), ServerPath2(),
      PeerSeg().SeqN(kClientJoinIss + 1).AckN(r.siss2 + 1).Win(30000).Mptcp(
          MpJoinAck{.hmac = hmac}));
  EXPECT_EQ(d.verdict, Verdict::kReset) << d.reason;
  EXPECT_EQ(c->mib().mp_join_ack_hmac_failure, 1u);
  EXPECT_EQ(c->mib().mp_join_ack_rx, 0u);
  EXPECT_EQ(c->mib().mp_rst_tx, 1u);

  // A RST with MP_TCPRST on the join's path, at our SND.NXT.
  auto rst = c.Poll(Ms(110));
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->path, ServerPath2());
  EXPECT_EQ(rst->tcp.flags, kRst);
  EXPECT_EQ(rst->tcp.seq.value(), r.siss2 + 1);
  EXPECT_TRUE(rst->payload.empty());
  ASSERT_EQ(rst->mptcp.size(), 1u) << *rst;
  const MpTcpRst reason = *rst->Get<MpTcpRst>();
  EXPECT_EQ(reason.flags, 0);

  // The connection is untouched: no events, one subflow, data flows on path 1.
  ExpectNothing(c, Ms(110));
  EXPECT_TRUE(c.Events().empty());
  EXPECT_EQ(c->subflow_count(), 1u);
  EXPECT_TRUE(c->established());
  EXPECT_FALSE(c->closed());
  c->Write(c.now(), Pattern(10));
  auto d1 = c.Poll(Ms(120));
  ASSERT_TRUE(d1);
  EXPECT_EQ(d1->path, ServerPath1());
  EXPECT_EQ(d1->tcp.seq.value(), r.siss1 + 1);
  EXPECT_EQ(*d1->Get<Dss>(), MapDss(kClientIdsn + 1, kServerIdsn + 1, 1, 10));

  // RFC 8684 §3.6: "MPTCP-specific error" is "the usual reason code to return in the cases
  // where a RST is being sent to close a subflow because of an invalid response"; Linux
  // switched its ACK-HMAC failure from EPROHIBIT to EMPTCP in 2026 (commit a6da02d).
  if (reason.reason == static_cast<uint8_t>(MpTcpRstReason::kAdministrativelyProhibited)) {
    FAIL() << "regression: the third-ACK HMAC failure resets with MP_TCPRST reason 3 "
                    "(administratively prohibited) instead of 1 (MPTCP-specific error), "
                    "connection_input.h OnHandshakeDone";
  }
  EXPECT_EQ(reason.reason, static_cast<uint8_t>(MpTcpRstReason::kMptcpSpecific));
}

TEST(ConnectionHandshakeTest, JoinResponderRefusedAtSubflowLimit) {
  ConnectionConfig cfg = TestConfig();
  cfg.max_subflows = 1;
  ConnHarness c(cfg, Role::kServer, kServerKey, kSeed);
  ServerHandshake(c);
  ASSERT_TRUE(c->fully_established());

  const MpJoinSyn join{.address_id = 2, .receiver_token = kServerToken,
                       .sender_nonce = kClientNonce};
  const Disposition d = c.AcceptJoin(
      Ms(100), ServerPath2(), PeerSeg().Flags(kSyn).SeqN(kClientJoinIss).Win(30000).Mptcp(join),
      join);
  EXPECT_EQ(d.verdict, Verdict::kDropped);
  EXPECT_EQ(c->mib().mp_join_syn_rx, 1u);
  EXPECT_EQ(c->mib().mp_join_rejected, 1u);
  EXPECT_EQ(c->subflow_count(), 1u);
  // The connection sends nothing itself (the Endpoint answers with a RST: kJoinRefused).
  ExpectNothing(c, Ms(100));
  EXPECT_TRUE(c.Events().empty());
}

TEST(ConnectionHandshakeTest, JoinResponderRefusedBeforeKeysKnown) {
  ConnHarness c(TestConfig(), Role::kServer, kServerKey, kSeed);
  c.AcceptSyn(Ms(0), ServerPath1(), ClientSyn().Mptcp(MpCapable{.version = 1, .flags = kH}));
  ASSERT_TRUE(c.Poll(Ms(0)));
  const MpJoinSyn join{.address_id = 2, .receiver_token = kServerToken,
                       .sender_nonce = kClientNonce};
  const Disposition d = c.AcceptJoin(
      Ms(10), ServerPath2(), PeerSeg().Flags(kSyn).SeqN(kClientJoinIss).Win(30000).Mptcp(join),
      join);
  EXPECT_EQ(d.verdict, Verdict::kDropped);
  EXPECT_EQ(c->mib().mp_join_rejected, 1u);
  EXPECT_EQ(c->subflow_count(), 1u);
}

// ---- Endpoint: strays -----------------------------------------------------------------------

// The IP packet carrying `seg` from the client to the server (`path` is the server's view).
std::vector<uint8_t> ToServer(const FourTuple& path, const PeerSeg& seg) {
  const std::vector<uint8_t> tcp = seg.Bytes(path);
  wire::IpRepr ip;
  ip.src = path.remote.ip;
  ip.dst = path.local.ip;
  ip.protocol = 6;
  ip.payload_len = static_cast<uint16_t>(tcp.size());
  std::vector<uint8_t> pkt(ip.HeaderLength() + tcp.size());
  EXPECT_TRUE(ip.Emit(pkt).ok());
  std::copy(tcp.begin(), tcp.end(), pkt.begin() + static_cast<std::ptrdiff_t>(ip.HeaderLength()));
  return pkt;
}

// The endpoint's next packet, parsed; it must go from `path.local` to `path.remote`.
std::optional<Sent> PollEndpoint(Endpoint& ep, Timestamp now, const FourTuple& path) {
  std::vector<uint8_t> buf(2048);
  const TransmitResult t = ep.PollTransmit(now, buf);
  if (!t) return std::nullopt;
  EXPECT_EQ(t->path, path) << "the Transmit names the path";
  auto ip = wire::ParseIpPacket(std::span<const uint8_t>(buf.data(), t->len));
  EXPECT_TRUE(ip.ok());
  if (!ip.ok()) return std::nullopt;
  EXPECT_EQ(ip->ip.src, path.local.ip);
  EXPECT_EQ(ip->ip.dst, path.remote.ip);
  EXPECT_EQ(ip->ip.protocol, 6);
  return ParseSent(path, 0, ip->payload);
}

EndpointConfig TestEndpointConfig() {
  EndpointConfig c;
  c.connection = TestConfig();
  return c;
}

TEST(ConnectionHandshakeTest, EndpointResetsJoinForUnknownToken) {
  Endpoint ep(TestEndpointConfig(), kSeed);
  ep.Listen(kServerPort);
  const PacketResult res = ep.OnPacket(
      Ms(0), ToServer(ServerPath2(),
                      PeerSeg().Flags(kSyn).SeqN(3000).Win(30000).Mss(1460).Mptcp(MpJoinSyn{
                          .address_id = 1, .receiver_token = 0xdeadbeef,
                          .sender_nonce = kClientNonce})));
  EXPECT_EQ(res.verdict, PacketVerdict::kJoinNoToken);
  EXPECT_EQ(ep.connection_count(), 0u);
  // RFC 9293 §3.10.7.1 for a SYN: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
  auto rst = PollEndpoint(ep, Ms(0), ServerPath2());
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->tcp.flags, kRst | kAck);
  EXPECT_EQ(rst->tcp.seq.value(), 0u);
  EXPECT_EQ(rst->tcp.ack.value(), 3001u);
  EXPECT_TRUE(rst->payload.empty());
  EXPECT_FALSE(PollEndpoint(ep, Ms(0), ServerPath2()));
  EXPECT_EQ(ep.stats().resets_sent, 1u);
  // RFC 8684 §3.2: "If the token is unknown ... the receiver will send back a reset (RST)
  // signal ... containing an MP_TCPRST option (Section 3.6) with an 'MPTCP specific error'
  // reason code."
  if (rst->Count<MpTcpRst>() == 0) {
    FAIL() << "regression: the RST for an unknown join token carries no MP_TCPRST "
                    "(endpoint.h QueueReset builds a bare RST); RFC 8684 §3.2 wants reason 1 "
                    "(MPTCP-specific error), as Linux sends";
  }
  EXPECT_EQ(rst->Get<MpTcpRst>()->reason, static_cast<uint8_t>(MpTcpRstReason::kMptcpSpecific));
}

TEST(ConnectionHandshakeTest, EndpointResetsStrayAck) {
  Endpoint ep(TestEndpointConfig(), kSeed);
  ep.Listen(kServerPort);
  const PacketResult res =
      ep.OnPacket(Ms(0), ToServer(ServerPath1(),
                                  PeerSeg().SeqN(4000).AckN(123456).Win(30000).Mptcp(
                                      AckDss(kClientIdsn + 1))));
  EXPECT_EQ(res.verdict, PacketVerdict::kNoConnection);
  EXPECT_EQ(ep.connection_count(), 0u);
  EXPECT_EQ(ep.stats().strays, 1u);
  // RFC 9293 §3.10.7.1 for an ACK: <SEQ=SEG.ACK><CTL=RST>.
  auto rst = PollEndpoint(ep, Ms(0), ServerPath1());
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->tcp.flags, kRst);
  EXPECT_EQ(rst->tcp.seq.value(), 123456u);
  EXPECT_TRUE(rst->payload.empty());
  EXPECT_FALSE(PollEndpoint(ep, Ms(0), ServerPath1()));
  // A RST is never answered (RFC 9293 §3.10.7.1).
  ep.OnPacket(Ms(1), ToServer(ServerPath1(), PeerSeg().Flags(kRst).SeqN(4000)));
  EXPECT_FALSE(PollEndpoint(ep, Ms(1), ServerPath1()));
}

// ---- After the handshake: the data-level timer ---------------------------------------------

TEST(ConnectionHandshakeTest, FirstDataAfterIdleIsNotRetransmittedAtOnce) {
  ConnHarness c(TestConfig(), Role::kClient, kClientKey, kSeed);
  const uint32_t iss = ClientFullyEstablished(c);
  // Idle for 5 s, then a write: one segment, and nothing more until an RTO has passed.
  const std::vector<uint8_t> data = Pattern(100);
  c->Write(c.now(), data);
  auto d = c.Poll(Ms(5000));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->tcp.seq.value(), iss + 1);
  EXPECT_EQ(*d->Get<Dss>(), MapDss(kServerIdsn + 1, kClientIdsn + 1, 1, 100));
  const std::optional<Sent> extra = c.Poll(Ms(5000));
  if (extra || c->mib().data_rto > 0) {
    FAIL() << "regression: the data-level RTO fires right after the first write following an "
                    "idle period (DataRetransTimeout = " << c->mib().data_rto
                 << ", ReinjectedBytes = " << c->mib().reinjected_bytes
                 << "): last_data_progress_ is only set when DATA_ACK advances, so the timer "
                    "runs from the last ACK, not from when the data was sent "
                    "(connection_output.h Schedule / OnTimeout). Duplicate: "
                 << (extra ? extra->ToString() : std::string("none"));
  }
  // Before the subflow's own RTO (300 ms) nothing at all goes out.
  ExpectNothing(c, Ms(5299));
}

}  // namespace
}  // namespace mptcp::testing
