// Futex waits parked in io_uring on the main thread (Linux 6.7+, IORING_OP_FUTEX_WAIT), so that a
// wake reaches the event loop with one wake-up: the ring's own descriptor is watched by a
// uv_poll_t and its completions are reaped on the main thread. A wait on a waiter thread
// (shared_memory.cc's FutexWait, the fallback) costs two per hop: the waiter thread, then the
// event loop through uv_async (docs/BENCHMARKS.md, "Where a native round trip spends its time").
//
// The opcode is mainline's IORING_OP_FUTEX_WAIT, 51 since Linux 6.7 (kFutexWaitOpcode: the
// <linux/io_uring.h> of the build machine may predate it, as Debian 12's does). Before the first
// wait trusts it, a probe checks that it behaves as a futex wait: EAGAIN at once for a value the
// word does not hold, pending for the value it holds, ECANCELED after IORING_OP_ASYNC_CANCEL. When
// setup or that probe fails (no io_uring, io_uring_disabled, seccomp, a kernel before 6.7), or
// IPCX_NATIVE_FUTEX_RING=0 is set (for tests), every wait uses the waiter thread.
//
// Timeouts are IORING_OP_LINK_TIMEOUT linked to the wait; abort and close submit
// IORING_OP_ASYNC_CANCEL. One ring per environment, opened at the first wait and closed after
// kIdleCloseMs without waits and at environment teardown (closing a ring cancels what it holds).
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <unordered_map>

struct io_uring_sqe;
struct io_uring_cqe;

namespace ipcx {

class FutexRing {
 public:
  FutexRing(Napi::Env env, uv_loop_t* loop);
  // Main thread: parks a wait on *word while it holds value (timeout_ns < 0: none). Returns its id,
  // or 0 when the ring cannot take it (the caller uses a waiter thread). callback(errno, outcome)
  // as for a BlockingWait: 0 and 'ok' / 'not-equal' / 'timed-out', ECANCELED after Cancel, or an errno
  // and its IpcError.
  uint32_t Start(Napi::Env env, uint32_t* word, uint32_t value, int64_t timeout_ns, Napi::Function callback);
  // Main thread: asks the wait to end with ECANCELED (unless it has completed). False if the id is
  // not a wait of this ring.
  bool Cancel(uint32_t id);
  // Environment teardown: closes the ring and the libuv handles, then calls done(arg).
  void Teardown(void (*done)(void*), void* arg);
  size_t active() const { return waits_.size(); }
  bool open() const { return fd_ >= 0; }
  // The opcode in use: > 0, 0 if the ring is unavailable in this process, -1 before the first wait.
  static int Opcode();

 private:
  struct Wait {
    Napi::FunctionReference callback;
    bool cancel_requested = false;
    bool has_timeout = false;
  };
  bool Open();
  void Close();
  bool Probe();
  io_uring_sqe* NextSqe();
  int Enter(unsigned submit, bool get_events);
  void Reap();
  void UpdateRef();
  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnIdle(uv_timer_t* handle);

  Napi::Env env_;
  uv_loop_t* loop_;
  int fd_ = -1;
  void* rings_ = nullptr;
  size_t rings_bytes_ = 0;
  io_uring_sqe* sqes_ = nullptr;
  size_t sqes_bytes_ = 0;
  unsigned *sq_head_ = nullptr, *sq_tail_ = nullptr, *sq_mask_ = nullptr, *sq_array_ = nullptr;
  unsigned *cq_head_ = nullptr, *cq_tail_ = nullptr, *cq_mask_ = nullptr;
  io_uring_cqe* cqes_ = nullptr;
  uv_poll_t* poll_ = nullptr;
  uv_timer_t* idle_timer_ = nullptr;
  bool torn_down_ = false;
  uint32_t next_id_ = 0;
  uint32_t probe_word_ = 0;
  std::unordered_map<uint32_t, std::unique_ptr<Wait>> waits_;
};

void InitFutexRings(Napi::Env env, Napi::Object exports);

}  // namespace ipcx
