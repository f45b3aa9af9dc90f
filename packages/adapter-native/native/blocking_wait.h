// Waits that no descriptor can announce (msgrcv, semop, sem_wait, futex, a FIFO's open) run as
// BlockingWaits: each on a dedicated waiter thread with a small stack (one thread per wait in
// flight), never on libuv's four-thread pool (five waiters there would stall every fs call of the
// process). Creating a thread costs ~35 µs here, so a finished thread is not joined at once: up
// to kMaxIdleWaiters of them stay parked on a condition variable and take the next waits; the rest
// are joined. Every thread is joined at environment teardown (never detached).
//
// Cancelling (abort, timeout, close) must end the kernel wait itself. The waiter thread leaves
// one real-time signal unblocked whose handler does nothing and is installed without SA_RESTART;
// pthread_kill makes the blocked call fail with EINTR and the thread sees its cancel flag. A signal
// sent just before the thread enters the call is lost, so a 1 ms libuv timer repeats the kick until
// the thread reports back (measured: 27-97 µs per cancel).
#pragma once

#include <napi.h>
#include <pthread.h>
#include <uv.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace ipcx {

struct Waiter;

class BlockingWait {
 public:
  virtual ~BlockingWait() = default;
  // Waiter thread: makes the blocking call once and returns 0 or an errno. Returning EINTR means
  // "call me again" unless the wait was cancelled. Must not touch JS values.
  virtual int Execute() = 0;
  // Main thread, after Execute returned 0: the result handed to the JS callback.
  virtual Napi::Value Result(Napi::Env env) { return env.Undefined(); }
  // Main thread, after a failure: the syscall name for the error.
  virtual const char* Syscall() const = 0;
  // Main thread, when the wait was cancelled: release what the wait holds. Default: nothing.
  virtual void Cancelled() {}

  bool cancel_requested() const { return cancel_.load(std::memory_order_acquire); }

 private:
  friend class BlockingWaits;
  std::atomic<bool> cancel_{false};
  std::atomic<bool> done_{false};
  Waiter* waiter_ = nullptr;  // the thread running it
  uint32_t id_ = 0;
  int error_ = 0;
  Napi::FunctionReference callback_;
  class BlockingWaits* owner_ = nullptr;
};

// A waiter thread. It runs one wait at a time; between waits it sleeps on its condition variable.
struct Waiter {
  pthread_t thread{};
  class BlockingWaits* owner = nullptr;
  std::mutex mutex;
  std::condition_variable wake;
  BlockingWait* job = nullptr;  // guarded by mutex
  bool quit = false;            // guarded by mutex
};

// The waits of one Node environment.
class BlockingWaits {
 public:
  explicit BlockingWaits(Napi::Env env, uv_loop_t* loop);
  // Main thread: starts wait on an idle waiter thread (or a new one); callback(errno, result)
  // runs on the main thread when it ends, errno 0 on success and ECANCELED after Cancel. Returns the wait's id.
  uint32_t Start(Napi::Env env, std::unique_ptr<BlockingWait> wait, Napi::Function callback);
  // Main thread: asks the wait to end with ECANCELED (unless it has already succeeded).
  void Cancel(uint32_t id);
  // Environment teardown: cancels and joins every thread, closes the libuv handles.
  // Calls done() once all handles are closed.
  void Teardown(void (*done)(void*), void* arg);
  // Waits in flight (idle waiter threads are not counted).
  size_t active() const { return waits_.size(); }
  // Waiter threads alive, busy or idle (for tests).
  size_t threads() const { return waiters_.size(); }

 private:
  static void* ThreadMain(void* arg);
  static void RunWait(BlockingWait* wait);
  Waiter* TakeWaiter(Napi::Env env);
  void Recycle(Waiter* waiter);
  void Retire(Waiter* waiter);
  static void OnAsync(uv_async_t* handle);
  static void OnKickTimer(uv_timer_t* handle);
  void Kick(BlockingWait* wait);
  void UpdateRef();

  Napi::Env env_;
  uv_async_t* async_;
  uv_timer_t* kick_timer_;
  bool kick_timer_running_ = false;
  uint32_t next_id_ = 1;
  std::unordered_map<uint32_t, BlockingWait*> waits_;
  // Every waiter thread alive, and the idle ones among them (main thread only).
  std::unordered_map<Waiter*, std::unique_ptr<Waiter>> waiters_;
  std::vector<Waiter*> idle_;
  std::mutex finished_mutex_;
  std::vector<BlockingWait*> finished_;
};

// The real-time signal used for kicks (chosen at load time).
int KickSignal();

void InitBlockingWaits(Napi::Env env, Napi::Object exports);

}  // namespace ipcx
