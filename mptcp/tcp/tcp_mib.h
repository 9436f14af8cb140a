// Per-engine counters in the style of Linux's TCP MIB (`nstat`), with Linux's names where the
// event is the same. Every dropped segment is counted under exactly one drop reason.
#ifndef MPTCP_TCP_TCP_MIB_H_
#define MPTCP_TCP_TCP_MIB_H_

#include <cstdint>
#include <string_view>

namespace mptcp::tcp {

// X(field, "Name") — the name is what a MIB dump prints.
#define MPTCP_TCP_MIB_FIELDS(X)                                                     \
  X(in_segs, "InSegs")                                                              \
  X(out_segs, "OutSegs")                                                            \
  X(retrans_segs, "RetransSegs")                                                    \
  X(out_rsts, "OutRsts")                                                            \
  X(in_csum_errors, "InCsumErrors")                                                 \
  X(in_malformed, "InMalformed")                                                    \
  X(estab_resets, "EstabResets")                                                    \
  X(attempt_fails, "AttemptFails")                                                  \
  X(active_opens, "ActiveOpens")                                                    \
  X(passive_opens, "PassiveOpens")                                                  \
  X(drop_no_ack, "TCPDropNoAck")                                                    \
  X(drop_out_of_window, "TCPDropOutOfWindow")                                       \
  X(drop_closed, "TCPDropClosed")                                                   \
  X(drop_bad_ack, "TCPDropBadAck")                                                  \
  X(drop_listen, "TCPDropListen")                                                   \
  X(paws_estab_rejected, "PAWSEstab")                                               \
  X(challenge_acks, "TCPChallengeACK")                                              \
  X(challenge_acks_skipped, "TCPACKSkippedChallenge")                               \
  X(syn_challenge, "TCPSYNChallenge")                                               \
  X(rst_out_of_window, "TCPRstOutOfWindow")                                         \
  X(ofo_queue, "TCPOFOQueue")                                                       \
  X(ofo_drop, "TCPOFODrop")                                                         \
  X(rcvq_drop, "TCPRcvQDrop")                                                       \
  X(zero_window_drop, "TCPZeroWindowDrop")                                          \
  X(delayed_acks, "DelayedACKs")                                                    \
  X(timeouts, "TCPTimeouts")                                                        \
  X(spurious_rtos, "TCPSpuriousRTOs")                                               \
  /* A fast retransmit's reduction undone: the original arrived (Eifel), recovery over or not */ \
  X(full_undo, "TCPFullUndo")                                                       \
  X(partial_undo, "TCPPartialUndo")                                                 \
  X(ts_reorder, "TCPTSReorder")                                                     \
  /* Ours: retransmissions of a stale subflow's probe timer (TcpEngine::SetProbeInterval) */ \
  X(probes, "TCPStaleProbes")                                                       \
  X(syn_retrans, "TCPSynRetrans")                                                   \
  X(fast_retrans, "TCPFastRetrans")                                                 \
  X(lost_retransmit, "TCPLostRetransmit")                                           \
  X(sack_recovery, "TCPSackRecovery")                                               \
  X(reno_recovery, "TCPRenoRecovery")                                               \
  X(dsack_recv, "TCPDSACKRecv")                                                     \
  X(dsack_old_sent, "TCPDSACKOldSent")                                              \
  X(sack_discard, "TCPSACKDiscard")                                                 \
  X(win_probe, "TCPWinProbe")                                                       \
  X(abort_on_timeout, "TCPAbortOnTimeout")                                          \
  X(abort_on_close, "TCPAbortOnClose")                                              \
  X(abort_on_data, "TCPAbortOnData")

struct TcpMib {
#define MPTCP_TCP_MIB_DECLARE(field, name) uint64_t field = 0;
  MPTCP_TCP_MIB_FIELDS(MPTCP_TCP_MIB_DECLARE)
#undef MPTCP_TCP_MIB_DECLARE

  // Calls fn(std::string_view name, uint64_t value) for every counter, in declaration order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
#define MPTCP_TCP_MIB_VISIT(field, name) fn(std::string_view(name), field);
    MPTCP_TCP_MIB_FIELDS(MPTCP_TCP_MIB_VISIT)
#undef MPTCP_TCP_MIB_VISIT
  }

  TcpMib& operator+=(const TcpMib& o) {
#define MPTCP_TCP_MIB_ADD(field, name) field += o.field;
    MPTCP_TCP_MIB_FIELDS(MPTCP_TCP_MIB_ADD)
#undef MPTCP_TCP_MIB_ADD
    return *this;
  }
};

}  // namespace mptcp::tcp

#endif  // MPTCP_TCP_TCP_MIB_H_
