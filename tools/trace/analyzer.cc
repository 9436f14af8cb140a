// The MPTCP connection tracker and checks of analyzer.h.
#include "tools/trace/analyzer.h"

#include <algorithm>
#include <map>
#include <utility>
#include <variant>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "mptcp/crypto/keys.h"
#include "mptcp/seq.h"
#include "mptcp/wire/mptcp_options.h"
#include "mptcp/wire/tcp.h"
#include "tools/trace/sha1.h"

namespace mptcp::trace {
namespace {

namespace w = wire;

// Old state is dropped past these sizes, oldest first, so that memory stays bounded on long
// captures: mappings and carried ranges only matter near the current sequence numbers.
constexpr size_t kMaxMappingsPerDirection = 4096;
constexpr size_t kMaxCarriedRanges = 65536;
constexpr size_t kMaxMalformedExamples = 10;

struct Mapping {
  uint64_t dsn = 0;  // 64-bit, absolute
  uint64_t length = 0;
  uint64_t frame = 0;
};

struct Carried {
  uint64_t end = 0;
  int subflow = 0;
};

struct SubflowState {
  int connection = 0;
  SubflowSummary summary;
  std::array<std::optional<SeqNum32>, 2> isn;  // by connection direction
  std::array<uint32_t, 2> nonce{};             // [0] initiator's, [1] responder's (MP_JOIN)
  std::optional<uint64_t> synack_hmac;
  // Relative subflow sequence number (0 = first payload byte) -> mapping, per direction.
  std::array<std::map<uint64_t, Mapping>, 2> mappings;
  std::array<uint64_t, 2> ssn_ref{};  // 32->64 expansion reference for subflow sequence
  std::array<std::optional<uint64_t>, 2> last_data_ack;  // by the sending direction
  std::array<uint64_t, 2> last_data_ack_frame{};
  bool synack_seen = false;
};

struct ConnState {
  ConnectionSummary summary;
  std::array<uint64_t, 2> dsn_ref{};             // highest DSN seen, per direction
  std::array<std::optional<uint64_t>, 2> base;   // DSN of the first byte, per direction
  std::array<bool, 2> mapping_seen{};
  std::array<std::map<uint64_t, Carried>, 2> carried;  // DSN ranges and who carried them
  std::vector<int> subflows;  // global subflow ids
};

struct TupleEntry {
  int subflow = -1;  // -1: a plain TCP flow
  bool from_initiator = true;
};

using TupleKey = std::pair<SocketAddress, SocketAddress>;

std::string Hex64(uint64_t v) { return absl::StrFormat("%016x", v); }

// A relative subflow sequence number (0 = the first payload byte) widened to 64 bits near
// `ref`, or nullopt for one just before the start (a keepalive or window probe at ISN, whose
// relative sequence is -1): unlike ExpandDsn32, never a jump to the next 2^32 block.
std::optional<uint64_t> WidenSubflowSeq(uint32_t rel, uint64_t ref) {
  const int32_t diff = static_cast<int32_t>(rel - static_cast<uint32_t>(ref));
  if (diff < 0 && static_cast<uint64_t>(-static_cast<int64_t>(diff)) > ref) return std::nullopt;
  return ref + static_cast<uint64_t>(static_cast<int64_t>(diff));
}

}  // namespace

struct Analyzer::Impl {
  AnalyzerOptions options;
  TraceSummary summary;
  std::vector<DataPoint> points;
  std::vector<ConnState> conns;
  std::vector<SubflowState> subflows;
  absl::flat_hash_map<TupleKey, TupleEntry> tuples;
  // Token -> (connection, the side whose key it derives from). RFC 8684 §3.2: an MP_JOIN SYN
  // names the connection by the receiver's token.
  absl::flat_hash_map<uint32_t, std::pair<int, int>> tokens;
  bool have_time = false;

  // Per segment.
  uint64_t frame = 0;
  int64_t now = 0;

  void AddFinding(int conn, std::string check, std::string message) {
    if (summary.findings.size() >= options.max_findings) {
      ++summary.findings_dropped;
      return;
    }
    summary.findings.push_back(Finding{frame, conn, std::move(check), std::move(message)});
  }

  void AddEvent(ConnState& c, int subflow, int dir, std::string what) {
    if (c.summary.events.size() >= options.max_events_per_connection) {
      ++c.summary.events_dropped;
      return;
    }
    c.summary.events.push_back(TraceEvent{frame, now, subflow, dir, std::move(what)});
  }

  void SetKey(ConnState& c, int side, uint64_t key) {
    if (c.summary.key[side]) return;
    c.summary.key[side] = key;
    // The token is the most significant 32 bits of the key's hash, the IDSN the least
    // significant 64: SHA-256 in v1 (RFC 8684 §3.1), SHA-1 in v0 (RFC 6824 §3.1).
    const bool v1 = c.summary.version == 1;
    const uint32_t token = v1 ? crypto::KeyToken(key) : V0KeyToken(key);
    c.summary.token[side] = token;
    tokens[token] = {c.summary.index, side};
    // RFC 8684 §3.3.1 / §3.1: the first data byte has DSN IDSN + 1.
    const uint64_t idsn = v1 ? crypto::KeyIdsn(key) : V0KeyIdsn(key);
    if (!c.base[side]) c.base[side] = idsn + 1;
    if (c.dsn_ref[side] == 0) c.dsn_ref[side] = idsn;
  }

  int NewConnection(int version) {
    ConnState c;
    c.summary.index = static_cast<int>(conns.size());
    c.summary.version = version;
    conns.push_back(std::move(c));
    return conns.back().summary.index;
  }

  int NewSubflow(int conn, const DecodedSegment& syn, int initiator_side, bool join) {
    SubflowState s;
    s.connection = conn;
    s.summary.index = static_cast<int>(conns[conn].subflows.size());
    s.summary.initiator = syn.src;
    s.summary.responder = syn.dst;
    s.summary.initiator_side = initiator_side;
    s.summary.join = join;
    s.summary.first_frame = frame;
    s.summary.first_time_ns = now;
    s.isn[initiator_side] = syn.seq;
    const int id = static_cast<int>(subflows.size());
    subflows.push_back(std::move(s));
    conns[conn].subflows.push_back(id);
    tuples[{syn.src, syn.dst}] = TupleEntry{id, true};
    tuples[{syn.dst, syn.src}] = TupleEntry{id, false};
    return id;
  }

  std::vector<w::MptcpOption> ParseOptions(const DecodedSegment& seg, int version, int conn) {
    std::vector<w::MptcpOption> out;
    const w::MptcpVersion v = version == 0 ? w::MptcpVersion::kV0 : w::MptcpVersion::kV1;
    for (std::span<const uint8_t> raw : seg.options.mptcp_options()) {
      auto o = w::ParseMptcpOption(raw, v);
      if (o.ok()) {
        out.push_back(*o);
      } else if (o.error().code != w::WireErrorCode::kUnknownSubtype) {
        AddFinding(conn, "bad_option",
                   absl::StrCat("MPTCP option does not parse: ", o.error().ToString()));
      }
    }
    return out;
  }

  void OnSyn(const DecodedSegment& seg) {
    const auto existing = tuples.find(TupleKey{seg.src, seg.dst});
    if (existing != tuples.end() && existing->second.from_initiator) {
      const int id = existing->second.subflow;
      if (id < 0) return;  // a retransmitted plain SYN
      SubflowState& s = subflows[id];
      if (s.isn[s.summary.initiator_side] == seg.seq) {  // a retransmitted SYN
        CountPacket(id, true, seg);
        return;
      }
      // Same ports, new ISN: a new connection reusing the tuple; the old one is left as is.
    }
    std::optional<w::MpCapable> mpc;
    std::optional<w::MpJoinSyn> join;
    for (std::span<const uint8_t> raw : seg.options.mptcp_options()) {
      auto o = w::ParseMptcpOption(raw, w::MptcpVersion::kV1);
      if (!o.ok()) continue;
      if (auto* m = std::get_if<w::MpCapable>(&*o)) mpc = *m;
      if (auto* j = std::get_if<w::MpJoinSyn>(&*o)) join = *j;
    }
    if (mpc) {
      const int version = mpc->version == 0 ? 0 : 1;
      const int conn = NewConnection(version);
      ConnState& c = conns[conn];
      c.summary.checksum = mpc->checksum_required();
      const int id = NewSubflow(conn, seg, 0, false);
      if (mpc->sender_key) SetKey(c, 0, *mpc->sender_key);  // v0 SYN (RFC 6824 §3.1)
      AddEvent(c, 0, 0,
               absl::StrFormat("MP_CAPABLE SYN v%u%s %s -> %s", mpc->version,
                               mpc->checksum_required() ? " (checksums)" : "",
                               seg.src.ToString(), seg.dst.ToString()));
      CountPacket(id, true, seg);
      return;
    }
    if (join) {
      int conn = -1, receiver_side = 1;
      if (auto t = tokens.find(join->receiver_token); t != tokens.end()) {
        conn = t->second.first;
        receiver_side = t->second.second;
      } else {
        // The token's connection is not in the capture: a connection of its own, so that its
        // joins are still grouped together.
        conn = NewConnection(1);
        conns[conn].summary.token[1] = join->receiver_token;
        tokens[join->receiver_token] = {conn, 1};
        AddEvent(conns[conn], -1, 0,
                 absl::StrFormat("token %08x: no MP_CAPABLE handshake in the capture",
                                 join->receiver_token));
      }
      ConnState& c = conns[conn];
      const int initiator = 1 - receiver_side;
      const int id = NewSubflow(conn, seg, initiator, true);
      SubflowState& s = subflows[id];
      s.summary.initiator_address_id = join->address_id;
      s.summary.backup = join->backup;
      s.summary.hmac = "unverified";
      s.nonce[0] = join->sender_nonce;
      ++c.summary.join_syns;
      AddEvent(c, s.summary.index, initiator,
               absl::StrFormat("MP_JOIN SYN %s -> %s token %08x address id %u%s",
                               seg.src.ToString(), seg.dst.ToString(), join->receiver_token,
                               join->address_id, join->backup ? " backup" : ""));
      CountPacket(id, true, seg);
      return;
    }
    if (existing == tuples.end()) ++summary.plain_tcp_flows;
    tuples[{seg.src, seg.dst}] = TupleEntry{-1, true};
    tuples[{seg.dst, seg.src}] = TupleEntry{-1, false};
  }

  int Direction(const SubflowState& s, bool from_initiator) const {
    return from_initiator ? s.summary.initiator_side : 1 - s.summary.initiator_side;
  }

  void CountPacket(int id, bool from_initiator, const DecodedSegment& seg) {
    SubflowState& s = subflows[id];
    const int dir = Direction(s, from_initiator);
    ++s.summary.packets[dir];
    s.summary.payload_bytes[dir] += seg.payload_len;
  }

  void OnSegment(const DecodedSegment& seg) {
    ++summary.tcp_segments;
    const bool syn = seg.has_flag(w::TcpFlag::kSyn);
    const bool ack = seg.has_flag(w::TcpFlag::kAck);
    if (syn && !ack) {
      OnSyn(seg);
      return;
    }
    const auto it = tuples.find(TupleKey{seg.src, seg.dst});
    if (it == tuples.end()) {
      ++summary.unmatched_segments;
      return;
    }
    if (it->second.subflow < 0) return;  // plain TCP
    const int id = it->second.subflow;
    const bool from_initiator = it->second.from_initiator;
    CountPacket(id, from_initiator, seg);
    SubflowState& s = subflows[id];
    ConnState& c = conns[s.connection];
    const int dir = Direction(s, from_initiator);
    const std::vector<w::MptcpOption> opts = ParseOptions(seg, c.summary.version, s.connection);
    if (syn) OnSynAck(s, c, dir, seg, opts);
    if (seg.has_flag(w::TcpFlag::kRst) && !s.summary.reset) {
      s.summary.reset = true;
      AddEvent(c, s.summary.index, dir, "RST");
    }
    const w::Dss* dss = nullptr;
    std::optional<Mapping> mpc_mapping;
    for (const w::MptcpOption& o : opts) {
      if (syn) break;  // SYN/ACK options were handled above
      if (auto* m = std::get_if<w::MpCapable>(&o)) {
        mpc_mapping = OnMpCapableAck(s, c, dir, *m);
      } else if (auto* j = std::get_if<w::MpJoinAck>(&o)) {
        OnJoinAck(s, c, dir, *j);
      } else if (auto* d = std::get_if<w::Dss>(&o)) {
        dss = d;
      } else {
        OnSignal(s, c, dir, o);
      }
    }
    if (dss != nullptr) OnDss(s, c, dir, *dss);
    if (mpc_mapping && s.isn[dir]) InsertMapping(s, c, dir, 0, *mpc_mapping);
    if (!syn && seg.payload_len > 0) OnData(s, c, dir, seg);
  }

  void OnSynAck(SubflowState& s, ConnState& c, int dir, const DecodedSegment& seg,
                const std::vector<w::MptcpOption>& opts) {
    s.isn[dir] = seg.seq;
    if (s.synack_seen) return;  // a retransmission
    s.synack_seen = true;
    if (!s.summary.join) {
      for (const w::MptcpOption& o : opts) {
        if (auto* m = std::get_if<w::MpCapable>(&o)) {
          if (m->version < c.summary.version) c.summary.version = m->version;
          if (m->sender_key) SetKey(c, dir, *m->sender_key);
          c.summary.checksum = c.summary.checksum || m->checksum_required();
          AddEvent(c, s.summary.index, dir,
                   absl::StrFormat("MP_CAPABLE SYN/ACK v%u key %s", m->version,
                                   m->sender_key ? Hex64(*m->sender_key) : "-"));
          return;
        }
      }
      c.summary.fallback = true;
      c.summary.fallback_reason = "the SYN/ACK carries no MP_CAPABLE (RFC 8684 §3.1)";
      AddEvent(c, s.summary.index, dir, "fallback to TCP: SYN/ACK without MP_CAPABLE");
      return;
    }
    for (const w::MptcpOption& o : opts) {
      auto* j = std::get_if<w::MpJoinSynAck>(&o);
      if (j == nullptr) continue;
      ++c.summary.join_synacks;
      s.summary.responder_address_id = j->address_id;
      s.nonce[1] = j->sender_nonce;
      s.synack_hmac = j->truncated_hmac;
      std::string verdict;
      const int resp = dir, init = 1 - dir;
      if (c.summary.version == 1 && c.summary.key[0] && c.summary.key[1]) {
        // RFC 8684 §3.2: HMAC-B = HMAC(Key=(Key-B || Key-A), Msg=(R-B || R-A)), leftmost 64 bits.
        const uint64_t want = crypto::JoinSynAckHmac(*c.summary.key[resp], *c.summary.key[init],
                                                     s.nonce[1], s.nonce[0]);
        const bool ok = want == j->truncated_hmac;
        s.summary.hmac = ok ? "ok" : "bad";
        verdict = ok ? ", HMAC ok" : ", HMAC BAD";
        if (!ok) {
          AddFinding(c.summary.index, "join_hmac",
                     absl::StrFormat("subflow %d: MP_JOIN SYN/ACK HMAC %s, expected %s",
                                     s.summary.index, Hex64(j->truncated_hmac), Hex64(want)));
        }
      }
      AddEvent(c, s.summary.index, dir,
               absl::StrFormat("MP_JOIN SYN/ACK address id %u%s%s", j->address_id,
                               j->backup ? " backup" : "", verdict));
      return;
    }
    AddEvent(c, s.summary.index, dir, "MP_JOIN refused: SYN/ACK without MP_JOIN");
  }

  // The third ACK of MP_CAPABLE (both keys), or v1's first data (+ data-level length). Returns
  // the mapping a data-carrying MP_CAPABLE implies (RFC 8684 §3.1: DSN IDSN + 1, the first
  // subflow byte).
  std::optional<Mapping> OnMpCapableAck(SubflowState& s, ConnState& c, int dir,
                                        const w::MpCapable& m) {
    if (!m.sender_key || !m.receiver_key) return std::nullopt;
    const int peer = 1 - dir;
    if (c.summary.key[peer] && *c.summary.key[peer] != *m.receiver_key) {
      AddFinding(c.summary.index, "key_mismatch",
                 absl::StrFormat("MP_CAPABLE receiver key %s differs from the SYN/ACK's %s",
                                 Hex64(*m.receiver_key), Hex64(*c.summary.key[peer])));
    }
    if (c.summary.key[dir] && *c.summary.key[dir] != *m.sender_key) {
      AddFinding(c.summary.index, "key_mismatch",
                 absl::StrFormat("MP_CAPABLE sender key %s differs from the earlier %s",
                                 Hex64(*m.sender_key), Hex64(*c.summary.key[dir])));
    }
    SetKey(c, dir, *m.sender_key);
    SetKey(c, peer, *m.receiver_key);
    if (!s.summary.established) {
      s.summary.established = true;
      AddEvent(c, s.summary.index, dir,
               absl::StrFormat("MP_CAPABLE ACK keys %s %s%s", Hex64(*m.sender_key),
                               Hex64(*m.receiver_key), m.data_len ? " with data" : ""));
    }
    if (!m.data_len || *m.data_len == 0 || c.summary.version != 1) return std::nullopt;
    return Mapping{crypto::KeyIdsn(*m.sender_key) + 1, *m.data_len, frame};
  }

  void OnJoinAck(SubflowState& s, ConnState& c, int dir, const w::MpJoinAck& j) {
    // Counted once per subflow, as the receiving kernel counts MPJoinAckRx: a third ACK
    // retransmitted before the fourth ACK arrives is not a second join.
    if (s.summary.established) return;
    ++c.summary.join_acks;
    std::string verdict;
    if (c.summary.version == 1 && c.summary.key[0] && c.summary.key[1] && s.synack_hmac) {
      // RFC 8684 §3.2: HMAC-A = HMAC(Key=(Key-A || Key-B), Msg=(R-A || R-B)), leftmost 160 bits.
      const auto want = crypto::JoinAckHmac(*c.summary.key[dir], *c.summary.key[1 - dir],
                                            s.nonce[0], s.nonce[1]);
      const bool ok = std::equal(want.begin(), want.end(), j.hmac.begin());
      if (!ok) {
        s.summary.hmac = "bad";
        AddFinding(c.summary.index, "join_hmac",
                   absl::StrFormat("subflow %d: MP_JOIN third-ACK HMAC does not verify",
                                   s.summary.index));
      }
      verdict = ok ? " HMAC ok" : " HMAC BAD";
    }
    s.summary.established = true;
    AddEvent(c, s.summary.index, dir, "MP_JOIN ACK" + verdict);
  }

  void OnSignal(SubflowState& s, ConnState& c, int dir, const w::MptcpOption& o) {
    const int conn = c.summary.index, sf = s.summary.index;
    if (auto* a = std::get_if<w::AddAddr>(&o)) {
      const std::string addr =
          a->port ? SocketAddress{a->address, *a->port}.ToString() : a->address.ToString();
      std::string verdict;
      if (a->echo) {
        ++c.summary.add_addr_echo[dir];
      } else {
        ++c.summary.add_addr[dir];
        if (a->hmac && c.summary.key[0] && c.summary.key[1]) {
          // RFC 8684 §3.4.1: HMAC keyed with the sender's key then the receiver's.
          const uint64_t want = crypto::AddAddrHmac(*c.summary.key[dir], *c.summary.key[1 - dir],
                                                    a->address_id, a->address, a->port);
          verdict = want == *a->hmac ? " HMAC ok" : " HMAC BAD";
          if (want != *a->hmac) {
            AddFinding(conn, "add_addr_hmac",
                       absl::StrFormat("ADD_ADDR id %u %s: HMAC %s, expected %s", a->address_id,
                                       addr, Hex64(*a->hmac), Hex64(want)));
          }
        }
      }
      AddEvent(c, sf, dir,
               absl::StrFormat("ADD_ADDR%s id %u %s%s", a->echo ? " echo" : "", a->address_id,
                               addr, verdict));
    } else if (auto* r = std::get_if<w::RemoveAddr>(&o)) {
      ++c.summary.remove_addr[dir];
      AddEvent(c, sf, dir, absl::StrCat("REMOVE_ADDR ids ", absl::StrJoin(r->address_ids(), ",")));
    } else if (auto* p = std::get_if<w::MpPrio>(&o)) {
      ++c.summary.mp_prio[dir];
      s.summary.backup = p->backup;
      AddEvent(c, sf, dir, p->backup ? "MP_PRIO backup" : "MP_PRIO regular");
    } else if (auto* f = std::get_if<w::MpFail>(&o)) {
      ++c.summary.mp_fail;
      AddEvent(c, sf, dir, absl::StrFormat("MP_FAIL dsn %u", f->dsn));
    } else if (std::holds_alternative<w::MpFastclose>(o)) {
      ++c.summary.mp_fastclose;
      AddEvent(c, sf, dir, "MP_FASTCLOSE");
    } else if (auto* t = std::get_if<w::MpTcpRst>(&o)) {
      ++c.summary.mp_tcprst;
      s.summary.tcprst_reason = t->reason;
      AddEvent(c, sf, dir,
               absl::StrFormat("MP_TCPRST reason %u (%s)%s", t->reason,
                               w::MpTcpRstReasonName(t->reason),
                               t->transient() ? " transient" : ""));
    }
  }

  void OnDss(SubflowState& s, ConnState& c, int dir, const w::Dss& d) {
    if (d.data_ack) {
      // The DATA_ACK acknowledges the other direction's data: expand near its position.
      const uint64_t v = d.data_ack->is_64bit
                             ? d.data_ack->value
                             : ExpandDsn32(static_cast<uint32_t>(d.data_ack->value),
                                           c.dsn_ref[1 - dir]);
      auto& last = s.last_data_ack[dir];
      if (last && v < *last) {
        AddFinding(c.summary.index, "data_ack_backwards",
                   absl::StrFormat("subflow %d direction %d: DATA_ACK %u after %u (frame %u)",
                                   s.summary.index, dir, v, *last, s.last_data_ack_frame[dir]));
      }
      if (!last || v >= *last) {
        last = v;
        s.last_data_ack_frame[dir] = frame;
      }
    }
    if (!d.mapping) return;
    const w::DssMapping& m = *d.mapping;
    if (m.data_len == 0) {
      // RFC 8684 §3.3.1 / §3.7: an infinite mapping, the fallback to TCP.
      if (!c.summary.fallback) {
        c.summary.fallback = true;
        c.summary.fallback_reason = "infinite mapping (RFC 8684 §3.7)";
        AddEvent(c, s.summary.index, dir, "fallback: infinite mapping");
      }
      return;
    }
    const uint64_t dsn = m.dsn_is_64bit ? m.dsn : ExpandDsn32(static_cast<uint32_t>(m.dsn),
                                                              c.dsn_ref[dir]);
    if (!c.base[dir]) c.base[dir] = dsn;
    c.dsn_ref[dir] = std::max(c.dsn_ref[dir], dsn);
    if (d.data_fin) {
      // RFC 8684 §3.3.3: the DATA_FIN takes the last octet of the mapping's data-level length.
      const uint64_t fin = dsn + m.data_len - 1;
      const uint64_t rel = fin - std::min(fin, *c.base[dir]);
      if (!c.summary.data_fin[dir] || *c.summary.data_fin[dir] != rel) {
        c.summary.data_fin[dir] = rel;
        AddEvent(c, s.summary.index, dir, absl::StrFormat("DATA_FIN at dsn %u", rel));
      }
      // A DATA_FIN alone has subflow sequence 0 and no subflow bytes.
      if (m.subflow_seq == 0) return;
    }
    if (m.subflow_seq == 0) return;
    const uint64_t len = m.data_len - (d.data_fin ? 1 : 0);
    if (len == 0) return;
    // The mapping's subflow sequence is relative to the ISN: the first byte is 1 (§3.3.1).
    InsertMapping(s, c, dir, m.subflow_seq - 1u, Mapping{dsn, len, frame});
  }

  void InsertMapping(SubflowState& s, ConnState& c, int dir, uint32_t ssn_rel32, Mapping m) {
    c.mapping_seen[dir] = true;
    const std::optional<uint64_t> wide = WidenSubflowSeq(ssn_rel32, s.ssn_ref[dir]);
    if (!wide) return;
    const uint64_t ssn = *wide;
    s.ssn_ref[dir] = std::max(s.ssn_ref[dir], ssn);
    auto& maps = s.mappings[dir];
    // RFC 8684 §3.3.1: a subflow byte has one data sequence number; any mapping overlapping
    // this one must agree on the offset between the two spaces.
    auto it = maps.upper_bound(ssn);
    if (it != maps.begin()) --it;
    for (; it != maps.end() && it->first < ssn + m.length; ++it) {
      if (it->first + it->second.length <= ssn) continue;
      if (it->second.dsn - it->first != m.dsn - ssn) {
        AddFinding(c.summary.index, "mapping_conflict",
                   absl::StrFormat("subflow %d direction %d: subflow bytes %u+%u mapped to dsn "
                                   "%u, but frame %u mapped %u+%u to dsn %u",
                                   s.summary.index, dir, ssn, m.length, m.dsn, it->second.frame,
                                   it->first, it->second.length, it->second.dsn));
        break;
      }
    }
    auto [pos, inserted] = maps.try_emplace(ssn, m);
    if (!inserted && m.length > pos->second.length) pos->second = m;
    while (maps.size() > kMaxMappingsPerDirection) maps.erase(maps.begin());
  }

  // Records that `sf` carried DSN [start, end) and returns the bytes another subflow carried
  // before (a reinjection, RFC 8684 §3.3.6).
  uint64_t Carry(ConnState& c, int dir, uint64_t start, uint64_t end, int sf) {
    auto& ranges = c.carried[dir];
    uint64_t again = 0;
    std::vector<std::pair<uint64_t, uint64_t>> gaps;
    uint64_t cursor = start;
    auto it = ranges.upper_bound(start);
    if (it != ranges.begin() && std::prev(it)->second.end > start) --it;
    for (; it != ranges.end() && it->first < end; ++it) {
      const uint64_t lo = std::max(it->first, start), hi = std::min(it->second.end, end);
      if (lo > cursor) gaps.emplace_back(cursor, lo);
      if (hi > lo && it->second.subflow != sf) again += hi - lo;
      cursor = std::max(cursor, hi);
    }
    if (cursor < end) gaps.emplace_back(cursor, end);
    for (const auto& [lo, hi] : gaps) {
      // Extend a range of the same subflow that ends here, else add one.
      auto prev = ranges.lower_bound(lo);
      if (prev != ranges.begin()) {
        --prev;
        if (prev->second.end == lo && prev->second.subflow == sf) {
          prev->second.end = hi;
          continue;
        }
      }
      ranges[lo] = Carried{hi, sf};
    }
    while (ranges.size() > kMaxCarriedRanges) ranges.erase(ranges.begin());
    return again;
  }

  void OnData(SubflowState& s, ConnState& c, int dir, const DecodedSegment& seg) {
    if (!s.isn[dir]) return;
    const uint32_t rel32 = (seg.seq - (*s.isn[dir] + 1u));  // wraps as TCP does
    const std::optional<uint64_t> wide = WidenSubflowSeq(rel32, s.ssn_ref[dir]);
    if (!wide) return;
    const uint64_t ssn = *wide;
    s.ssn_ref[dir] = std::max(s.ssn_ref[dir], ssn);
    const auto& maps = s.mappings[dir];
    auto it = maps.upper_bound(ssn);
    if (it == maps.begin()) return NoMapping(s, c, dir);
    --it;
    if (ssn >= it->first + it->second.length) return NoMapping(s, c, dir);
    const uint64_t dsn = it->second.dsn + (ssn - it->first);
    const uint64_t len = std::min<uint64_t>(seg.payload_len, it->first + it->second.length - ssn);
    const uint64_t again = Carry(c, dir, dsn, dsn + len, s.summary.index);
    c.summary.reinjected_bytes[dir] += again;
    const uint64_t base = c.base[dir].value_or(dsn);
    DataPoint p;
    p.time_ns = now;
    p.connection = c.summary.index;
    p.subflow = s.summary.index;
    p.direction = dir;
    p.dsn = dsn - std::min(dsn, base);
    p.length = seg.payload_len;
    p.ssn = ssn;
    p.reinjected = again > 0;
    p.frame = frame;
    if (options.on_data) options.on_data(p);
    if (points.size() < options.max_points) points.push_back(p);
  }

  void NoMapping(SubflowState& s, ConnState& c, int dir) {
    // RFC 8684 §3.7: data on the first subflow before any mapping means the peer fell back.
    if (!s.summary.join && !c.mapping_seen[dir] && !c.summary.fallback) {
      c.summary.fallback = true;
      c.summary.fallback_reason = "data without a DSS mapping (RFC 8684 §3.7)";
      AddEvent(c, s.summary.index, dir, "fallback: data without a DSS mapping");
    }
  }
};

Analyzer::Analyzer(AnalyzerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

Analyzer::~Analyzer() = default;

const std::vector<DataPoint>& Analyzer::points() const { return impl_->points; }

int64_t Analyzer::first_time_ns() const { return impl_->summary.first_time_ns; }

void Analyzer::OnFrame(const CaptureFrame& frame) {
  TraceSummary& sum = impl_->summary;
  ++sum.frames;
  if (!impl_->have_time) {
    sum.first_time_ns = frame.time_ns;
    impl_->have_time = true;
  }
  sum.last_time_ns = std::max(sum.last_time_ns, frame.time_ns);
  const DecodeResult r = DecodeFrame(frame.link_type, frame.data);
  switch (r.outcome) {
    case DecodeOutcome::kTcp:
      OnSegment(frame.number, frame.time_ns, r.segment);
      return;
    case DecodeOutcome::kNotTcp:
      ++sum.non_tcp_frames;
      return;
    case DecodeOutcome::kUnsupportedLink:
      ++sum.unsupported_link_frames;
      return;
    case DecodeOutcome::kMalformed:
      ++sum.malformed_frames;
      if (sum.malformed_examples.size() < kMaxMalformedExamples) {
        sum.malformed_examples.push_back(absl::StrFormat("frame %u: %s", frame.number, r.error));
      }
      return;
  }
}

void Analyzer::OnSegment(uint64_t frame, int64_t time_ns, const DecodedSegment& seg) {
  Impl& m = *impl_;
  m.frame = frame;
  m.now = time_ns;
  if (!m.have_time) {
    m.summary.first_time_ns = time_ns;
    m.have_time = true;
  }
  m.summary.last_time_ns = std::max(m.summary.last_time_ns, time_ns);
  m.OnSegment(seg);
}

TraceSummary Analyzer::Finish() {
  Impl& m = *impl_;
  TraceSummary out = m.summary;
  for (ConnState& c : m.conns) {
    ConnectionSummary cs = c.summary;
    for (int id : c.subflows) cs.subflows.push_back(m.subflows[id].summary);
    out.connections.push_back(std::move(cs));
  }
  return out;
}

}  // namespace mptcp::trace
