// The MPTCP connection (RFC 8684's "meta" level): owns a set of subflows, cuts the
// application's byte stream into data-sequence mappings handed to subflows by a scheduler,
// reorders what arrives on any subflow by data sequence number, runs one receive window across
// all subflows, closes with DATA_FIN, reinjects data from failed subflows, and falls back to
// plain TCP when the path strips MPTCP. Sans-IO: segments in (OnSegment), segments out
// (PollTransmit), time passed in, no callbacks.
//
// Input processing lives in connection_input.h and output (scheduling, options, timers) in
// connection_output.h; both define members of this class and are included at the end.
#ifndef MPTCP_CONNECTION_H_
#define MPTCP_CONNECTION_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mptcp/address.h"
#include "mptcp/config.h"
#include "mptcp/connection_state.h"
#include "mptcp/coupling.h"
#include "mptcp/crypto/keys.h"
#include "mptcp/dsn_map.h"
#include "mptcp/event.h"
#include "mptcp/fifo.h"
#include "mptcp/mib.h"
#include "mptcp/path_manager/factory.h"
#include "mptcp/path_manager/path_manager.h"
#include "mptcp/poll.h"
#include "mptcp/random.h"
#include "mptcp/rcv_window.h"
#include "mptcp/scheduler/factory.h"
#include "mptcp/seq.h"
#include "mptcp/subflow.h"
#include "mptcp/tcp/isn.h"
#include "mptcp/tcp/recv_buffer.h"
#include "mptcp/tcp/send_buffer.h"
#include "mptcp/time.h"
#include "mptcp/wire/checksum.h"
#include "mptcp/wire/mptcp_options.h"
#include "mptcp/wire/tcp.h"

namespace mptcp {

enum class Role : uint8_t { kClient, kServer };

// A subflow's initial sequence number and timestamp offset when the caller fixes them (a SYN
// cookie server derives both again from the third ACK; syn_cookie.h).
struct SubflowSeed {
  SeqNum32 iss;
  uint32_t ts_offset = 0;
};

// What became of one incoming segment.
enum class Verdict : uint8_t {
  kAccepted,  // processed (which may still mean the TCP engine ignored a duplicate)
  kDropped,   // discarded; `reason` says why
  kReset,     // the subflow (or the connection) was reset because of it
};

struct Disposition {
  Verdict verdict = Verdict::kAccepted;
  std::string_view reason;  // static text for drops and resets
  tcp::DropReason tcp_drop = tcp::DropReason::kNone;

  static Disposition Accepted() { return {}; }
  static Disposition Dropped(std::string_view why, tcp::DropReason r = tcp::DropReason::kNone) {
    return {Verdict::kDropped, why, r};
  }
  static Disposition Reset(std::string_view why) { return {Verdict::kReset, why}; }
  bool accepted() const { return verdict == Verdict::kAccepted; }
};

// A read-only snapshot of one subflow, for applications, tools and tests.
struct SubflowInfo {
  SubflowId id;
  FourTuple tuple;  // local address first
  tcp::TcpState state;
  bool fully_established;
  bool backup;
  bool stale;
  uint8_t local_id, remote_id;
  Duration srtt;
  Duration rto;
  uint32_t cwnd;
  uint32_t in_flight;
  // Subflow sequence numbers: initial, oldest unacknowledged, next to send, next expected.
  SeqNum32 iss, snd_una, snd_nxt, rcv_nxt;
  uint64_t bytes_sent_segments;  // OutSegs
  uint64_t retransmits;
  uint32_t ssthresh;
  // Payload bytes the peer acknowledged on this subflow, and bytes received in order on it.
  uint64_t bytes_acked, bytes_received;
  // Counted by the connection's coupled congestion controller now (mptcp/coupling.h).
  bool coupled;
};

// Whoever drives a Connection (the Endpoint) learns here of changes made by the application's
// calls, so that it re-examines only that connection instead of polling them all, and of the
// 4-tuples its subflows take and give up, so that it can route packets to them.
class ConnectionOwner {
 public:
  // An application call may have changed what the connection sends or when.
  virtual void OnConnectionChanged(uint64_t cookie) = 0;
  // A new subflow wants `tuple` (local address first): false if it is in use elsewhere.
  virtual bool ClaimTuple(uint64_t cookie, const FourTuple& tuple) = 0;
  // A subflow was forgotten: its tuple is free again.
  virtual void ReleaseTuple(uint64_t cookie, const FourTuple& tuple) = 0;

 protected:
  ~ConnectionOwner() = default;
};

// A ConnectionConfig with what follows from it, worked out once and shared (an Endpoint's
// connections share one): the configuration each subflow's engine gets.
struct ConnectionParams {
  explicit ConnectionParams(const ConnectionConfig& c);

  ConnectionConfig config;
  // The receive buffer holds this much beyond config.recv_buffer, so that a window rounded up
  // to the scale's unit (rcv_window.h) rarely has to hold DATA_ACK back.
  size_t recv_slack;
  // Subflow engines with MPTCP in use, and after a fallback to plain TCP.
  tcp::TcpConfig mptcp_subflow;
  tcp::TcpConfig plain_subflow;
};

class Connection final : private PathManagerHost {
 public:
  // `local_key` is this side's 64-bit key (the Endpoint keeps its token unique); `seed`
  // drives nonces and ISN secrets, so the same seed gives the same bytes.
  Connection(const ConnectionConfig& config, Role role, uint64_t local_key, uint64_t seed)
      : Connection(std::make_shared<const ConnectionParams>(config), role, local_key, seed) {}
  Connection(std::shared_ptr<const ConnectionParams> params, Role role, uint64_t local_key,
             uint64_t seed);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // --- Opening -----------------------------------------------------------------------------
  // Client: opens the initial subflow with an MP_CAPABLE SYN (RFC 8684 §3.1).
  SubflowId Connect(Timestamp now, const FourTuple& tuple);
  // Server: the peer's initial SYN (with MP_CAPABLE, or without: then plain TCP). `seed`
  // fixes the subflow's ISN and timestamp offset (SYN cookies); unset, they are drawn.
  Disposition AcceptSyn(Timestamp now, const FourTuple& tuple, const wire::TcpRepr& syn,
                        std::optional<SubflowSeed> seed = std::nullopt);
  // Server, SYN cookies (RFC 4987 §3.6; syn_cookie.h): a stateless server answered `syn` (as
  // rebuilt from its third ACK) with a SYN-ACK whose ISN and timestamp offset were `seed`, sent
  // at `synack_sent` if known. The connection is left in SYN-RECEIVED, that SYN-ACK counted as
  // sent; the third ACK itself goes to OnSegment next.
  Disposition AcceptCookie(Timestamp now, const FourTuple& tuple, const wire::TcpRepr& syn,
                           SubflowSeed seed, std::optional<Timestamp> synack_sent);
  // Server side of MP_JOIN: a SYN whose token matched this connection (RFC 8684 §3.2).
  Disposition AcceptJoin(Timestamp now, const FourTuple& tuple, const wire::TcpRepr& syn,
                         const wire::MpJoinSyn& join);
  // Opens another subflow with MP_JOIN. Fails before the connection is fully established,
  // after fallback, at the subflow limit, or on a tuple already in use.
  absl::StatusOr<SubflowId> OpenSubflow(Timestamp now, const FourTuple& tuple,
                                        bool backup = false);

  // --- Input -------------------------------------------------------------------------------
  // A TCP segment received on `path` (local address first); checksum verified here.
  Disposition OnSegment(Timestamp now, const FourTuple& path, std::span<const uint8_t> segment);

  // --- Application ---------------------------------------------------------------------------
  // Queues bytes to send; returns how many fit (0 once closed).
  size_t Write(Timestamp now, std::span<const uint8_t> data);
  // Copies out bytes received in order; returns the count (0: nothing now, or end of stream).
  size_t Read(Timestamp now, std::span<uint8_t> out);
  size_t readable() const { return recv_buffer_.readable(); }
  // Most bytes the receive buffer holds: config().recv_buffer, plus up to two units of the
  // window scale so that rounded windows need not hold DATA_ACK back (rcv_window.h).
  size_t receive_capacity() const { return recv_buffer_.capacity(); }
  size_t write_space() const {
    return WeClosed(state_) || closed() ? 0 : send_buffer_.free_space();
  }
  // True once every byte before the peer's DATA_FIN has been read.
  bool eof() const { return remote_fin_done_ && recv_buffer_.readable() == 0; }
  // Graceful close: a DATA_FIN follows the queued data (RFC 8684 §3.3.3).
  void Close(Timestamp now);
  // Abort: MP_FASTCLOSE with a RST on every subflow (RFC 8684 §3.5).
  void Abort(Timestamp now);

  // --- Signals -------------------------------------------------------------------------------
  // ADD_ADDR (RFC 8684 §3.4.1), resent until echoed. Port 0 means "the connection's port".
  void AnnounceAddress(Timestamp now, uint8_t address_id, const SocketAddress& address);
  // REMOVE_ADDR (RFC 8684 §3.4.2); subflows using the address are closed.
  void WithdrawAddress(Timestamp now, uint8_t address_id);
  // MP_PRIO (RFC 8684 §3.3.8): ask the peer to treat `id` as a backup (or regular) subflow.
  bool SetBackup(Timestamp now, SubflowId id, bool backup) override;

  // --- Path management (mptcp/path_manager/) -------------------------------------------------
  // The manager config().path_manager named, or the one the application set.
  PathManager& path_manager() { return *pm_; }
  const PathManager& path_manager() const { return *pm_; }
  // Replaces the path manager (best before Connect or AcceptSyn: a later one hears only of
  // later events).
  void SetPathManager(std::unique_ptr<PathManager> pm) {
    if (pm != nullptr) pm_ = std::move(pm);
  }
  // An `ip mptcp endpoint`/`limits` change at run time (the in-kernel manager takes them).
  absl::Status PathManagerCommand(Timestamp now, const PmCommand& c) {
    pm_busy_ = true;
    absl::Status s = pm_->Command(now, *this, c);
    pm_busy_ = false;
    RunPathManager(now);
    AfterApiCall(now);
    return s;
  }

  // --- Output --------------------------------------------------------------------------------
  // The next TCP segment, written at the start of `buf` (which needs 60 bytes of header plus
  // the segment's payload, at most the MSS), with the path it goes on; Idle when there is
  // nothing to send now; BufferTooSmall (the segment stays queued) when `buf` cannot hold it.
  //
  // With gso_max_segments > 1 the segment may be a GSO super-segment of up to that many
  // segments (Transmit::segment_size), as far as `buf` holds them: on an MPTCP connection
  // without DSS checksums, where every cut segment repeats the one DSS mapping (with
  // checksums the segments stay MSS-sized), and on a connection that fell back to TCP.
  TransmitResult PollTransmit(Timestamp now, std::span<uint8_t> buf,
                              size_t gso_max_segments = 1);

  // --- Time and events -----------------------------------------------------------------------
  // When to call again: Now() when PollTransmit has a segment, else the earliest timer
  // (NextTimer), Never() when nothing will happen without input or an application call.
  // HasOutput() answers from the same decisions PollTransmit takes (the scheduler's
  // NextChunk, each subflow's NextTransmission), never from a copy of their conditions.
  PollAt NextDeadline() const {
    return HasOutput() ? PollAt::Now() : PollAt::FromDeadline(NextTimer());
  }
  bool HasOutput() const;
  Timestamp NextTimer() const;
  // Runs the timers due at `now`; does nothing when none is.
  void OnTimeout(Timestamp now);
  std::optional<Event> PollEvent();
  size_t pending_events() const { return events_.size(); }

  // The Endpoint registers itself; `cookie` comes back in its callbacks.
  void SetOwner(ConnectionOwner* owner, uint64_t cookie) {
    owner_ = owner;
    owner_cookie_ = cookie;
  }

  // --- State ---------------------------------------------------------------------------------
  Role role() const { return role_; }
  bool established() const { return established_; }
  // Both sides know both keys (RFC 8684 §3.1): subflows may join.
  bool fully_established() const { return fully_established_; }
  // Where the connection is in its life (connection_state.h has the transitions).
  ConnectionState state() const { return state_; }
  ConnectionMode mode() const { return mode_; }
  bool fallen_back() const { return mode_ == ConnectionMode::kFallback; }
  bool closed() const { return state_ == ConnectionState::kClosed; }
  // Closed, and no subflow still has a FIN exchange to finish: each is gone or in TIME-WAIT
  // (RFC 9293 §3.6). An application that exits before this leaves the peer resending FINs to
  // nobody; one that waits (bounded) closes as a kernel socket does.
  bool finished() const {
    if (!closed()) return false;
    for (const auto& s : subflows_) {
      if (s->alive() && s->engine.state() != tcp::TcpState::kTimeWait) return false;
    }
    return true;
  }
  CloseReason close_reason() const { return close_reason_; }
  // The application called Close() or Abort(): once finished() and read to the end, an
  // Endpoint releases the connection by itself.
  bool app_closed() const { return app_closed_; }
  bool checksum_enabled() const { return checksum_; }
  uint64_t local_key() const { return local_key_; }
  std::optional<uint64_t> remote_key() const { return remote_key_; }
  uint32_t local_token() const { return local_token_; }
  uint32_t remote_token() const { return remote_token_; }
  uint64_t local_idsn() const { return local_idsn_; }
  Dsn64 data_una() const { return data_una_; }
  Dsn64 snd_data_nxt() const { return snd_data_nxt_; }
  Dsn64 rcv_data_nxt() const { return rcv_data_nxt_; }
  Dsn64 data_wnd_end() const { return data_wnd_end_; }
  size_t send_buffered() const { return send_buffer_.size(); }
  const MptcpMib& mib() const { return mib_; }
  // Its subflows' TCP counters, summed over every subflow it has had.
  const tcp::TcpMib& tcp_mib() const { return tcp_mib_; }
  const ConnectionConfig& config() const { return config_; }
  size_t subflow_count() const { return subflows_.size(); }
  std::vector<SubflowInfo> Subflows() const;
  // The subflows the coupled congestion controller counts now (mptcp/coupling.h).
  const cc::CouplingGroup& coupling() const { return coupling_; }
  std::optional<SubflowInfo> subflow(SubflowId id) const;
  std::optional<SubflowInfo> subflow(const FourTuple& path) const;  // local address first
  bool HasSubflow(const FourTuple& path) const { return FindSubflow(path) != nullptr; }
  // Calls fn(engine) for each subflow in TIME-WAIT (the Endpoint keeps a compact record of
  // each when it releases the connection).
  template <typename Fn>
  void ForEachTimeWait(Fn&& fn) const {
    for (const auto& s : subflows_) {
      if (s->engine.state() == tcp::TcpState::kTimeWait) fn(s->engine);
    }
  }
  // Calls fn(tuple) for each subflow's tuple.
  template <typename Fn>
  void ForEachTuple(Fn&& fn) const {
    for (const auto& s : subflows_) fn(s->engine.tuple());
  }
  // Sum of the subflows' TCP counters (the same as tcp_mib()).
  tcp::TcpMib SubflowMib() const { return tcp_mib_; }
  // Bytes of state held besides the data buffers' contents (for the footprint figure).
  size_t StateBytes() const;
  // Bytes currently held by the connection's and subflows' buffers.
  size_t BufferBytes() const;

 private:
  struct ParsedOptions;  // connection_input.h
  struct OutOptions;     // connection_output.h
  struct DataRange {
    Dsn64 dsn;
    uint32_t len;
  };
  struct PendingAddAddr {
    uint8_t id;
    SocketAddress address;
    bool echo;       // we echo the peer's announcement
    int sends = 0;   // announcements are resent until echoed
    Timestamp next;  // next (re)send time
  };
  struct IdAddress {  // an address with its address ID
    uint8_t id;
    SocketAddress address;
  };

  // PathManagerHost (connection_pm.h)
  bool is_client() const override { return role_ == Role::kClient; }
  // Joins stay possible while our side closes (OpenSubflow allows them until Closed), so a
  // manager keeps opening subflows for the data still in flight.
  bool winding_down() const override { return closed() || !mptcp(); }
  FourTuple initial_tuple() const override { return FourTuple{initial_local_, initial_remote_}; }
  bool peer_denies_initial_join() const override { return remote_deny_join_initial_; }
  std::vector<PmSubflow> subflows() const override;
  absl::StatusOr<SubflowId> OpenSubflow(Timestamp now, const FourTuple& tuple, bool backup,
                                        std::optional<uint8_t> local_id) override;
  void Announce(Timestamp now, uint8_t id, const SocketAddress& address) override {
    AnnounceAddress(now, id, address);
  }
  void Withdraw(Timestamp now, uint8_t id, bool send_remove_addr) override;
  // Tells the manager what happened (queued: it runs at the end of the current call).
  void NotifyPathManager(const PmEvent& e);
  void NotifySubflowDown(const Subflow& s);
  // A subflow's up or down event for the path manager, with what it knows of the subflow.
  static PmEvent SubflowPmEvent(PmEvent::Type type, const Subflow& s);
  void RunPathManager(Timestamp now);
  size_t JoinSubflows() const {
    size_t n = 0;
    for (const auto& s : subflows_) n += s->kind == SubflowKind::kJoin && s->alive() ? 1 : 0;
    return n;
  }

  // input (connection_input.h)
  Disposition OnSubflowSegment(Timestamp now, Subflow& s, const wire::TcpRepr& arrived);
  ParsedOptions ParseOptions(const wire::TcpRepr& seg);
  std::optional<wire::MpTcpRstReason> CheckSynAck(Timestamp now, Subflow& s,
                                                 const ParsedOptions& o);
  Disposition OnHandshakeDone(Timestamp now, Subflow& s, tcp::TcpState before,
                              const wire::TcpRepr& seg, const ParsedOptions& o);
  void TakeClientKey(Timestamp now, Subflow& s, const wire::MpCapable& mpc);
  void OnInitialSubflowUp(Timestamp now, Subflow& s);
  void OnDss(Timestamp now, Subflow& s, const wire::TcpRepr& seg, const wire::Dss& dss);
  void OnDataAck(Timestamp now, Dsn64 ack, uint64_t window);
  void AddRxMapping(Timestamp now, Subflow& s, Dsn64 dsn, uint32_t rel_ssn, uint16_t wire_len, bool data_fin,
                    std::optional<uint16_t> checksum);
  void OnSignals(Timestamp now, Subflow& s, const ParsedOptions& o);
  void DrainSubflow(Timestamp now, Subflow& s);
  bool DeliverMapped(Timestamp now, Subflow& s, const RxMapping& m);
  std::optional<wire::TcpRepr> TrimBeyondWindow(const Subflow& s, const wire::TcpRepr& seg,
                                                const ParsedOptions& o);
  void Deliver(Dsn64 dsn, const RecvBuffer::Pieces& data);
  void CheckRemoteDataFin(Timestamp now);
  void EnterFallback(Timestamp now);
  bool FallbackConsistent(const Subflow& s, const wire::TcpRepr& seg,
                          const wire::DssMapping& m) const;
  void ResetSubflow(Subflow& s, wire::MpTcpRstReason reason);
  void ResetConnection(Timestamp now, CloseReason reason, bool fastclose);

  // MP_FAIL and the infinite mapping (connection_fail.h, RFC 8684 §3.7)
  struct InfiniteMapping {
    SeqNum32 ssn;  // this subflow byte ...
    Dsn64 dsn;     // ... carries this DSN, and every later byte the next one
  };
  void OnChecksumFailure(Timestamp now, Subflow& s, const RxMapping& m);
  void OnMpFail(Timestamp now, Subflow& s, Dsn64 dsn);
  void MaybeStartInfiniteMapping(Timestamp now);
  Subflow* InfiniteMappingSubflow() const;
  void DrainAfterMpFail(Timestamp now, Subflow& s);
  void GiveUpAfterMpFail(Timestamp now);
  Duration MpFailTimeout() const;
  void OnMpFailTimeout(Timestamp now);
  Timestamp MpFailTimer() const;
  size_t BuildInfiniteMappingOptions(Subflow& s, const tcp::Transmission& tx, OutOptions& out);
  // Option room kept in data segments: a DSS, or after fallback the infinite mapping's.
  size_t OptionReserve() const;
  // Applies a lifecycle input (connection_state.h). Entering kClosed reports Closed once and,
  // after a clean MPTCP close, closes the subflows.
  void Advance(Timestamp now, StateInput in, CloseReason reason = CloseReason::kNormal);
  bool mptcp() const { return mode_ == ConnectionMode::kMptcp; }
  // Our DATA_FIN is acknowledged (RFC 8684 §3.3.3).
  bool DataFinAcked() const {
    return state_ == ConnectionState::kFinWait2 ||
           (state_ == ConnectionState::kClosed && close_reason_ == CloseReason::kNormal);
  }

  // output (connection_output.h)
  // One decision of the scheduler: `len` bytes from `dsn` for `subflow`.
  struct Chunk {
    enum class Source : uint8_t { kNew, kReinject, kOpportunistic };
    Subflow* subflow;
    Subflow* holder;  // kOpportunistic: the slower subflow holding the shared window up
    Dsn64 dsn;
    uint32_t len;
    Source source;
  };
  static constexpr size_t kMaxCandidates = 16;
  struct SchedulePlan {
    std::optional<Chunk> chunk;
    bool window_limited = false;  // new data waits for the peer's data-level window
    // What the scheduler was asked and answered (told back to it when the plan is carried
    // out: Scheduler::OnScheduled, OnWaited).
    std::array<SubflowCandidate, kMaxCandidates> candidates{};
    size_t count = 0;
    SchedulingContext context;
    size_t pick = 0;
    bool declined = false;  // some candidate had room, yet the scheduler chose to wait
    std::span<const SubflowCandidate> offered() const { return {candidates.data(), count}; }
  };
  SchedulePlan NextChunk() const;
  bool PlanChunk(SchedulePlan& plan, Chunk::Source source, std::optional<Dsn64> from,
                 Dsn64 end) const;
  std::optional<Chunk> PlanOpportunistic(bool app_limited) const;
  void DropAckedReinjections();
  void Schedule(Timestamp now);
  void PumpFallback(Timestamp now);
  bool CanSchedule() const;
  uint32_t SubflowRoom(const Subflow& s, uint64_t avail) const;
  size_t SubflowInflightLimit(const Subflow& s) const;
  // What SubflowInflightLimit() allows in flight on a path whose bandwidth-delay product is
  // smaller (a LAN, a slow link): 90 full segments, 10 ms at 100 Mbit/s, 100 ms at 10 Mbit/s.
  // Also the limit until the subflow's first delivery-rate sample. Below it, a subflow sharing
  // a shallow bottleneck with loss-based TCP flows is held by this limit instead of its
  // congestion window and no longer shares by loss (64 KiB: the coupled controllers' MPTCP
  // connection took 1.65 times a TCP flow's share, conformance/cc_fairness_test); above it,
  // each direction's queue on a slow path delays the other's ACKs (256 KiB: simult_flows
  // BothWays runs over their limit).
  static constexpr size_t kMinInflightLimit = 128 * 1024;
  static bool DeliversLess(const Subflow& a, const Subflow& b);
  // Subflow s's queueing: ahead of its data, and on the way back to it (behind its ACKs).
  struct Queueing {
    Duration ahead, back;
  };
  static Queueing QueueingSplit(const Subflow& s);
  // How long a byte handed to subflow s now takes to reach the peer (estimated).
  static Duration ForwardDelay(const Subflow& s);
  bool RegularSubflowAlive() const;
  // Subflows that carry (or carried) data; joins still in their handshake do not count.
  size_t DataSubflows() const {
    size_t n = 0;
    for (const auto& s : subflows_) n += s->fully_established && s->alive() ? 1 : 0;
    return n;
  }
  // RFC 8684 §3.7: the infinite-mapping fallback is only possible while the data stream and
  // the one subflow's byte stream are the same (one data subflow, nothing reinjected).
  bool FallbackPossible() const { return DataSubflows() <= 1 && !reinjected_ever_; }
  bool SchedulerMayUse(const Subflow& s, bool regular_alive) const;
  void WriteToSubflow(Subflow& s, Dsn64 dsn, uint32_t len);
  WindowAdvert PlanWindow(Subflow& s, const tcp::Transmission& tx, bool data_ack);
  void MaybeQueueDataFin(Timestamp now);
  size_t BuildOptions(Timestamp now, Subflow& s, tcp::Transmission& tx, OutOptions& out);
  void AfterEmit(Timestamp now, Subflow& s, const OutOptions& out);
  void SweepSubflows(Timestamp now);
  void ReinjectFrom(Subflow& s);
  bool OtherDataSubflow(const Subflow& s) const;
  Duration DataRto() const;
  bool DataTimerNeeded() const;
  Subflow* BestSubflowForSignal();
  void FinishIfDone(Timestamp now);

  Subflow* FindSubflow(SubflowId id);
  Subflow* FindSubflow(const FourTuple& path);
  const Subflow* FindSubflow(const FourTuple& path) const {
    return const_cast<Connection*>(this)->FindSubflow(path);
  }
  SubflowInfo Info(const Subflow& s) const;
  // After an application call: sweep and tell the owner.
  void AfterApiCall(Timestamp now);
  void PushEvent(Event e);
  void MarkEstablished(Timestamp now);
  SubflowId NextSubflowId() { return next_subflow_id_++; }
  uint8_t LocalAddressId(const IpAddress& ip);
  bool TakesJoinsOn(const SocketAddress& local) const;
  Subflow& AddSubflow(SubflowKind kind, bool initiator, const FourTuple& tuple, Timestamp now,
                      std::optional<SubflowSeed> seed = std::nullopt);

  std::shared_ptr<const ConnectionParams> params_;
  const ConnectionConfig& config_;  // params_->config
  Role role_;
  Random rng_;
  tcp::IsnGenerator isn_;
  std::unique_ptr<Scheduler> scheduler_;

  // Keys and derived values (RFC 8684 §3.1).
  uint64_t local_key_;
  uint32_t local_token_;
  uint64_t local_idsn_;
  std::optional<uint64_t> remote_key_;
  uint32_t remote_token_ = 0;
  uint64_t remote_idsn_ = 0;

  ConnectionState state_ = ConnectionState::kHandshake;
  ConnectionMode mode_ = ConnectionMode::kMptcp;
  CloseReason close_reason_ = CloseReason::kNone;
  bool checksum_ = false;         // DSS checksums negotiated
  bool established_ = false;      // reached kEstablished (Established reported)
  bool fully_established_ = false;  // both keys known to both sides (RFC 8684 §3.1)
  bool reinjected_ever_ = false;  // fallback is impossible once data took two paths
  bool data_ack_seen_ = false;    // a DATA_ACK arrived: MPTCP works end to end
  // Where the last mapped data delivered ended (subflow sequence and DSN): unmapped data may
  // continue the stream linearly only from exactly there (RFC 8684 §3.7 infinite mapping).
  bool rx_mapped_ever_ = false;
  bool or_done_ = false;  // or_dsn_ (below) is set
  SeqNum32 fallback_base_ssn_;  // the fallback point: this subflow byte is ...
  Dsn64 fallback_base_dsn_ = 0;  // ... this data sequence number
  SeqNum32 rx_mapped_end_ssn_;
  Dsn64 rx_mapped_end_dsn_ = 0;
  bool remote_deny_join_initial_ = false;  // the peer's MP_CAPABLE flag C
  bool app_closed_ = false;
  // The peer's data stream ended: its DATA_FIN (or FIN after fallback) arrived in order.
  bool remote_fin_done_ = false;
  // Some subflow holds in-order bytes the receive buffer had no room for (a peer that sent
  // beyond the window): drained again as the application reads.
  bool rx_held_ = false;
  bool write_blocked_ = false;
  bool readable_pending_ = false;
  bool writable_pending_ = false;
  int data_rto_backoff_ = 0;

  std::vector<std::unique_ptr<Subflow>> subflows_;
  // The subflows a coupled congestion controller counts (RFC 6356), refreshed with every
  // sweep and priority change. Declared after subflows_: destroyed first.
  SubflowCoupling coupling_;
  SubflowId next_subflow_id_ = 1;
  uint32_t rr_cursor_ = 0;
  SocketAddress initial_local_;  // address ID 0 (RFC 8684 §3.2)
  SocketAddress initial_remote_;
  std::vector<std::pair<uint8_t, IpAddress>> local_ids_;
  uint8_t next_local_id_ = 1;

  // Sending (RFC 8684 §3.3). send_buffer_ byte 0 carries DSN data_una_.
  SendBuffer send_buffer_;
  Dsn64 data_una_ = 0;
  Dsn64 snd_data_nxt_ = 0;   // next DSN never handed to a subflow
  Dsn64 data_wnd_end_ = 0;   // RFC 8684 §3.3.4: peer's DATA_ACK + window, never moved left
  Fifo<DataRange> reinject_;
  std::optional<Dsn64> data_fin_dsn_;  // our DATA_FIN's DSN once all data is handed out
  Timestamp last_data_progress_;
  // Opportunistic retransmission: done for the data at or_dsn_ (once per DATA_ACK value).
  Dsn64 or_dsn_ = 0;
  Timer data_rto_timer_;
  Timer close_timer_;  // after a clean close, resets subflows that have not finished

  // Receiving.
  RecvBuffer recv_buffer_;
  Dsn64 rcv_data_nxt_ = 0;
  // RFC 8684 §3.3.5: the highest right edge (DATA_ACK + window) advertised; never moves left.
  // Data beyond it is trimmed before TCP takes it.
  Dsn64 rcv_wnd_edge_ = 0;
  std::optional<Dsn64> remote_data_fin_dsn_;

  // MP_FAIL (connection_fail.h): allocated on the first checksum failure or MP_FAIL, so that
  // the idle connections that never see one do not carry it.
  struct MpFailState {
    // Receiving: we sent MP_FAIL for rx_dsn and discard the subflow's bytes until the peer's
    // infinite mapping (rx_infinite) says where to resume.
    std::optional<Dsn64> rx_dsn;
    uint64_t rx_discarded = 0;  // bytes discarded since: still open in our window
    Timestamp rx_deadline;
    std::optional<InfiniteMapping> rx_infinite;
    std::optional<InfiniteMapping> rx_resume;  // where the peer's last mapping ended
    // Sending: the peer sent MP_FAIL; our infinite mapping is due once the subflow is drained
    // (after tx_settle), then kept on its first byte until that is acknowledged.
    bool tx_pending = false;
    Timestamp tx_settle;
    std::optional<InfiniteMapping> tx_infinite;
  };
  std::unique_ptr<MpFailState> fail_;
  MpFailState& Fail() {
    if (fail_ == nullptr) fail_ = std::make_unique<MpFailState>();
    return *fail_;
  }
  bool rx_failing() const { return fail_ != nullptr && fail_->rx_dsn.has_value(); }
  bool tx_failing() const { return fail_ != nullptr && fail_->tx_pending; }

  // Signals.
  std::vector<PendingAddAddr> add_addr_;
  std::vector<IdAddress> remote_addrs_;   // the peer announced
  std::vector<IdAddress> announced_ports_;  // we announced, with a port of their own
  std::vector<uint8_t> remove_addr_;

  Fifo<Event> events_;
  // The path manager and what it has yet to hear (bounded: drained at the end of every call).
  std::unique_ptr<PathManager> pm_;
  std::vector<PmEvent> pm_inbox_;
  bool pm_busy_ = false;
  bool pm_established_told_ = false;
  ConnectionOwner* owner_ = nullptr;
  uint64_t owner_cookie_ = 0;
  MptcpMib mib_;
  tcp::TcpMib tcp_mib_;  // every subflow's engine counts here
};

// --- small members ---------------------------------------------------------------------------

inline ConnectionParams::ConnectionParams(const ConnectionConfig& c)
    : config(c), mptcp_subflow(c.subflow), plain_subflow(c.subflow) {
  // RFC 8684 §3.3.4: every subflow advertises the connection's window; scale to cover it.
  for (tcp::TcpConfig* t : {&mptcp_subflow, &plain_subflow}) {
    t->max_advertised_window = std::max(t->max_advertised_window, c.recv_buffer);
  }
  mptcp_subflow.congestion_control = c.congestion_control;
  plain_subflow.congestion_control = cc::UncoupledBase(c.congestion_control);
  recv_slack = size_t{2} << tcp::TcpEngine::InitialRcvWscale(mptcp_subflow);
  // Room for SubflowInflightLimit() to grow into; memory is taken only as data is in flight.
  mptcp_subflow.send_buffer = std::max(mptcp_subflow.send_buffer, c.send_buffer);
  // A peer may send the whole shared window on one subflow, ahead of a hole in that subflow's
  // own sequence space (Linux schedules by the data-level window alone): the subflow must hold
  // it, else it drops data the peer was entitled to send. Memory is taken only as data waits.
  for (tcp::TcpConfig* t : {&mptcp_subflow, &plain_subflow}) {
    t->recv_buffer = std::max(t->recv_buffer, c.recv_buffer + recv_slack);
  }
}

inline Connection::Connection(std::shared_ptr<const ConnectionParams> params, Role role,
                              uint64_t local_key, uint64_t seed)
    : params_(std::move(params)),
      config_(params_->config),
      role_(role),
      rng_(seed),
      isn_(rng_),
      scheduler_(MakeScheduler(config_.scheduler)),
      local_key_(local_key),
      local_token_(crypto::KeyToken(local_key)),
      local_idsn_(crypto::KeyIdsn(local_key)),
      checksum_(config_.checksum),
      send_buffer_(config_.send_buffer),
      recv_buffer_(config_.recv_buffer + params_->recv_slack, config_.max_ooo_ranges),
      pm_(MakePathManager(config_.path_manager)) {
  // RFC 8684 §3.3: the SYN occupies the first octet of the data sequence space, so data
  // starts at IDSN + 1.
  data_una_ = snd_data_nxt_ = data_wnd_end_ = local_idsn_ + 1;
}

inline void Connection::PushEvent(Event e) {
  // Readable and Writable are level-triggered hints: one pending of each is enough.
  switch (e.type) {
    case EventType::kReadable:
      if (readable_pending_) return;
      readable_pending_ = true;
      break;
    case EventType::kWritable:
      if (writable_pending_) return;
      writable_pending_ = true;
      break;
    case EventType::kEstablished:
    case EventType::kFellBackToTcp:
    case EventType::kClosed:
      break;  // once each in a connection's life: always kept
    default:
      // The queue is bounded: an application that does not poll loses these, counted.
      if (events_.size() >= config_.max_events) {
        ++mib_.events_dropped;
        return;
      }
      break;
  }
  events_.push_back(e);
}

inline std::optional<Event> Connection::PollEvent() {
  if (events_.empty()) return std::nullopt;
  Event e = events_.front();
  events_.pop_front();
  if (e.type == EventType::kReadable) readable_pending_ = false;
  if (e.type == EventType::kWritable) writable_pending_ = false;
  return e;
}

inline void Connection::MarkEstablished(Timestamp now) {
  if (established_) return;
  established_ = true;
  PushEvent(Event{.type = EventType::kEstablished});
  Advance(now, StateInput::kEstablished);
}

inline Subflow* Connection::FindSubflow(SubflowId id) {
  for (auto& s : subflows_) {
    if (s->id == id) return s.get();
  }
  return nullptr;
}

inline Subflow* Connection::FindSubflow(const FourTuple& path) {
  for (auto& s : subflows_) {
    if (s->engine.tuple() == path) return s.get();
  }
  return nullptr;
}

// RFC 8684 §3.4.1: a join goes to the port an ADD_ADDR named or, without one, to a port the
// connection already uses. Anywhere else nothing listens for it (Linux: no listener, a RST).
inline bool Connection::TakesJoinsOn(const SocketAddress& local) const {
  if (local.port == initial_local_.port) return true;
  for (const auto& s : subflows_) {
    if (s->alive() && s->engine.tuple().local.port == local.port) return true;
  }
  for (const IdAddress& a : announced_ports_) {
    if (a.address == local) return true;
  }
  return false;
}

inline uint8_t Connection::LocalAddressId(const IpAddress& ip) {
  // RFC 8684 §3.2: the addresses of the initial subflow have ID 0.
  if (ip == initial_local_.ip) return 0;
  for (const auto& [id, a] : local_ids_) {
    if (a == ip) return id;
  }
  const uint8_t id = next_local_id_++;
  local_ids_.emplace_back(id, ip);
  return id;
}

inline Subflow& Connection::AddSubflow(SubflowKind kind, bool initiator, const FourTuple& tuple,
                                       Timestamp now, std::optional<SubflowSeed> seed) {
  // The engines share the connection's parameters (ConnectionParams says why they differ from
  // config_.subflow) and count into its TCP MIB.
  std::shared_ptr<const tcp::TcpConfig> cfg(
      params_, mptcp() ? &params_->mptcp_subflow : &params_->plain_subflow);
  auto s = std::make_unique<Subflow>(NextSubflowId(), kind, initiator, std::move(cfg), tuple,
                                     seed ? seed->iss : isn_.Generate(now, tuple),
                                     seed ? seed->ts_offset : rng_.Next32(), &tcp_mib_);
  if (mptcp()) {
    // RFC 8684 §3.3.4: the data-level window governs sending; the connection advertises it.
    s->engine.set_external_send_window(true);
  }
  subflows_.push_back(std::move(s));
  return *subflows_.back();
}

inline SubflowId Connection::Connect(Timestamp now, const FourTuple& tuple) {
  initial_local_ = tuple.local;
  initial_remote_ = tuple.remote;
  Subflow& s = AddSubflow(SubflowKind::kInitial, true, tuple, now);
  s.engine.Connect(now);
  ++mib_.mp_capable_syn_tx;
  return s.id;
}

inline void Connection::AfterApiCall(Timestamp now) {
  SweepSubflows(now);
  RunPathManager(now);
  PumpFallback(now);
  if (owner_ != nullptr) owner_->OnConnectionChanged(owner_cookie_);
}

inline size_t Connection::Write(Timestamp now, std::span<const uint8_t> data) {
  if (closed() || WeClosed(state_)) return 0;
  const size_t n = send_buffer_.Append(data);
  if (n < data.size()) write_blocked_ = true;
  if (n > 0) AfterApiCall(now);
  return n;
}

inline size_t Connection::Read(Timestamp now, std::span<uint8_t> out) {
  const size_t before = recv_buffer_.window();
  const size_t n = recv_buffer_.Read(out);
  if (n == 0) return 0;
  if (fallen_back()) {
    AfterApiCall(now);
    return n;
  }
  if (rx_held_) {
    rx_held_ = false;
    for (auto& s : subflows_) DrainSubflow(now, *s);
  }
  // The shared window opened: announce it (receiver SWS avoidance, RFC 9293 §3.8.6.2.2,
  // applied to the data-level window) when it grew by a segment or from zero. The window
  // itself is chosen as each segment goes out (PlanWindow).
  const size_t threshold = std::min<size_t>(config_.recv_buffer / 2, config_.subflow.mss);
  if (before == 0 || recv_buffer_.window() >= before + threshold) {
    if (Subflow* s = BestSubflowForSignal()) s->engine.RequestAck();
  }
  AfterApiCall(now);
  return n;
}

inline void Connection::Close(Timestamp now) {
  if (!app_closed_) {
    app_closed_ = true;
    if (owner_ != nullptr) owner_->OnConnectionChanged(owner_cookie_);
  }
  if (closed() || WeClosed(state_)) return;
  Advance(now, StateInput::kAppClose);
  MaybeQueueDataFin(now);
  AfterApiCall(now);
}

inline SubflowInfo Connection::Info(const Subflow& s) const {
  const tcp::TcpEngine& e = s.engine;
  return SubflowInfo{s.id,           e.tuple(),        e.state(),      s.fully_established,
                     s.backup(),     s.stale,          s.local_id,     s.remote_id,
                     e.rtt().srtt(), e.rtt().rto(),    e.cwnd(),       e.bytes_in_flight(),
                     e.iss(),        e.snd_una(),      e.snd_nxt(),    e.rcv_nxt(),
                     e.segments_out(), e.segments_retransmitted(),
                     e.congestion_controller().ssthresh(), e.bytes_acked(),
                     e.bytes_received(), coupling_.Contains(s)};
}

inline std::vector<SubflowInfo> Connection::Subflows() const {
  std::vector<SubflowInfo> v;
  v.reserve(subflows_.size());
  for (const auto& s : subflows_) v.push_back(Info(*s));
  return v;
}

inline std::optional<SubflowInfo> Connection::subflow(SubflowId id) const {
  for (const auto& s : subflows_) {
    if (s->id == id) return Info(*s);
  }
  return std::nullopt;
}

inline std::optional<SubflowInfo> Connection::subflow(const FourTuple& path) const {
  const Subflow* s = FindSubflow(path);
  if (s == nullptr) return std::nullopt;
  return Info(*s);
}

inline size_t Connection::StateBytes() const {
  size_t n = sizeof(*this);
  n += subflows_.capacity() * sizeof(subflows_[0]);
  for (const auto& s : subflows_) {
    n += sizeof(Subflow) + s->tx.allocated_bytes() + s->rx.allocated_bytes();
    n += s->engine.StateBytes() - sizeof(tcp::TcpEngine);
  }
  n += local_ids_.capacity() * sizeof(local_ids_[0]);
  n += add_addr_.capacity() * sizeof(PendingAddAddr) + remove_addr_.capacity() +
       (remote_addrs_.capacity() + announced_ports_.capacity()) * sizeof(IdAddress);
  n += reinject_.allocated_bytes() + events_.allocated_bytes() + coupling_.allocated_bytes();
  if (fail_ != nullptr) n += sizeof(MpFailState);
  return n;
}

inline size_t Connection::BufferBytes() const {
  size_t n = send_buffer_.allocated_bytes() + recv_buffer_.allocated_bytes();
  for (const auto& s : subflows_) n += s->engine.BufferBytes();
  return n;
}

}  // namespace mptcp

#include "mptcp/connection_input.h"   // IWYU pragma: export
#include "mptcp/connection_output.h"  // IWYU pragma: export
#include "mptcp/connection_fail.h"    // IWYU pragma: export
#include "mptcp/connection_pm.h"      // IWYU pragma: export

#endif  // MPTCP_CONNECTION_H_
