// Conversation-test helpers for one mptcp::Connection: hand-built peer segments (TCP header,
// MPTCP options, payload) injected at time t with the path's checksum, every segment the
// connection emits parsed back to a TcpRepr plus its MPTCP options, and an oracle that computes
// tokens, IDSNs, MP_JOIN HMACs and DSS checksums with python3's hashlib/hmac, independently of
// mptcp/crypto and mptcp/wire/checksum.h.
#ifndef MPTCP_TESTING_CONNECTION_TEST_UTIL_H_
#define MPTCP_TESTING_CONNECTION_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <ostream>
#include <span>
#include <sstream>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "absl/strings/str_format.h"
#include "io/stream_pattern.h"
#include "mptcp/connection.h"
#include "mptcp/wire/mptcp_options.h"
#include "mptcp/wire/tcp.h"

namespace mptcp::testing {

using wire::TcpFlag::kAck;
using wire::TcpFlag::kFin;
using wire::TcpFlag::kPsh;
using wire::TcpFlag::kRst;
using wire::TcpFlag::kSyn;

inline Timestamp Ms(int64_t ms) { return Timestamp::Zero() + Duration::Millis(ms); }

// ---- Fixed keys and the values derived from them -------------------------------------------
//
// Computed once with python3 (hashlib.sha256 over the key's 8 big-endian bytes: token = the
// first 4 bytes, IDSN = the last 8, RFC 8684 §3.1), not with mptcp/crypto; the test
// FixedKeyValuesMatchPython recomputes them with python3 on every run.
inline constexpr uint64_t kClientKey = 0x1122334455667788ULL;
inline constexpr uint32_t kClientToken = 0x1dce6604u;
inline constexpr uint64_t kClientIdsn = 0x62815714b76ae9a5ULL;
inline constexpr uint64_t kServerKey = 0x8877665544332211ULL;
inline constexpr uint32_t kServerToken = 0x804d562du;
inline constexpr uint64_t kServerIdsn = 0x2844f958dbd74c17ULL;

// ---- Addresses: path 1 is the initial subflow, path 2 a joined one -------------------------

inline const IpAddress kClientIp1 = IpAddress::V4(10, 0, 1, 1);
inline const IpAddress kClientIp2 = IpAddress::V4(10, 0, 2, 1);
inline const IpAddress kServerIp1 = IpAddress::V4(10, 0, 1, 2);
inline const IpAddress kServerIp2 = IpAddress::V4(10, 0, 2, 2);
inline constexpr uint16_t kClientPort = 40000;
inline constexpr uint16_t kServerPort = 80;

// Each side's view: local first.
inline FourTuple ClientPath1() { return {{kClientIp1, kClientPort}, {kServerIp1, kServerPort}}; }
inline FourTuple ClientPath2() { return {{kClientIp2, kClientPort}, {kServerIp2, kServerPort}}; }
inline FourTuple ServerPath1() { return ClientPath1().Reversed(); }
inline FourTuple ServerPath2() { return ClientPath2().Reversed(); }

// Small exact numbers: MSS 1000, no window scaling or timestamps, SACK on, NewReno, 20000-byte
// buffers at both levels (so every window field reads 20000).
inline ConnectionConfig TestConfig(bool checksum = false) {
  ConnectionConfig c;
  c.subflow.mss = 1000;
  c.subflow.window_scaling = false;
  c.subflow.timestamps = false;
  c.subflow.sack = true;
  c.subflow.send_buffer = 20000;
  c.subflow.recv_buffer = 20000;
  c.congestion_control = cc::CcAlgorithm::kNewReno;
  c.send_buffer = 20000;
  c.recv_buffer = 20000;
  c.checksum = checksum;
  return c;
}

// ---- The independent oracle -----------------------------------------------------------------

// Written from RFC 8684 alone. Each argument is one query; one output line per query:
//   token:KEY                     -> 8 hex digits (RFC 8684 §3.1)
//   idsn:KEY                      -> 16 hex digits (RFC 8684 §3.1)
//   hmac:KEY1:KEY2:NONCE1:NONCE2  -> 64 hex digits, HMAC-SHA256(KEY1||KEY2, NONCE1||NONCE2)
//                                    (RFC 8684 §3.2; keys and nonces big-endian)
//   csum:DSN:SSN:LEN:PAYLOAD      -> the DSS checksum as an unsigned decimal (RFC 8684
//                                    §3.3.1: pseudo-header DSN(64) SSN(32) LEN(16) zero(16),
//                                    then the payload; ones' complement of the ones'
//                                    complement sum)
// KEY, NONCE, DSN in hex; SSN and LEN in decimal; PAYLOAD in hex ("-" for none).
// It is passed inside '...', so it contains no single quote.
inline constexpr char kOracleScript[] = R"(
import sys, hashlib, hmac, struct
def csum(b):
    if len(b) % 2:
        b = b + bytes(1)
    s = 0
    for i in range(0, len(b), 2):
        s += (b[i] << 8) | b[i + 1]
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
for q in sys.argv[1:]:
    f = q.split(":")
    if f[0] == "token":
        print(hashlib.sha256(struct.pack(">Q", int(f[1], 16))).digest()[:4].hex())
    elif f[0] == "idsn":
        print(hashlib.sha256(struct.pack(">Q", int(f[1], 16))).digest()[-8:].hex())
    elif f[0] == "hmac":
        k = struct.pack(">QQ", int(f[1], 16), int(f[2], 16))
        m = struct.pack(">II", int(f[3], 16), int(f[4], 16))
        print(hmac.new(k, m, hashlib.sha256).hexdigest())
    elif f[0] == "csum":
        data = b"" if f[4] == "-" else bytes.fromhex(f[4])
        hdr = struct.pack(">QIHH", int(f[1], 16), int(f[2]), int(f[3]), 0)
        print(csum(hdr + data))
    else:
        sys.exit("bad query " + q)
)";

class PyOracle {
 public:
  static constexpr char kPython[] = "/usr/bin/python3";

  static bool Available() { return access(kPython, X_OK) == 0; }
  static std::string SkipReason() {
    return std::string(kPython) +
           " is not available: the key-derived values (tokens, IDSNs, MP_JOIN HMACs) are "
           "checked against python3's hashlib/hmac, independently of mptcp/crypto";
  }

  // One answer line per query; an empty vector (and a test failure) if python3 fails.
  static std::vector<std::string> Run(const std::vector<std::string>& queries) {
    std::string cmd = std::string(kPython) + " -c '" + kOracleScript + "'";
    for (const std::string& q : queries) cmd += " " + q;
    FILE* pipe = popen(cmd.c_str(), "r");
    if (pipe == nullptr) {
      ADD_FAILURE() << "popen(" << kPython << ") failed";
      return {};
    }
    std::string out;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof(buf), pipe)) > 0;) out.append(buf, n);
    const int status = pclose(pipe);
    if (status != 0) {
      ADD_FAILURE() << "python3 failed (status " << status << "):\n" << out;
      return {};
    }
    std::vector<std::string> lines;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    if (lines.size() != queries.size()) {
      ADD_FAILURE() << "python3 answered " << lines.size() << " lines to " << queries.size()
                    << " queries:\n" << out;
      return {};
    }
    return lines;
  }
  static std::string One(const std::string& query) {
    auto v = Run({query});
    return v.empty() ? std::string() : v[0];
  }

  static uint32_t Token(uint64_t key) {
    return static_cast<uint32_t>(ParseUint(One(absl::StrFormat("token:%016x", key)), 16));
  }
  static uint64_t Idsn(uint64_t key) {
    return ParseUint(One(absl::StrFormat("idsn:%016x", key)), 16);
  }
  // HMAC(Key=(key1 || key2), Msg=(nonce1 || nonce2)), 32 bytes.
  static std::array<uint8_t, 32> Hmac(uint64_t key1, uint64_t key2, uint32_t nonce1,
                                      uint32_t nonce2) {
    const std::string hex =
        One(absl::StrFormat("hmac:%016x:%016x:%08x:%08x", key1, key2, nonce1, nonce2));
    std::array<uint8_t, 32> mac{};
    if (hex.size() != 64) {
      ADD_FAILURE() << "bad HMAC from python3: '" << hex << "'";
      return mac;
    }
    for (size_t i = 0; i < mac.size(); ++i) {
      mac[i] = static_cast<uint8_t>(ParseUint(hex.substr(2 * i, 2), 16));
    }
    return mac;
  }
  // RFC 8684 §3.2: the SYN/ACK carries the leftmost 64 bits of the responder's HMAC, where the
  // responder (the sender) puts its own key and nonce first.
  static uint64_t SynAckHmac(uint64_t sender_key, uint64_t receiver_key, uint32_t sender_nonce,
                             uint32_t receiver_nonce) {
    const auto mac = Hmac(sender_key, receiver_key, sender_nonce, receiver_nonce);
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | mac[i];
    return v;
  }
  // RFC 8684 §3.2: the third ACK carries the leftmost 160 bits of the initiator's HMAC.
  static std::array<uint8_t, 20> AckHmac(uint64_t sender_key, uint64_t receiver_key,
                                         uint32_t sender_nonce, uint32_t receiver_nonce) {
    const auto mac = Hmac(sender_key, receiver_key, sender_nonce, receiver_nonce);
    std::array<uint8_t, 20> out{};
    for (size_t i = 0; i < out.size(); ++i) out[i] = mac[i];
    return out;
  }
  static uint16_t DssChecksum(uint64_t dsn, uint32_t relative_ssn, uint16_t len,
                              const std::vector<uint8_t>& payload) {
    std::string hex = payload.empty() ? "-" : "";
    for (uint8_t b : payload) absl::StrAppendFormat(&hex, "%02x", b);
    return static_cast<uint16_t>(
        ParseUint(One(absl::StrFormat("csum:%016x:%u:%u:%s", dsn, relative_ssn, len, hex)), 10));
  }

 private:
  // An unsigned number in `base`; 0 (and a test failure) for anything else.
  static uint64_t ParseUint(const std::string& s, int base) {
    uint64_t v = 0;
    for (char c : s) {
      const int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                           : 99;
      if (d >= base) {
        ADD_FAILURE() << "bad number from python3: '" << s << "'";
        return 0;
      }
      v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
    }
    return v;
  }
};

// ---- Segments -------------------------------------------------------------------------------

// A segment the peer sends, built field by field; it owns its payload and options.
class PeerSeg {
 public:
  PeerSeg& Flags(uint8_t f) { r_.flags = f; return *this; }
  PeerSeg& SeqN(uint32_t s) { r_.seq = SeqNum32(s); return *this; }
  PeerSeg& AckN(uint32_t a) { r_.ack = SeqNum32(a); r_.flags |= kAck; return *this; }
  PeerSeg& Win(uint16_t w) { r_.window = w; return *this; }
  PeerSeg& Mss(uint16_t m) { r_.options.mss = m; return *this; }
  PeerSeg& SackOk() { r_.options.sack_permitted = true; return *this; }
  PeerSeg& Wscale(std::optional<uint8_t> s) { r_.options.window_scale = s; return *this; }
  PeerSeg& Data(std::vector<uint8_t> b) { payload_ = std::move(b); return *this; }
  // Appends one MPTCP option, encoded by the wire codec.
  template <typename T>
  PeerSeg& Mptcp(const T& option) {
    std::array<uint8_t, 40> buf{};
    auto n = wire::EmitMptcpOption(option, buf);
    EXPECT_TRUE(n.ok()) << "cannot encode " << option;
    if (n.ok()) {
      EXPECT_TRUE(r_.options.AddMptcpOption(std::span<const uint8_t>(buf.data(), *n)))
          << "no room for " << option;
    }
    return *this;
  }

  // The repr as sent on `path` (the receiver's view: local first).
  wire::TcpRepr Repr(const FourTuple& path) const {
    wire::TcpRepr r = r_;
    r.src_port = path.remote.port;
    r.dst_port = path.local.port;
    r.payload = payload_;
    return r;
  }
  // The bytes on the wire, with the checksum for the path's pseudo-header.
  std::vector<uint8_t> Bytes(const FourTuple& path) const {
    const wire::TcpRepr r = Repr(path);
    std::vector<uint8_t> out(r.EncodedLength());
    auto n = r.Emit(out, path.remote.ip, path.local.ip);
    EXPECT_TRUE(n.ok()) << "cannot emit " << r;
    out.resize(n.ok() ? *n : 0);
    return out;
  }

 private:
  wire::TcpRepr r_;
  std::vector<uint8_t> payload_;
};

// One segment the connection emitted, parsed back.
struct Sent {
  FourTuple path;
  SubflowId subflow = 0;
  wire::TcpRepr tcp;  // payload cleared: see `payload`
  std::vector<uint8_t> payload;
  std::vector<wire::MptcpOption> mptcp;  // every MPTCP option, in order
  std::vector<size_t> mptcp_lengths;     // their lengths on the wire

  template <typename T>
  size_t Count() const {
    size_t n = 0;
    for (const auto& o : mptcp) n += std::holds_alternative<T>(o) ? 1 : 0;
    return n;
  }
  // The only option of type T (nullopt if none or several).
  template <typename T>
  std::optional<T> Get() const {
    if (Count<T>() != 1) return std::nullopt;
    for (const auto& o : mptcp) {
      if (const T* v = std::get_if<T>(&o)) return *v;
    }
    return std::nullopt;
  }
  template <typename T>
  size_t LengthOf() const {
    for (size_t i = 0; i < mptcp.size(); ++i) {
      if (std::holds_alternative<T>(mptcp[i])) return mptcp_lengths[i];
    }
    return 0;
  }
  bool has(uint8_t flag) const { return tcp.has_flag(flag); }
  std::string ToString() const {
    wire::TcpRepr r = tcp;
    r.payload = payload;
    std::string s = path.ToString() + " " + r.ToString();
    for (const auto& o : mptcp) s += " [" + wire::ToString(o) + "]";
    return s;
  }
};

inline std::ostream& operator<<(std::ostream& os, const Sent& s) { return os << s.ToString(); }

// Parses one emitted segment; checks its checksum against `path` (local first).
inline std::optional<Sent> ParseSent(const FourTuple& path, SubflowId subflow,
                                     std::span<const uint8_t> bytes) {
  EXPECT_TRUE(wire::VerifyTcpChecksum(path.local.ip, path.remote.ip, bytes))
      << "bad TCP checksum on a segment sent on " << path;
  auto parsed = wire::TcpRepr::Parse(bytes);
  EXPECT_TRUE(parsed.ok()) << parsed.error();
  if (!parsed.ok()) return std::nullopt;
  Sent s;
  s.path = path;
  s.subflow = subflow;
  s.payload.assign(parsed->payload.begin(), parsed->payload.end());
  s.tcp = *parsed;
  s.tcp.payload = {};
  EXPECT_EQ(s.tcp.src_port, path.local.port);
  EXPECT_EQ(s.tcp.dst_port, path.remote.port);
  for (std::span<const uint8_t> o : s.tcp.options.mptcp_options()) {
    auto opt = wire::ParseMptcpOption(o);
    EXPECT_TRUE(opt.ok()) << "unparseable MPTCP option sent: " << opt.error();
    if (!opt.ok()) continue;
    s.mptcp.push_back(*opt);
    s.mptcp_lengths.push_back(o.size());
  }
  return s;
}

// A Connection under test, seen from its peer.
class ConnHarness {
 public:
  ConnHarness(const ConnectionConfig& config, Role role, uint64_t key, uint64_t seed)
      : conn_(config, role, key, seed) {}

  Connection& conn() { return conn_; }
  Connection* operator->() { return &conn_; }
  // The latest time the conversation reached (application calls between segments use it).
  Timestamp now() const { return now_; }

  // The peer's segment, arriving on `path` (the connection's view) at `now`.
  Disposition Send(Timestamp now, const FourTuple& path, const PeerSeg& seg) {
    now_ = now;
    const std::vector<uint8_t> bytes = seg.Bytes(path);
    return conn_.OnSegment(now, path, bytes);
  }
  Disposition AcceptSyn(Timestamp now, const FourTuple& path, const PeerSeg& syn) {
    now_ = now;
    return conn_.AcceptSyn(now, path, syn.Repr(path));
  }
  Disposition AcceptJoin(Timestamp now, const FourTuple& path, const PeerSeg& syn,
                         const wire::MpJoinSyn& join) {
    now_ = now;
    return conn_.AcceptJoin(now, path, syn.Repr(path), join);
  }

  // Runs the timers due at `now`, then takes the next segment, parsed. NextDeadline() must
  // agree: Now() exactly when a segment comes out.
  std::optional<Sent> Poll(Timestamp now) {
    now_ = now;
    if (conn_.NextTimer() <= now) conn_.OnTimeout(now);
    const PollAt said = conn_.NextDeadline();
    auto t = conn_.PollTransmit(now, buf_);
    EXPECT_NE(t.status(), TransmitResult::Status::kBufferTooSmall);
    EXPECT_EQ(said.now(), static_cast<bool>(t))
        << "NextDeadline said " << said << " at " << now << " but PollTransmit "
        << (t ? "sent" : "had nothing");
    if (!t) {
      EXPECT_FALSE(conn_.NextDeadline().now()) << "nothing sent, yet NextDeadline says now";
      return std::nullopt;
    }
    return ParseSent(t->path, t->subflow, std::span<const uint8_t>(buf_.data(), t->len));
  }
  // Everything sendable at `now`.
  std::vector<Sent> PollAll(Timestamp now) {
    std::vector<Sent> v;
    for (int guard = 0; guard < 1000; ++guard) {
      auto s = Poll(now);
      if (!s) break;
      v.push_back(*s);
    }
    return v;
  }

  std::vector<Event> Events() {
    std::vector<Event> v;
    while (auto e = conn_.PollEvent()) v.push_back(*e);
    return v;
  }

 private:
  Connection conn_;
  Timestamp now_ = Timestamp::Zero();
  std::array<uint8_t, 2048> buf_{};
};

inline bool HasEvent(const std::vector<Event>& events, EventType type) {
  for (const Event& e : events) {
    if (e.type == type) return true;
  }
  return false;
}

// A payload of `n` bytes: the start of the project's one stream generator (io::StreamPattern)
// under `seed`, so payloads with different seeds differ.
inline std::vector<uint8_t> Pattern(size_t n, uint8_t seed = 3) {
  std::vector<uint8_t> v(n);
  io::StreamPattern(seed).Fill(0, v);
  return v;
}

// ---- An established server connection, seen from its client ------------------------------

// The client's initial sequence numbers on path 1 and on the joined path 2.
inline constexpr uint32_t kClientIss = 1000;
inline constexpr uint32_t kClientJoinIss = 7000;

// Nothing is sent at `now` (timers due by then run first).
inline void ExpectNothing(ConnHarness& c, Timestamp now, const char* what = "") {
  const std::optional<Sent> s = c.Poll(now);
  EXPECT_FALSE(s.has_value()) << what << " at " << now << ": unexpected " << *s;
}

// A DSS carrying only a 64-bit DATA_ACK.
inline wire::Dss AckDss(Dsn64 data_ack) { return wire::Dss{.data_ack = wire::DataAck{data_ack, true}}; }
// A DSS with a 64-bit DATA_ACK and a 64-bit mapping.
inline wire::Dss MapDss(Dsn64 data_ack, Dsn64 dsn, uint32_t ssn, uint16_t len) {
  return wire::Dss{.data_ack = wire::DataAck{data_ack, true},
                   .mapping = wire::DssMapping{.dsn = dsn, .dsn_is_64bit = true,
                                               .subflow_seq = ssn, .data_len = len}};
}

// `wscale`: the client offers window scaling with this shift (RFC 7323 §2.2).
inline PeerSeg ClientSyn(std::optional<uint8_t> wscale = std::nullopt) {
  return PeerSeg().Flags(kSyn).SeqN(kClientIss).Win(30000).Mss(1460).SackOk().Wscale(wscale);
}

// Server: the MP_CAPABLE handshake on path 1, SYN at 0, third ACK at 50 ms, and our immediate
// DSS ACK. Returns our ISS.
inline uint32_t ServerHandshake(ConnHarness& c, std::optional<uint8_t> wscale = std::nullopt) {
  c.AcceptSyn(Ms(0), ServerPath1(), ClientSyn(wscale).Mptcp(wire::MpCapable{.version = 1, .flags = wire::MpCapable::kFlagH}));
  auto synack = c.Poll(Ms(0));
  EXPECT_TRUE(synack);
  if (!synack) return 0;
  const uint32_t siss = synack->tcp.seq.value();
  c.Send(Ms(50), ServerPath1(),
         PeerSeg().SeqN(kClientIss + 1).AckN(siss + 1).Win(30000).Mptcp(
             wire::MpCapable{.version = 1, .flags = wire::MpCapable::kFlagH, .sender_key = kClientKey,
                       .receiver_key = kServerKey}));
  EXPECT_TRUE(c->fully_established());
  for (const Sent& s : c.PollAll(Ms(50))) {
    EXPECT_TRUE(s.payload.empty() && s.Count<wire::Dss>() == 1) << s;
  }
  c.Events();
  return siss;
}

// The server above, then the client's join SYN on path 2 at 100 ms: our ISSs, the SYN-ACK's
// MP_JOIN and our nonce.
struct JoinResponder {
  uint32_t siss1 = 0;
  uint32_t siss2 = 0;
  uint32_t nonce = 0;
  wire::MpJoinSynAck synack;
};

inline constexpr uint32_t kClientNonce = 0x01020304;

inline JoinResponder ServerJoin(ConnHarness& c, std::optional<uint8_t> wscale = std::nullopt) {
  JoinResponder r;
  r.siss1 = ServerHandshake(c, wscale);

  const wire::MpJoinSyn join{.backup = false, .address_id = 2, .receiver_token = kServerToken,
                       .sender_nonce = kClientNonce};
  const Disposition d = c.AcceptJoin(
      Ms(100), ServerPath2(),
      PeerSeg().Flags(kSyn).SeqN(kClientJoinIss).Win(30000).Mss(1460).SackOk().Wscale(wscale).Mptcp(
          join),
      join);
  EXPECT_TRUE(d.accepted()) << d.reason;
  auto sa = c.Poll(Ms(100));
  EXPECT_TRUE(sa);
  if (!sa) return r;
  EXPECT_EQ(sa->path, ServerPath2());
  EXPECT_EQ(sa->tcp.flags, kSyn | kAck);
  EXPECT_EQ(sa->tcp.ack.value(), kClientJoinIss + 1);
  EXPECT_EQ(sa->mptcp.size(), 1u) << *sa;
  EXPECT_EQ(sa->LengthOf<wire::MpJoinSynAck>(), 16u);
  r.siss2 = sa->tcp.seq.value();
  if (auto j = sa->Get<wire::MpJoinSynAck>()) {
    r.synack = *j;
    r.nonce = j->sender_nonce;
  }
  return r;
}


}  // namespace mptcp::testing

#endif  // MPTCP_TESTING_CONNECTION_TEST_UTIL_H_
