// A media player's playout buffer for a constant-bitrate stream: it starts playing once
// `startup` of media is buffered, plays in real time, stalls when the next byte has not
// arrived, and resumes once `startup` of media is buffered again (or the rest of the stream
// is). Fed the stream's arrival (bytes received so far, at each time), it reports when
// playback started, every stall, and the buffer level at any time.
#ifndef MPTCP_TOOLS_SIM_PLAYER_H_
#define MPTCP_TOOLS_SIM_PLAYER_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "mptcp/time.h"

namespace mptcp::tools {

class Player {
 public:
  enum class State : uint8_t { kBuffering, kPlaying, kStalled, kDone };
  struct Stall {
    Timestamp start;
    Timestamp end = Timestamp::Never();  // Never(): still stalled
  };

  Player(uint64_t bitrate_bps, uint64_t total_bytes, Duration startup)
      : bitrate_bps_(std::max<uint64_t>(bitrate_bps, 1)),
        total_bytes_(total_bytes),
        startup_(startup),
        total_media_(MediaTime(total_bytes)) {}

  // `received` bytes of the stream have arrived by `now` (non-decreasing in both).
  void OnData(Timestamp now, uint64_t received) {
    AdvanceTo(now);
    received_ = std::min(std::max(received_, received), total_bytes_);
    if (state_ != State::kBuffering && state_ != State::kStalled) return;
    const bool all = received_ == total_bytes_;
    if (received_ > 0 && (all || MediaTime(received_) - position_ >= startup_)) {
      if (state_ == State::kBuffering) {
        started_at_ = now;
      } else {
        stalls_.back().end = now;
      }
      state_ = State::kPlaying;
    }
  }

  // Plays on until `now`: the position moves in real time while media is buffered.
  void AdvanceTo(Timestamp now) {
    if (now <= last_) return;
    if (state_ == State::kPlaying) {
      const Duration elapsed = now - last_;
      if (received_ == total_bytes_ && position_ + elapsed >= total_media_) {
        finished_at_ = last_ + (total_media_ - position_);
        position_ = total_media_;
        state_ = State::kDone;
      } else if (const Duration avail = MediaTime(received_); position_ + elapsed >= avail &&
                                                               received_ < total_bytes_) {
        stalls_.push_back(Stall{last_ + (avail - position_)});
        position_ = avail;
        state_ = State::kStalled;
      } else {
        position_ += elapsed;
      }
    }
    last_ = now;
  }

  State state() const { return state_; }
  Timestamp started_at() const { return started_at_; }    // Never() before playback starts
  Timestamp finished_at() const { return finished_at_; }  // Never() until the end is played
  const std::vector<Stall>& stalls() const { return stalls_; }
  // Media played by the last AdvanceTo / OnData.
  Duration position() const { return position_; }
  // Media received and not yet played.
  Duration buffered() const { return MediaTime(received_) - position_; }
  // The time [from, to) spent stalled (a stall still going counts up to `to`).
  Duration StalledIn(Timestamp from, Timestamp to) const {
    Duration d;
    for (const Stall& s : stalls_) {
      const Timestamp a = std::max(s.start, from);
      const Timestamp b = std::min(s.end, to);
      if (b > a) d += b - a;
    }
    return d;
  }
  // The media time `bytes` of the stream last: bytes * 8 / bitrate, rounded down to the ns.
  Duration MediaTime(uint64_t bytes) const {
    const unsigned __int128 ns = static_cast<unsigned __int128>(bytes) * 8 * 1'000'000'000u;
    return Duration::Nanos(static_cast<int64_t>(ns / bitrate_bps_));
  }

 private:
  uint64_t bitrate_bps_;
  uint64_t total_bytes_;
  Duration startup_;
  Duration total_media_;
  uint64_t received_ = 0;
  State state_ = State::kBuffering;
  Timestamp last_ = Timestamp::Zero();
  Duration position_;
  Timestamp started_at_ = Timestamp::Never();
  Timestamp finished_at_ = Timestamp::Never();
  std::vector<Stall> stalls_;
};

}  // namespace mptcp::tools

#endif  // MPTCP_TOOLS_SIM_PLAYER_H_
