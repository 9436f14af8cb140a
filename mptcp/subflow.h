// One subflow of an MPTCP connection: a full TCP engine plus what MPTCP keeps per subflow
// (its role in the handshake, address IDs, join nonces, priority, and the data-sequence
// mappings in each direction).
#ifndef MPTCP_SUBFLOW_H_
#define MPTCP_SUBFLOW_H_

#include <cstdint>
#include <memory>
#include <optional>

#include "mptcp/address.h"
#include "mptcp/dsn_map.h"
#include "mptcp/event.h"
#include "mptcp/tcp/engine.h"
#include "mptcp/time.h"
#include "mptcp/wire/mptcp_options.h"

namespace mptcp {

enum class SubflowKind : uint8_t {
  kInitial,  // opened with MP_CAPABLE (RFC 8684 §3.1), or plain TCP after fallback
  kJoin,     // opened with MP_JOIN (RFC 8684 §3.2)
};

struct Subflow {
  // `cfg` is shared by the connection's subflows; `mib` is the connection's TCP MIB, which
  // every subflow counts into.
  Subflow(SubflowId id, SubflowKind kind, bool initiator, std::shared_ptr<const tcp::TcpConfig> cfg,
          const FourTuple& tuple, SeqNum32 iss, uint32_t ts_offset, tcp::TcpMib* mib)
      : engine(std::move(cfg), tuple, iss, ts_offset, mib),
        id(id),
        kind(kind),
        initiator(initiator) {}

  // (Members are ordered by size, largest first, to keep the struct small: an idle connection
  // with two subflows fits in 4 KiB.)
  tcp::TcpEngine engine;
  TxMappings tx;
  RxMappings rx;
  // MP_JOIN initiator: the third ACK (with the HMAC) awaits the peer's ACK; resent on a timer.
  Timer join_ack_timer;
  // When the connection last penalised it for holding up the shared window.
  Timestamp last_penalty = Timestamp::Never();
  // The data sequence number after the last new data handed to it: with a redundant scheduler
  // (mptcp/scheduler/redundant.h) it gets next what it has not had, from DATA_ACK at least.
  Dsn64 next_dsn = 0;

  SubflowId id;
  // MP_JOIN nonces (R-A, R-B of §3.2) and whether the handshake's HMACs checked out.
  uint32_t local_nonce = 0;
  uint32_t remote_nonce = 0;
  int join_ack_retries = 0;

  SubflowKind kind;
  bool initiator;  // we sent the SYN
  // Its outstanding data was copied to other subflows at its first RTO (until an ACK).
  bool rto_reinjected = false;
  // RFC 8684 §3.2: address IDs of each end (0 for the initial subflow's addresses).
  uint8_t local_id = 0;
  uint8_t remote_id = 0;
  // May carry data: MP_CAPABLE done, or MP_JOIN done and (for the initiator) its third ACK
  // acknowledged (RFC 8684 §3.2: the fourth ACK).
  bool fully_established = false;
  bool join_ack_pending = false;

  // RFC 8684 §3.3.8: backup subflows carry data only when no regular subflow can.
  bool backup_local = false;   // we asked the peer to treat it as backup (B flag / MP_PRIO)
  bool backup_remote = false;  // the peer asked us to
  bool send_mp_prio = false;   // an MP_PRIO is waiting to go out on this subflow
  bool backup() const { return backup_local || backup_remote; }

  // Failure handling (RFC 8684 §3.3.6): a stale subflow gets no new data; its outstanding data
  // has been reinjected elsewhere.
  bool stale = false;
  // The reset we send carries this MP_TCPRST (RFC 8684 §3.6) and, when aborting, MP_FASTCLOSE.
  std::optional<wire::MpTcpRst> rst_reason;
  bool fastclose = false;
  // RFC 8684 §3.7: an MP_FAIL with this DSN goes out on this subflow's ACKs (or its RST).
  std::optional<Dsn64> mp_fail_tx;
  // Set when the peer reset the subflow with MP_TCPRST.
  std::optional<wire::MpTcpRst> peer_rst_reason;

  // Closed because its address was withdrawn (REMOVE_ADDR either way): not re-created.
  bool withdrawn = false;

  bool up_reported = false;
  bool down_reported = false;

  // Subflow sequence numbers relative to the ISNs, as DSS carries them (RFC 8684 §3.3.1).
  uint32_t RelativeTxSsn(SeqNum32 seq) const { return static_cast<uint32_t>(seq - engine.iss()); }
  SeqNum32 AbsoluteRxSsn(uint32_t rel) const { return engine.irs() + rel; }

  bool alive() const { return engine.state() != tcp::TcpState::kClosed; }
  bool can_carry_data() const {
    const auto st = engine.state();
    return fully_established && !stale &&
           (st == tcp::TcpState::kEstablished || st == tcp::TcpState::kCloseWait);
  }
};

}  // namespace mptcp

#endif  // MPTCP_SUBFLOW_H_
