// A pass-through PacketFilter that records every packet crossing it, in either direction, to
// an io::PcapWriter stamped with the simulated time: what tcpdump would show at that point
// of the path. Several taps may share one writer (one capture of every path). Records are in
// the order packets cross taps, which is simulated-time order, ties in event order.
#ifndef MPTCP_IO_SIM_PCAP_TAP_H_
#define MPTCP_IO_SIM_PCAP_TAP_H_

#include <string>
#include <utility>

#include "io/pcap_writer.h"
#include "io/sim/packet.h"
#include "io/sim/packet_filter.h"
#include "io/sim/simulator.h"
#include "mptcp/time.h"

namespace mptcp::sim {

class PcapTap : public PacketFilter {
 public:
  // `writer` is the caller's and must outlive the tap. `epoch` is added to simulated time in
  // the records (pcap time is seconds since 1970; zero shows the run starting at the epoch).
  PcapTap(Simulator& sim, io::PcapWriter* writer, std::string name = "tap",
          Duration epoch = Duration::Zero())
      : PacketFilter(std::move(name)), sim_(sim), writer_(writer), epoch_(epoch) {}

  // Record only one direction, or both (the default).
  void set_directions(Directions d) { directions_ = d; }

 protected:
  void Process(Direction dir, Packet packet) override {
    if (writer_ != nullptr && Covers(directions_, dir)) {
      writer_->WritePacket(sim_.now() + epoch_, packet.bytes);
    }
    Emit(dir, std::move(packet));
  }

 private:
  Simulator& sim_;
  io::PcapWriter* writer_;
  Duration epoch_;
  Directions directions_ = Directions::kBoth;
};

}  // namespace mptcp::sim

#endif  // MPTCP_IO_SIM_PCAP_TAP_H_
