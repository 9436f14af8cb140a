// Connection-level MPTCP counters, with Linux's `nstat MPTcpExt*` names where the event is the
// same (net/mptcp/mib.c), so that a dump of ours reads like the kernel's.
#ifndef MPTCP_MIB_H_
#define MPTCP_MIB_H_

#include <cstdint>
#include <string_view>

namespace mptcp {

#define MPTCP_MIB_FIELDS(X)                                                      \
  X(mp_capable_syn_rx, "MPCapableSYNRX")                                         \
  X(mp_capable_syn_tx, "MPCapableSYNTX")                                         \
  X(mp_capable_synack_rx, "MPCapableSYNACKRX")                                   \
  X(mp_capable_ack_rx, "MPCapableACKRX")                                         \
  X(mp_capable_fallback_ack, "MPCapableFallbackACK")                             \
  X(mp_capable_fallback_synack, "MPCapableFallbackSYNACK")                       \
  X(mp_fallback_token_init, "MPFallbackTokenInit")                               \
  X(mp_join_syn_rx, "MPJoinSynRx")                                               \
  X(mp_join_syn_tx, "MPJoinSynTx")                                               \
  X(mp_join_synack_rx, "MPJoinSynAckRx")                                         \
  X(mp_join_synack_hmac_failure, "MPJoinSynAckHMacFailure")                      \
  X(mp_join_ack_rx, "MPJoinAckRx")                                               \
  X(mp_join_ack_hmac_failure, "MPJoinAckHMacFailure")                            \
  X(mp_join_no_token_found, "MPJoinNoTokenFound")                                \
  X(mp_join_rejected, "MPJoinRejected")                                          \
  /* a SYN+MP_JOIN to a port the connection neither uses nor announced (Linux: no listener) */ \
  X(mp_join_port_mismatch, "MismatchPortSynRx")                                  \
  X(dss_not_matching, "DSSNotMatching")                                          \
  X(dss_no_match_tcp, "DSSNoMatchTCP")                                           \
  X(infinite_map_rx, "InfiniteMapRx")                                            \
  X(infinite_map_tx, "InfiniteMapTx")                                            \
  X(data_csum_err, "DataCsumErr")                                                \
  X(ofo_queue, "OFOQueue")                                                       \
  X(duplicate_data, "DuplicateData")                                             \
  /* data-level octets dropped after a subflow had acknowledged them (must stay 0) */  \
  X(rcv_window_drop, "RcvWndDrop")                                               \
  /* octets trimmed off segments beyond the advertised data-level right edge, before */ \
  /* TCP took them (the peer's subflow resends them) */                         \
  X(rcv_window_trim, "RcvWndTrim")                                               \
  /* segments dropped before TCP took them: the subflow's mapping table was full */ \
  X(rx_mapping_table_full, "RxMappingTableFull")                                 \
  X(add_addr, "AddAddr")                                                         \
  X(add_addr_tx, "AddAddrTx")                                                    \
  X(add_addr_hmac_failure, "AddAddrHMacFailure")                                 \
  X(dup_add_addr, "AddAddrDup")                                                  \
  X(echo_add, "EchoAdd")                                                         \
  X(echo_add_tx, "EchoAddTx")                                                    \
  X(rm_addr, "RmAddr")                                                           \
  X(rm_addr_tx, "RmAddrTx")                                                      \
  X(rm_subflow, "RmSubflow")                                                     \
  X(mp_prio_tx, "MPPrioTx")                                                      \
  X(mp_prio_rx, "MPPrioRx")                                                      \
  X(mp_fail_tx, "MPFailTx")                                                      \
  X(mp_fail_rx, "MPFailRx")                                                      \
  /* Ours: after our MP_FAIL, the peer's infinite mapping resumed past what we delivered, */ \
  /* or never came (connection_fail.h). */                                        \
  X(infinite_map_gap, "InfiniteMapGap")                                          \
  /* Ours: a half-open join dropped to make room for a newer one (connection_input.h). */ \
  X(mp_join_syn_evicted, "MPJoinSynEvicted")                                     \
  X(mp_fail_timeout, "MPFailTimeout")                                            \
  X(mp_fastclose_tx, "MPFastcloseTx")                                            \
  X(mp_fastclose_rx, "MPFastcloseRx")                                            \
  X(mp_rst_tx, "MPRstTx")                                                        \
  X(mp_rst_rx, "MPRstRx")                                                        \
  X(subflow_stale, "SubflowStale")                                               \
  X(subflow_recover, "SubflowRecover")                                           \
  X(rto_reinject, "RtoReinject")                                                 \
  X(opportunistic_retrans, "OpportunisticRetrans")                               \
  X(penalized, "SubflowPenalized")                                               \
  X(reinjected_bytes, "ReinjectedBytes")                                         \
  X(data_rto, "DataRetransTimeout")                                              \
  X(snd_wnd_shared, "SndWndShared")                                              \
  /* segments whose DATA_ACK was held back to keep the window the peer holds */  \
  X(rcv_wnd_shared, "RcvWndShared")                                              \
  X(bad_option, "BadOption")                                                     \
  /* subflow and address events not queued: the application let the queue fill */ \
  X(events_dropped, "EventsDropped")

struct MptcpMib {
#define MPTCP_MIB_DECLARE(field, name) uint64_t field = 0;
  MPTCP_MIB_FIELDS(MPTCP_MIB_DECLARE)
#undef MPTCP_MIB_DECLARE

  template <typename Fn>
  void ForEach(Fn&& fn) const {
#define MPTCP_MIB_VISIT(field, name) fn(std::string_view(name), field);
    MPTCP_MIB_FIELDS(MPTCP_MIB_VISIT)
#undef MPTCP_MIB_VISIT
  }

  MptcpMib& operator+=(const MptcpMib& o) {
#define MPTCP_MIB_ADD(field, name) field += o.field;
    MPTCP_MIB_FIELDS(MPTCP_MIB_ADD)
#undef MPTCP_MIB_ADD
    return *this;
  }
};

}  // namespace mptcp

#endif  // MPTCP_MIB_H_
