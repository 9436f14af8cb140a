// The connection keeps its coupling group (mptcp/coupling.h) up to date: which subflows a
// coupled congestion controller counts, as subflows join, turn backup or stale, and return.
#include "mptcp/coupling.h"

#include <gtest/gtest.h>

#include "mptcp/connection.h"
#include "mptcp/endpoint.h"
#include "testing/endpoint_pair.h"

namespace mptcp::testing {
namespace {

std::vector<bool> CoupledFlags(const Connection& c) {
  std::vector<bool> v;
  for (const SubflowInfo& s : c.Subflows()) v.push_back(s.coupled);
  return v;
}

class CouplingTest : public ::testing::Test {
 protected:
  CouplingTest() : p_(Config()) {}
  static EndpointConfig Config() {
    EndpointConfig cfg;
    cfg.connection.congestion_control = cc::CcAlgorithm::kLia;
    return cfg;
  }

  // A connection with its two subflows fully established; returns the client's.
  Connection* TwoSubflows() {
    auto id = p_.client.Connect(p_.now, {IpAddress::V4(192, 0, 2, 1), 40000}, kPairServer0);
    EXPECT_TRUE(id.ok());
    id_ = *id;
    EXPECT_TRUE(p_.RunUntil([&] { return client()->fully_established(); }));
    while (auto e = p_.server.PollEvent()) server_id_ = e->id;
    EXPECT_TRUE(p_.client.OpenSubflow(p_.now, id_, {IpAddress::V4(203, 0, 113, 1), 40001},
                                      kPairServer1)
                    .ok());
    EXPECT_TRUE(p_.RunUntil([&] {
      const auto v = client()->Subflows();
      return v.size() == 2 && v[0].fully_established && v[1].fully_established;
    }));
    return client();
  }
  Connection* client() { return p_.client.connection(id_); }
  // Runs the pair 1 ms at a time (data keeps flowing, so waiting for a quiet moment to move
  // the clock, as RunUntil does, would never come) until done() or `ms` pass.
  template <typename Done>
  bool RunMillis(Done done, int ms) {
    for (int i = 0; i < ms; ++i) {
      if (done()) return true;
      for (int k = 0; k < 8 && p_.Exchange() > 0; ++k) {
      }
      p_.now = p_.now + Duration::Millis(1);
      p_.Timers();
    }
    return done();
  }

  EndpointPair p_;
  ConnectionId id_ = 0;
  ConnectionId server_id_ = 0;
};

TEST_F(CouplingTest, EstablishedSubflowsAreCoupled) {
  Connection* c = TwoSubflows();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->coupling().size(), 2u);
  EXPECT_EQ(CoupledFlags(*c), (std::vector<bool>{true, true}));
  // The group's views are the subflows' own windows.
  const auto info = c->Subflows();
  EXPECT_EQ(c->coupling().path(0).cwnd, info[0].cwnd);
  EXPECT_EQ(c->coupling().path(1).cwnd, info[1].cwnd);
  EXPECT_EQ(c->coupling().path(2).cwnd, 0u) << "out of range: an empty view";
}

TEST_F(CouplingTest, ABackupLeavesTheGroupWhileARegularSubflowLives) {
  Connection* c = TwoSubflows();
  ASSERT_NE(c, nullptr);
  const SubflowId second = c->Subflows()[1].id;
  ASSERT_TRUE(c->SetBackup(p_.now, second, true));
  EXPECT_EQ(c->coupling().size(), 1u);
  EXPECT_EQ(CoupledFlags(*c), (std::vector<bool>{true, false}));
  ASSERT_TRUE(c->SetBackup(p_.now, second, false));
  EXPECT_EQ(c->coupling().size(), 2u);
}

TEST_F(CouplingTest, AStaleSubflowLeavesTheGroupAndComesBack) {
  Connection* c = TwoSubflows();
  ASSERT_NE(c, nullptr);
  // Cut the second path both ways while data flows: its RTOs make it stale.
  p_.drop = [](const Transmit& t) {
    return t.path.remote.ip == kPairServer1.ip || t.path.local.ip == kPairServer1.ip;
  };
  std::vector<uint8_t> data(64 * 1024, 7), sink(64 * 1024);
  ASSERT_TRUE(RunMillis(
      [&] {
        c = client();
        if (c == nullptr) return true;
        c->Write(p_.now, data);
        if (Connection* s = p_.server.connection(server_id_)) (void)s->Read(p_.now, sink);
        return c->Subflows()[1].stale;
      },
      10000));
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->coupling().size(), 1u);
  EXPECT_EQ(CoupledFlags(*c), (std::vector<bool>{true, false}));
  // The path returns: once the subflow gets an ACK it is no longer stale, and coupled again.
  p_.drop = nullptr;
  EXPECT_TRUE(RunMillis(
      [&] {
        c = client();
        if (c == nullptr) return true;
        c->Write(p_.now, data);
        if (Connection* s = p_.server.connection(server_id_)) (void)s->Read(p_.now, sink);
        return !c->Subflows()[1].stale;
      },
      60000));
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->coupling().size(), 2u);
}

TEST(CouplingUncoupledTest, AnUncoupledAlgorithmStillHasAGroupButIgnoresIt) {
  // The group describes the connection whatever the algorithm; NewReno and CUBIC never read it.
  EndpointConfig cfg;
  cfg.connection.congestion_control = cc::CcAlgorithm::kCubic;
  EndpointPair p(cfg);
  auto id = p.client.Connect(p.now, {IpAddress::V4(192, 0, 2, 1), 40000}, kPairServer0);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(p.RunUntil([&] { return p.client.connection(*id)->fully_established(); }));
  EXPECT_EQ(p.client.connection(*id)->coupling().size(), 1u);
}

}  // namespace
}  // namespace mptcp::testing
