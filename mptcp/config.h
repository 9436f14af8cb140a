// Tunables of an MPTCP connection and endpoint. Every memory bound is here.
#ifndef MPTCP_CONFIG_H_
#define MPTCP_CONFIG_H_

#include <cstddef>
#include <cstdint>

#include "mptcp/path_manager/endpoints.h"
#include "mptcp/tcp/tcp_config.h"
#include "mptcp/time.h"

namespace mptcp {

enum class SchedulerKind : uint8_t {
  kMinRtt,      // lowest smoothed RTT first among subflows with room (the default, as Linux);
                // the data's last bytes go to the subflow that delivers them first
  kRoundRobin,  // rotate among subflows with room
  kRedundant,   // every chunk on every subflow (lowest latency, capacity of one path)
  kBlest,       // lowest RTT first, unless a slow subflow would block the shared window
  kEcf,         // lowest RTT first, unless waiting for the fastest finishes earlier
};
// (mptcp/scheduler/: one header per scheduler, with its source; docs/schedulers.md says how
// to choose; ParseSchedulerKind in mptcp/scheduler/factory.h reads their names.)

struct ConnectionConfig {
  // Each subflow's TCP engine. Its buffers bound per-subflow memory. With MPTCP, a subflow's
  // buffers are raised to the connection's (send_buffer, recv_buffer below): a peer may send
  // the whole shared window on one subflow, and SubflowInflightLimit() may grow into the send
  // buffer. Memory is allocated only as data is held.
  tcp::TcpConfig subflow;

  // Connection-level buffers (RFC 8684 §3.3.4: one receive window shared by all subflows).
  size_t send_buffer = 1024 * 1024;
  size_t recv_buffer = 1024 * 1024;
  // Disjoint out-of-order ranges at the data level (interleaved subflows create many).
  size_t max_ooo_ranges = 1024;

  // RFC 8684 §3.3.1: ask for DSS checksums (either side asking makes them required).
  bool checksum = false;
  // Subflows per connection, the initial one included (Linux's default limit is 2 extra).
  size_t max_subflows = 8;
  // Largest chunk of connection data handed to one subflow at a time (one DSS mapping).
  size_t max_mapping = 64 * 1024;
  // A subflow with this many consecutive RTOs is stale: it gets no new data and its
  // outstanding data is reinjected elsewhere (RFC 8684 §3.3.6; Linux's stale_loss_cnt is 4).
  int stale_rto_threshold = 2;
  // Data-level retransmission: when DATA_ACK has not moved for this long (and at least the
  // largest subflow RTO) while data is outstanding, the oldest data is reinjected.
  Duration data_rto_min = Duration::Millis(500);
  // Interval between retransmissions of a signal (ADD_ADDR until echoed, DATA_FIN, the
  // MP_JOIN third ACK) absent a better estimate.
  Duration signal_retransmit = Duration::Millis(500);
  // A stale subflow is probed at least this often (TcpEngine::SetProbeInterval), so that it
  // carries data again within about this long of its path coming back, rather than after a
  // backed-off RTO of many seconds. Zero: plain RTO backoff.
  Duration stale_probe_interval = Duration::Millis(500);

  // After both DATA_FINs are acknowledged the connection reports Closed at once; subflows
  // still finishing their FIN exchange after this long are reset (Linux's
  // net.mptcp.close_timeout is 60 s).
  Duration close_timeout = Duration::Seconds(60);

  SchedulerKind scheduler = SchedulerKind::kMinRtt;

  // The subflows' congestion control (it overrides subflow.congestion_control). Coupled by
  // default: LIA (RFC 6356), as RFC 8684 §3.3.7 recommends, so that the connection takes no
  // more than one TCP flow at a shared bottleneck. After a fallback to plain TCP the one subflow
  // runs the uncoupled algorithm the coupled one reduces to (cc::UncoupledBase).
  cc::CcAlgorithm congestion_control = cc::CcAlgorithm::kLia;

  // Events queued for PollEvent at most: beyond it, subflow and address events are dropped
  // (and counted, MIB EventsDropped); Established, FellBackToTcp and Closed always go in, and
  // Readable / Writable are kept once each, so an application that never polls costs at
  // most this many.
  size_t max_events = 64;

  // Which path manager decides the connection's subflows and announcements
  // (mptcp/path_manager/; docs/path_management.md). The default, manual, does only what the
  // application asks.
  PathManagerConfig path_manager;
  // ADD_ADDR retransmission (RFC 8684 §3.4.1: resent until echoed), as Linux's
  // net.mptcp.add_addr_timeout (120 s) and ADD_ADDR_RETRANS_MAX (3): an announcement not
  // echoed goes again after add_addr_timeout, at most add_addr_retrans_max more times
  // (a timeout of zero: never again).
  Duration add_addr_timeout = Duration::Seconds(120);
  int add_addr_retrans_max = 3;
  // RFC 8684 §3.1 flag C: a server sets it in its SYN/ACK to say it accepts no joins to the
  // initial subflow's address and port (behind a load balancer, say), and refuses them
  // (MPJoinRejected); other addresses may still be announced and joined. Linux's
  // net.mptcp.allow_join_initial_addr_port = 0.
  bool deny_join_initial = false;
};

}  // namespace mptcp

#endif  // MPTCP_CONFIG_H_
