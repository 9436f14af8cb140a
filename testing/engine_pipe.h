// A two-engine pipe for tests: a client and a server TcpEngine joined by two one-way links with
// seeded loss, delay, jitter-style reordering and an optional rate, all on a virtual clock.
// Each side writes its direction of the seeded stream io::StreamPattern(seed, dir) and checks
// every byte it reads. Used by the engine pipe test; the same seed gives the same run.
#ifndef MPTCP_TESTING_ENGINE_PIPE_H_
#define MPTCP_TESTING_ENGINE_PIPE_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "io/stream_pattern.h"
#include "mptcp/random.h"
#include "mptcp/tcp/engine.h"

namespace mptcp::tcp::testing {

struct PipeLinkConfig {
  Duration delay = Duration::Millis(10);  // one-way propagation delay
  double loss = 0.0;                       // independent drop probability per packet
  double reorder = 0.0;                    // probability a packet is held back extra
  Duration reorder_extra = Duration::Millis(3);
  uint64_t rate_bps = 0;                   // 0: no serialization delay
};

struct PipeConfig {
  TcpConfig tcp;
  PipeLinkConfig forward;   // client -> server
  PipeLinkConfig backward;  // server -> client
  size_t client_bytes = 0;  // bytes the client sends
  size_t server_bytes = 0;  // bytes the server sends
  uint64_t seed = 1;
  Duration deadline = Duration::Seconds(3600);  // simulated time limit
  uint64_t max_steps = 50'000'000;              // event limit
};

struct PipeResult {
  bool ok = false;
  std::string error;           // why not ok, with the seed
  Duration elapsed;            // simulated time to both-sides-closed
  uint64_t packets = 0;
  uint64_t dropped = 0;
  TcpMib client_mib, server_mib;
};

class EnginePipe {
 public:
  explicit EnginePipe(const PipeConfig& cfg)
      : cfg_(cfg),
        rng_(cfg.seed),
        client_(cfg.tcp, ClientTuple(), SeqNum32(rng_.Next32()), rng_.Next32()),
        server_(cfg.tcp, ClientTuple().Reversed(), SeqNum32(rng_.Next32()), rng_.Next32()) {}

  static FourTuple ClientTuple() {
    return FourTuple{{IpAddress::V4(192, 0, 2, 1), 40000}, {IpAddress::V4(198, 51, 100, 1), 80}};
  }

  PipeResult Run() {
    PipeResult res;
    server_.Listen();
    client_.Connect(now_);
    Side sides[2] = {{&client_, 0, cfg_.client_bytes}, {&server_, 1, cfg_.server_bytes}};
    uint64_t steps = 0;
    const Timestamp deadline = Timestamp::Zero() + cfg_.deadline;
    while (true) {
      if (++steps > cfg_.max_steps) return Fail(res, "step limit");
      for (Side& s : sides) {
        if (!Pump(s, res)) return res;
      }
      if (Done(sides)) break;
      // Next event: a delivery or a timer.
      Timestamp next =
          PollAt::Earliest(client_.NextDeadline(), server_.NextDeadline()).WakeAt(now_);
      if (!queue_.empty()) next = Earliest(next, queue_.top().at);
      if (next < now_) next = now_;
      if (next.IsNever()) return Fail(res, "stalled: nothing scheduled");
      if (next > now_) now_ = next;
      if (now_ > deadline) return Fail(res, "simulated deadline passed");
      while (!queue_.empty() && queue_.top().at <= now_) {
        InFlight p = queue_.top();
        queue_.pop();
        TcpEngine& dst = p.to_server ? server_ : client_;
        dst.OnSegmentBytes(now_, p.bytes);
      }
      for (TcpEngine* e : {&client_, &server_}) {
        if (e->NextDeadline().DueBy(now_)) e->OnTimeout(now_);
      }
    }
    res.ok = true;
    res.elapsed = now_ - Timestamp::Zero();
    res.client_mib = client_.mib();
    res.server_mib = server_.mib();
    return res;
  }

  TcpEngine& client() { return client_; }
  TcpEngine& server() { return server_; }

 private:
  struct Side {
    TcpEngine* engine;
    int dir;
    size_t to_send;
    size_t written = 0;
    size_t read = 0;
    bool closed_write = false;
  };
  struct InFlight {
    Timestamp at;
    uint64_t order;  // FIFO among equal times
    bool to_server;
    std::vector<uint8_t> bytes;
    bool operator<(const InFlight& o) const {
      return at != o.at ? at > o.at : order > o.order;  // min-heap
    }
  };

  // Moves application data in and out of one side, and its segments onto the link.
  bool Pump(Side& s, PipeResult& res) {
    TcpEngine& e = *s.engine;
    const size_t peer_bytes = s.dir == 0 ? cfg_.server_bytes : cfg_.client_bytes;
    // Read and verify.
    while (e.readable() > 0) {
      uint8_t buf[16384];
      const size_t n = e.Read(buf);
      uint8_t want[16384];
      io::StreamPattern(cfg_.seed, 1 - s.dir).Fill(s.read, std::span<uint8_t>(want, n));
      if (std::memcmp(buf, want, n) != 0) {
        size_t i = 0;
        while (buf[i] == want[i]) ++i;
        Fail(res, absl::StrFormat("%s read byte %u: got %u want %u",
                                  s.dir == 0 ? "client" : "server", s.read + i, buf[i], want[i]));
        return false;
      }
      s.read += n;
      if (s.read > peer_bytes) {
        Fail(res, "read more bytes than the peer sent");
        return false;
      }
    }
    // Write.
    if (e.state() == TcpState::kEstablished || e.state() == TcpState::kCloseWait) {
      while (s.written < s.to_send && e.send_buffer_free() > 0) {
        uint8_t buf[16384];
        const size_t n = std::min({sizeof(buf), s.to_send - s.written, e.send_buffer_free()});
        io::StreamPattern(cfg_.seed, s.dir).Fill(s.written, std::span<uint8_t>(buf, n));
        const size_t w = e.Write(std::span<const uint8_t>(buf, n));
        s.written += w;
        if (w < n) break;
      }
      if (s.written == s.to_send && !s.closed_write) {
        e.Close(now_);
        s.closed_write = true;
      }
    }
    if (e.state() == TcpState::kClosed && e.close_reason() != CloseReason::kNormal) {
      Fail(res, absl::StrFormat("%s closed: %s", s.dir == 0 ? "client" : "server",
                                CloseReasonName(e.close_reason())));
      return false;
    }
    // Transmit.
    const bool to_server = s.dir == 0;
    const PipeLinkConfig& link = to_server ? cfg_.forward : cfg_.backward;
    Timestamp& link_free = to_server ? forward_free_ : backward_free_;
    for (int guard = 0; guard < 100000; ++guard) {
      uint8_t buf[2048];
      auto n = e.PollTransmit(now_, buf);
      if (!n) break;
      ++res.packets;
      if (rng_.Bernoulli(link.loss)) {
        ++res.dropped;
        continue;
      }
      Timestamp depart = now_;
      if (link.rate_bps > 0) {
        depart = std::max(now_, link_free) +
                 Duration::Nanos(static_cast<int64_t>((*n + 40) * 8 * 1'000'000'000ULL / link.rate_bps));
        link_free = depart;
      }
      Timestamp at = depart + link.delay;
      if (rng_.Bernoulli(link.reorder)) at = at + link.reorder_extra;
      queue_.push(InFlight{at, order_++, to_server, std::vector<uint8_t>(buf, buf + *n)});
    }
    return true;
  }

  bool Done(const Side* sides) const {
    for (int i = 0; i < 2; ++i) {
      const Side& s = sides[i];
      const size_t peer_bytes = i == 0 ? cfg_.server_bytes : cfg_.client_bytes;
      if (s.read != peer_bytes || !s.engine->eof() || !s.closed_write) return false;
      // Both FINs acknowledged: CLOSED (LAST-ACK side) or TIME-WAIT (the other).
      const TcpState st = s.engine->state();
      if (st != TcpState::kClosed && st != TcpState::kTimeWait) return false;
    }
    return true;
  }

  PipeResult& Fail(PipeResult& res, const std::string& why) {
    res.ok = false;
    res.error = absl::StrFormat(
        "seed %u at %s: %s (client %s, server %s)", cfg_.seed,
        absl::StrFormat("%.3fs", (now_ - Timestamp::Zero()).seconds()), why,
        std::string(TcpStateName(client_.state())), std::string(TcpStateName(server_.state())));
    res.client_mib = client_.mib();
    res.server_mib = server_.mib();
    return res;
  }

  PipeConfig cfg_;
  Random rng_;
  TcpEngine client_;
  TcpEngine server_;
  Timestamp now_ = Timestamp::Zero();
  Timestamp forward_free_, backward_free_;
  std::priority_queue<InFlight> queue_;
  uint64_t order_ = 0;
};

}  // namespace mptcp::tcp::testing

#endif  // MPTCP_TESTING_ENGINE_PIPE_H_
