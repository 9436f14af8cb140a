// The wall-clock driver of an mptcp::Endpoint: one thread, epoll over the packet devices (and
// any file descriptors the application adds), a timerfd armed at Endpoint::NextDeadline(), and
// CLOCK_MONOTONIC as the clock. This is the only place in the library that reads a clock.
//
// One iteration: wait (epoll; not at all when the endpoint or the application has work now),
// read a bounded batch of packets from each readable device into Endpoint::OnPacket, fire the
// endpoint's timers when due, call the application's hook, then write what
// Endpoint::PollTransmit produces (bounded) to the device that owns each packet's source
// address. Several devices (or several addresses on one) give several paths. When every
// device offloads segmentation (PacketDevice::gso_max_segments), the endpoint may hand out
// GSO super-segments, which go to the device whole (PacketDevice::WriteSegments).
//
// Run() returns on Stop() (from any thread), on a device error (device gone), or when a bound
// in EventLoopOptions is reached; it never blocks longer than the run_for bound.
#ifndef MPTCP_IO_EVENT_LOOP_H_
#define MPTCP_IO_EVENT_LOOP_H_

#include <atomic>
#include <optional>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/packet_device.h"
#include "io/pcap_writer.h"
#include "mptcp/address.h"
#include "mptcp/endpoint.h"
#include "mptcp/time.h"

namespace mptcp::io {

struct EventLoopOptions {
  // Packets read from one device per iteration before the others (and the output) get a turn.
  size_t max_reads_per_device = 64;
  // Packets written per iteration; more waiting means the next wait does not block.
  size_t max_writes = 128;
  // Run() returns kDeadlineExceeded after this long (Infinite: no bound).
  Duration run_for = Duration::Infinite();
  // ... or after this many iterations (0: no bound).
  uint64_t max_iterations = 0;
  // The hook runs at least this often even when nothing happens (application timeouts,
  // progress checks). Infinite: only when something happens.
  Duration max_idle = Duration::Infinite();
};

struct EventLoopStats {
  uint64_t iterations = 0;
  uint64_t waits = 0;          // epoll_wait calls that could block
  uint64_t timer_fires = 0;    // Endpoint::OnTimeout calls
  uint64_t packets_in = 0;
  uint64_t packets_out = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t super_segments_out = 0;  // GSO packets among packets_out
  uint64_t write_drops = 0;    // a device could not take a packet (kUnavailable)
  uint64_t invalid_out = 0;    // a packet a device rejected as invalid
};

class EventLoop {
 public:
  static absl::StatusOr<std::unique_ptr<EventLoop>> Create(Endpoint* endpoint,
                                                           const EventLoopOptions& options = {});
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // CLOCK_MONOTONIC as a Timestamp: the clock every Endpoint call gets.
  static Timestamp MonotonicNow();
  Timestamp Now() const { return MonotonicNow(); }

  // Reads packets from `device` and sends through it the packets whose source address is one
  // of `sources`. A device with no sources is the default route for packets no other device
  // claims. The device must outlive the loop.
  absl::Status AddDevice(PacketDevice* device, std::vector<IpAddress> sources);

  // Calls `on_ready(revents)` when `fd` polls ready for `events` (EPOLLIN, EPOLLOUT, ...),
  // level-triggered. kInvalidArgument for files epoll cannot watch (regular files): read
  // those from the hook and call RunSoon().
  absl::Status WatchFd(int fd, uint32_t events, std::function<void(uint32_t)> on_ready);
  absl::Status ModifyFd(int fd, uint32_t events);
  void UnwatchFd(int fd);

  // Called once per iteration after input and timers and before output: the application
  // reads, writes and reacts to events here.
  void SetHook(std::function<void(Timestamp now)> hook) { hook_ = std::move(hook); }
  // Every packet read or written is also written here (may be null).
  void SetCapture(PcapWriter* capture) { capture_ = capture; }

  // The next wait does not block (the hook has more to do).
  void RunSoon() { run_soon_ = true; }
  // Makes Run() return OK at its next iteration; safe from any thread and signal-safe.
  void Stop();

  absl::Status Run();

  Endpoint& endpoint() { return *endpoint_; }
  const EventLoopStats& stats() const { return stats_; }

 private:
  struct Device {
    PacketDevice* device;
    bool readable = false;
  };
  struct Watch {
    int fd;
    std::function<void(uint32_t)> on_ready;
  };

  EventLoop(Endpoint* endpoint, const EventLoopOptions& options, int epoll_fd, int timer_fd,
            int wake_fd);
  absl::Status Wait(Timestamp now);
  absl::Status ReadDevices(Timestamp now);
  absl::Status Flush(Timestamp now);
  // The device owning the source address `source` (else the default device).
  PacketDevice* DeviceFor(const IpAddress& source);
  absl::Status ArmTimer(Timestamp deadline);

  Endpoint* endpoint_;
  EventLoopOptions options_;
  int epoll_fd_;
  int timer_fd_;
  int wake_fd_;
  Timestamp timer_armed_ = Timestamp::Never();
  std::vector<Device> devices_;
  absl::flat_hash_map<IpAddress, PacketDevice*> by_source_;
  PacketDevice* default_device_ = nullptr;
  std::vector<std::unique_ptr<Watch>> watches_;
  std::function<void(Timestamp)> hook_;
  PcapWriter* capture_ = nullptr;
  bool run_soon_ = false;
  Timestamp started_;
  Timestamp last_hook_;
  std::atomic<bool> stop_{false};
  std::vector<uint8_t> buf_;
  EventLoopStats stats_;
};

}  // namespace mptcp::io

#endif  // MPTCP_IO_EVENT_LOOP_H_
