// The parts of the simulator conformance scenarios that the tools (mptcp_sim's seed sweeps)
// share with the tests, without gtest: netem-like links, and run times measured as the kernel
// selftests measure them.
#ifndef MPTCP_CONFORMANCE_SCENARIO_COMMON_H_
#define MPTCP_CONFORMANCE_SCENARIO_COMMON_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "io/sim/harness.h"
#include "io/sim/link.h"
#include "mptcp/event.h"
#include "mptcp/time.h"

namespace mptcp::sim::conformance {

// One broken invariant of a run, as a scenario's judgement reports it. A fatal one ends the
// judgement (and a test's seed loop, as an ASSERT does): what follows it would be meaningless.
// A non-fatal one is recorded and the judgement goes on (an EXPECT).
struct Violation {
  bool fatal = false;
  std::string what;  // without the case and seed, which the caller adds
};

// Linux netem's per-packet accounting: its rate counts the packet as the qdisc sees it on a
// veth, Ethernet header included (14 bytes), while our links count the IP packet. Scaling the
// rate by 1500/1514 makes a full-sized packet take exactly as long as under netem; small
// packets (pure ACKs) come out about 14 bytes' worth faster, which is negligible here.
inline constexpr uint64_t kEthernetHeader = 14;
inline constexpr uint64_t kMtu = 1500;
inline uint64_t NetemRateBps(uint64_t mbit) { return mbit * 1'000'000 * kMtu / (kMtu + kEthernetHeader); }

// netem's default queue limit is 1000 packets (tc-netem(8) "limit"), counting the packets in
// its delay line as well; in bytes of full-sized packets that is 1.5 MB. Our queue holds only
// packets waiting for the serializer, so this allows a few more packets in total when the
// delay line is long (42 packets at 10 Mbit/s and 50 ms); no scenario here comes near it.
inline constexpr size_t kNetemLimitPackets = 1000;

// A link shaped like `tc qdisc add dev X root netem rate <mbit>mbit delay <delay_ms>ms`:
// rate, one-way delay and netem's drop-tail limit. `jitter` (zero under netem) stands for the
// host's scheduling noise and gives each seed its own packet timing; FIFO order is kept.
inline LinkConfig NetemLink(uint64_t mbit, int64_t delay_ms, Duration jitter = Duration::Zero()) {
  LinkConfig l;
  l.bandwidth_bps = NetemRateBps(mbit);
  l.delay = Duration::Millis(delay_ms);
  l.jitter = jitter;
  l.queue_bytes = kNetemLimitPackets * kMtu;
  return l;
}

// The first event of `type` seen by one side, or Never().
inline Timestamp FirstEvent(const HarnessResult& r, bool client, EventType type) {
  for (const SimEvent& e : r.events) {
    if (e.client == client && e.event.type == type) return e.at;
  }
  return Timestamp::Never();
}

// The run time as mptcp_connect -T measures it (tools/testing/selftests/net/mptcp/
// mptcp_connect.c, copyfd_io): per end, from the moment connect() returns (client) or accept()
// does (server), i.e. the connection is established, until it has written everything and read
// the peer's end of stream; the slower end counts. Never() if an end never got there.
inline Duration SelftestRunTime(const HarnessResult& r) {
  Duration worst = Duration::Zero();
  for (bool client : {true, false}) {
    const Timestamp start = FirstEvent(r, client, EventType::kEstablished);
    const Timestamp end = client ? r.client_eof_at : r.server_eof_at;
    if (start.IsNever() || end.IsNever()) return Duration::Infinite();
    worst = std::max(worst, end - start);
  }
  return worst;
}

inline double Seconds(Timestamp t) { return (t - Timestamp::Zero()).seconds(); }

}  // namespace mptcp::sim::conformance

#endif  // MPTCP_CONFORMANCE_SCENARIO_COMMON_H_
