// Strong time types for the sans-IO core: the caller passes `Timestamp now` into every entry
// point; the core never reads a clock. Both are int64 nanoseconds, so arithmetic is exact and
// comparisons are cheap.
#ifndef MPTCP_TIME_H_
#define MPTCP_TIME_H_

#include <algorithm>
#include <compare>
#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>

namespace mptcp {

class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration Nanos(int64_t n) { return Duration(n); }
  static constexpr Duration Micros(int64_t n) { return Duration(n * 1000); }
  static constexpr Duration Millis(int64_t n) { return Duration(n * 1000 * 1000); }
  static constexpr Duration Seconds(int64_t n) { return Duration(n * 1000 * 1000 * 1000); }
  static constexpr Duration Zero() { return Duration(0); }
  static constexpr Duration Infinite() { return Duration(std::numeric_limits<int64_t>::max()); }

  constexpr int64_t nanos() const { return ns_; }
  constexpr int64_t micros() const { return ns_ / 1000; }
  constexpr int64_t millis() const { return ns_ / (1000 * 1000); }
  constexpr double seconds() const { return static_cast<double>(ns_) / 1e9; }
  constexpr bool IsInfinite() const { return ns_ == std::numeric_limits<int64_t>::max(); }

  constexpr Duration operator+(Duration o) const { return Duration(ns_ + o.ns_); }
  constexpr Duration operator-(Duration o) const { return Duration(ns_ - o.ns_); }
  constexpr Duration operator*(int64_t k) const { return Duration(ns_ * k); }
  constexpr Duration operator/(int64_t k) const { return Duration(ns_ / k); }
  constexpr Duration& operator+=(Duration o) { ns_ += o.ns_; return *this; }
  constexpr Duration& operator-=(Duration o) { ns_ -= o.ns_; return *this; }
  constexpr auto operator<=>(const Duration&) const = default;

 private:
  constexpr explicit Duration(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

// A point on the caller's monotonic clock. The epoch is the caller's choice.
class Timestamp {
 public:
  constexpr Timestamp() = default;
  static constexpr Timestamp FromNanos(int64_t n) { return Timestamp(n); }
  static constexpr Timestamp Zero() { return Timestamp(0); }
  // "Never": the deadline of a timer that is not armed.
  static constexpr Timestamp Never() { return Timestamp(std::numeric_limits<int64_t>::max()); }

  constexpr int64_t nanos() const { return ns_; }
  constexpr bool IsNever() const { return ns_ == std::numeric_limits<int64_t>::max(); }

  constexpr Timestamp operator+(Duration d) const {
    if (IsNever() || d.IsInfinite()) return Never();
    return Timestamp(ns_ + d.nanos());
  }
  constexpr Timestamp operator-(Duration d) const { return Timestamp(ns_ - d.nanos()); }
  constexpr Duration operator-(Timestamp o) const { return Duration::Nanos(ns_ - o.ns_); }
  constexpr auto operator<=>(const Timestamp&) const = default;

 private:
  constexpr explicit Timestamp(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

inline std::ostream& operator<<(std::ostream& os, Duration d) {
  if (d.IsInfinite()) return os << "inf";
  return os << d.nanos() << "ns";
}
inline std::ostream& operator<<(std::ostream& os, Timestamp t) {
  if (t.IsNever()) return os << "never";
  return os << "t=" << t.nanos() << "ns";
}

// A one-shot timer: armed with a deadline or disarmed (deadline Never()).
class Timer {
 public:
  constexpr void Arm(Timestamp deadline) { deadline_ = deadline; }
  constexpr void Disarm() { deadline_ = Timestamp::Never(); }
  constexpr bool armed() const { return !deadline_.IsNever(); }
  constexpr Timestamp deadline() const { return deadline_; }
  constexpr bool Expired(Timestamp now) const { return armed() && now >= deadline_; }

 private:
  Timestamp deadline_ = Timestamp::Never();
};

// The earliest of several deadlines; Never() when none is armed.
constexpr Timestamp Earliest(Timestamp a, Timestamp b) { return std::min(a, b); }
template <typename... Ts>
constexpr Timestamp Earliest(Timestamp a, Timestamp b, Ts... rest) {
  return Earliest(std::min(a, b), rest...);
}

}  // namespace mptcp

#endif  // MPTCP_TIME_H_
