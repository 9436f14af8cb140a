// Initial sequence numbers per RFC 6528 §3: ISN = M + F(localip, localport, remoteip,
// remoteport, secretkey), where M is a 4-microsecond timer and F a keyed hash (here SHA-256
// over the secret and the 4-tuple). The secret comes from the caller's seeded Random.
#ifndef MPTCP_TCP_ISN_H_
#define MPTCP_TCP_ISN_H_

#include <array>
#include <cstdint>

#include "mptcp/address.h"
#include "mptcp/crypto/sha256.h"
#include "mptcp/random.h"
#include "mptcp/seq.h"
#include "mptcp/time.h"

namespace mptcp::tcp {

class IsnGenerator {
 public:
  explicit IsnGenerator(Random& rng) {
    for (auto& w : secret_) w = rng.Next();
  }

  SeqNum32 Generate(Timestamp now, const FourTuple& tuple) const {
    // F(): the secret first, so the hash of the tuple alone reveals nothing (RFC 6528 §3).
    uint8_t buf[16 + 2 * (1 + 16 + 2)];
    size_t n = 0;
    for (uint64_t w : secret_) {
      for (int i = 7; i >= 0; --i) buf[n++] = static_cast<uint8_t>(w >> (8 * i));
    }
    for (const SocketAddress* a : {&tuple.local, &tuple.remote}) {
      buf[n++] = static_cast<uint8_t>(a->ip.family());
      for (size_t i = 0; i < a->ip.size(); ++i) buf[n++] = a->ip.data()[i];
      buf[n++] = static_cast<uint8_t>(a->port >> 8);
      buf[n++] = static_cast<uint8_t>(a->port);
    }
    const auto digest = crypto::Sha256::Hash(std::span<const uint8_t>(buf, n));
    const uint32_t f = (uint32_t{digest[0]} << 24) | (uint32_t{digest[1]} << 16) |
                       (uint32_t{digest[2]} << 8) | digest[3];
    // M: the 4 µs clock of RFC 6528 §3 (wraps every ~4.77 hours, by design).
    const uint32_t m = static_cast<uint32_t>(now.nanos() / 4000);
    return SeqNum32(m + f);
  }

 private:
  std::array<uint64_t, 2> secret_{};
};

}  // namespace mptcp::tcp

#endif  // MPTCP_TCP_ISN_H_
