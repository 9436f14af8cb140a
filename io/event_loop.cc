#include "io/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include "absl/strings/str_format.h"

namespace mptcp::io {
namespace {

// epoll_data tags: the kind in the high half, an index or fd in the low half.
enum Tag : uint64_t { kTimer = 1, kWake = 2, kDevice = 3, kWatch = 4 };
uint64_t MakeTag(Tag kind, uint32_t value) { return (uint64_t{kind} << 32) | value; }

absl::Status ErrnoStatus(const char* what) {
  const int err = errno;
  return absl::InternalError(absl::StrFormat("%s: %s (errno %d)", what, std::strerror(err), err));
}

}  // namespace

Timestamp EventLoop::MonotonicNow() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return Timestamp::FromNanos(int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec);
}

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create(Endpoint* endpoint,
                                                             const EventLoopOptions& options) {
  if (endpoint == nullptr) return absl::InvalidArgumentError("EventLoop needs an endpoint");
  if (options.max_reads_per_device == 0 || options.max_writes == 0) {
    return absl::InvalidArgumentError("EventLoop batch sizes must be positive");
  }
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return ErrnoStatus("epoll_create1");
  const int tfd = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (tfd < 0) {
    auto st = ErrnoStatus("timerfd_create");
    ::close(ep);
    return st;
  }
  const int wfd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wfd < 0) {
    auto st = ErrnoStatus("eventfd");
    ::close(ep);
    ::close(tfd);
    return st;
  }
  std::unique_ptr<EventLoop> loop(new EventLoop(endpoint, options, ep, tfd, wfd));
  for (auto [fd, tag] : {std::pair{tfd, kTimer}, std::pair{wfd, kWake}}) {
    struct epoll_event ev {};
    ev.events = EPOLLIN;
    ev.data.u64 = MakeTag(tag, 0);
    if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) return ErrnoStatus("epoll_ctl");
  }
  return loop;
}

EventLoop::EventLoop(Endpoint* endpoint, const EventLoopOptions& options, int epoll_fd,
                     int timer_fd, int wake_fd)
    : endpoint_(endpoint),
      options_(options),
      epoll_fd_(epoll_fd),
      timer_fd_(timer_fd),
      wake_fd_(wake_fd),
      buf_(65536 + 64) {}

EventLoop::~EventLoop() {
  ::close(epoll_fd_);
  ::close(timer_fd_);
  ::close(wake_fd_);
}

absl::Status EventLoop::AddDevice(PacketDevice* device, std::vector<IpAddress> sources) {
  if (device == nullptr) return absl::InvalidArgumentError("null device");
  for (const IpAddress& a : sources) {
    if (by_source_.contains(a)) {
      return absl::AlreadyExistsError("another device already sends for " + a.ToString());
    }
  }
  struct epoll_event ev {};
  ev.events = EPOLLIN;
  ev.data.u64 = MakeTag(kDevice, static_cast<uint32_t>(devices_.size()));
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, device->fd(), &ev) < 0) {
    return ErrnoStatus("epoll_ctl(device)");
  }
  // A device may hold packets already (level-triggered epoll would tell us too).
  devices_.push_back(Device{device, true});
  for (const IpAddress& a : sources) by_source_[a] = device;
  if (sources.empty() && default_device_ == nullptr) default_device_ = device;
  return absl::OkStatus();
}

absl::Status EventLoop::WatchFd(int fd, uint32_t events, std::function<void(uint32_t)> on_ready) {
  struct epoll_event ev {};
  ev.events = events;
  ev.data.u64 = MakeTag(kWatch, static_cast<uint32_t>(fd));
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
    if (errno == EPERM) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "fd %d cannot be polled (a regular file?): read it from the hook instead", fd));
    }
    return ErrnoStatus("epoll_ctl(watch)");
  }
  watches_.push_back(std::make_unique<Watch>(Watch{fd, std::move(on_ready)}));
  return absl::OkStatus();
}

absl::Status EventLoop::ModifyFd(int fd, uint32_t events) {
  struct epoll_event ev {};
  ev.events = events;
  ev.data.u64 = MakeTag(kWatch, static_cast<uint32_t>(fd));
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) < 0) return ErrnoStatus("epoll_ctl(mod)");
  return absl::OkStatus();
}

void EventLoop::UnwatchFd(int fd) {
  (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  std::erase_if(watches_, [fd](const std::unique_ptr<Watch>& w) { return w->fd == fd; });
}

void EventLoop::Stop() {
  stop_.store(true, std::memory_order_relaxed);
  const uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof(one));
}

absl::Status EventLoop::ArmTimer(Timestamp deadline) {
  if (deadline == timer_armed_) return absl::OkStatus();
  struct itimerspec its {};
  if (!deadline.IsNever()) {
    // it_value 0 would disarm: an already-due deadline is handled without waiting anyway.
    const int64_t ns = std::max<int64_t>(deadline.nanos(), 1);
    its.it_value.tv_sec = ns / 1'000'000'000;
    its.it_value.tv_nsec = ns % 1'000'000'000;
  }
  if (::timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &its, nullptr) < 0) {
    return ErrnoStatus("timerfd_settime");
  }
  timer_armed_ = deadline;
  return absl::OkStatus();
}

absl::Status EventLoop::Wait(Timestamp now) {
  const PollAt endpoint_deadline = endpoint_->NextDeadline();
  const Timestamp deadline =
      Earliest(endpoint_deadline.WakeAt(now), last_hook_ + options_.max_idle);
  bool busy = run_soon_ || endpoint_deadline.DueBy(now) || deadline <= now;
  for (const Device& d : devices_) busy |= d.readable;
  run_soon_ = false;
  int timeout_ms = 0;
  if (!busy) {
    if (auto st = ArmTimer(deadline); !st.ok()) return st;
    ++stats_.waits;
    timeout_ms = -1;
    if (!options_.run_for.IsInfinite()) {
      const Duration left = (started_ + options_.run_for) - now;
      timeout_ms = static_cast<int>(
          std::clamp<int64_t>(left.millis() + 1, 0, std::numeric_limits<int>::max()));
    }
  }
  struct epoll_event events[32];
  const int n = ::epoll_wait(epoll_fd_, events, 32, timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return absl::OkStatus();
    return ErrnoStatus("epoll_wait");
  }
  for (int i = 0; i < n; ++i) {
    const uint64_t tag = events[i].data.u64;
    const uint32_t value = static_cast<uint32_t>(tag);
    switch (tag >> 32) {
      case kTimer: {
        uint64_t expirations;
        (void)!::read(timer_fd_, &expirations, sizeof(expirations));
        timer_armed_ = Timestamp::Never();
        break;
      }
      case kWake: {
        uint64_t count;
        (void)!::read(wake_fd_, &count, sizeof(count));
        break;
      }
      case kDevice:
        if (value < devices_.size()) devices_[value].readable = true;
        break;
      case kWatch:
        // Look the fd up each time: a callback may unwatch another one.
        for (size_t k = 0; k < watches_.size(); ++k) {
          if (watches_[k]->fd == static_cast<int>(value)) {
            auto cb = watches_[k]->on_ready;  // the callback may unwatch itself
            cb(events[i].events);
            break;
          }
        }
        break;
      default:
        break;
    }
  }
  return absl::OkStatus();
}

absl::Status EventLoop::ReadDevices(Timestamp now) {
  for (Device& d : devices_) {
    if (!d.readable) continue;
    size_t k = 0;
    for (; k < options_.max_reads_per_device; ++k) {
      auto n = d.device->Read(buf_);
      if (!n.ok()) return n.status();
      if (*n == 0) break;
      const std::span<const uint8_t> pkt(buf_.data(), *n);
      if (capture_ != nullptr) capture_->WritePacket(now, pkt);
      ++stats_.packets_in;
      stats_.bytes_in += *n;
      endpoint_->OnPacket(now, pkt);
    }
    d.readable = k == options_.max_reads_per_device;
  }
  return absl::OkStatus();
}

PacketDevice* EventLoop::DeviceFor(const IpAddress& source) {
  if (auto it = by_source_.find(source); it != by_source_.end()) return it->second;
  if (default_device_ != nullptr) return default_device_;
  return devices_.size() == 1 ? devices_[0].device : nullptr;
}

absl::Status EventLoop::Flush(Timestamp now) {
  // Super-segments only when every device can take them: the packet's device is known only
  // once it is built.
  size_t gso = devices_.empty() ? 1 : std::numeric_limits<size_t>::max();
  for (const Device& d : devices_) gso = std::min(gso, d.device->gso_max_segments());
  size_t k = 0;
  for (; k < options_.max_writes; ++k) {
    const TransmitResult t = endpoint_->PollTransmit(now, buf_, gso);
    if (t.status() == TransmitResult::Status::kBufferTooSmall) {
      return absl::InternalError(absl::StrFormat(
          "event loop: the endpoint needs a %u-byte buffer", t.needed()));
    }
    if (!t) break;
    const std::span<uint8_t> pkt(buf_.data(), t->len);
    PacketDevice* dev = DeviceFor(t->path.local.ip);  // the local address picks the device
    if (dev == nullptr) {
      ++stats_.write_drops;  // no path for this source address
      continue;
    }
    if (capture_ != nullptr) capture_->WritePacket(now, pkt);
    const absl::Status st =
        t->segment_size != 0 ? dev->WriteSegments(pkt, t->segment_size) : dev->Write(pkt);
    if (st.ok()) {
      ++stats_.packets_out;
      if (t->segment_size != 0) ++stats_.super_segments_out;
      stats_.bytes_out += t->len;
    } else if (absl::IsUnavailable(st)) {
      ++stats_.write_drops;
    } else if (absl::IsInvalidArgument(st)) {
      ++stats_.invalid_out;
    } else {
      return st;
    }
  }
  if (k == options_.max_writes) run_soon_ = true;
  return absl::OkStatus();
}

absl::Status EventLoop::Run() {
  started_ = Now();
  last_hook_ = started_;
  run_soon_ = true;  // the first iteration does not wait: the hook runs at once
  for (;;) {
    if (stop_.load(std::memory_order_relaxed)) return absl::OkStatus();
    if (options_.max_iterations != 0 && stats_.iterations >= options_.max_iterations) {
      return absl::DeadlineExceededError(
          absl::StrFormat("event loop: %u iterations", options_.max_iterations));
    }
    ++stats_.iterations;
    Timestamp now = Now();
    if (!options_.run_for.IsInfinite() && now - started_ >= options_.run_for) {
      return absl::DeadlineExceededError(
          absl::StrFormat("event loop: ran for %.3f s", options_.run_for.seconds()));
    }
    if (auto st = Wait(now); !st.ok()) return st;
    if (stop_.load(std::memory_order_relaxed)) return absl::OkStatus();
    now = Now();
    if (auto st = ReadDevices(now); !st.ok()) return st;
    const PollAt due = endpoint_->NextDeadline();
    if (due.DueBy(now)) {  // a no-op when only output is ready
      endpoint_->OnTimeout(now);
      ++stats_.timer_fires;
    }
    if (hook_) hook_(now);
    last_hook_ = now;
    if (auto st = Flush(now); !st.ok()) return st;
  }
}

}  // namespace mptcp::io
