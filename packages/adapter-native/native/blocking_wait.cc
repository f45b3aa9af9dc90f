#include "blocking_wait.h"
#include "futex_ring.h"

#include <sched.h>
#include <signal.h>
#include <time.h>

#include <cstring>
#include <mutex>
#include <new>

#include "addon.h"
#include "errors.h"

namespace ipcx {

namespace {

constexpr size_t kWaiterStackBytes = 64 * 1024;
// Idle waiter threads kept for later waits (each ~12 KiB of memory, no CPU).
constexpr size_t kMaxIdleWaiters = 8;
int kick_signal = 0;
std::once_flag kick_signal_once;

void NoopHandler(int) {}

// Picks the first real-time signal from SIGRTMIN+2 up that still has its default action (Node and
// libraries claim others; a named signal could be taken over by process.on()). Without SA_RESTART,
// so that the kick interrupts the call instead of restarting it.
void ChooseKickSignal() {
  for (int sig = SIGRTMIN + 2; sig <= SIGRTMAX; ++sig) {
    struct sigaction current;
    if (sigaction(sig, nullptr, &current) != 0) continue;
    if (current.sa_handler != SIG_DFL || (current.sa_flags & SA_SIGINFO)) continue;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = NoopHandler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    if (sigaction(sig, &action, nullptr) == 0) {
      kick_signal = sig;
      return;
    }
  }
}

// Someone may have replaced our handler since (a library, process.on). Put it back before use.
void EnsureKickHandler() {
  struct sigaction current;
  if (sigaction(kick_signal, nullptr, &current) == 0 && current.sa_handler != NoopHandler) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = NoopHandler;
    sigemptyset(&action.sa_mask);
    sigaction(kick_signal, &action, nullptr);
  }
}

}  // namespace

int KickSignal() {
  std::call_once(kick_signal_once, ChooseKickSignal);
  return kick_signal;
}

BlockingWaits::BlockingWaits(Napi::Env env, uv_loop_t* loop) : env_(env) {
  // Recycle runs in a libuv callback, where an exception would end in std::terminate: with the
  // room reserved here, its push_back never allocates.
  idle_.reserve(kMaxIdleWaiters);
  async_ = new uv_async_t;
  uv_async_init(loop, async_, OnAsync);
  async_->data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(async_));
  kick_timer_ = new uv_timer_t;
  uv_timer_init(loop, kick_timer_);
  kick_timer_->data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(kick_timer_));
}

// Runs one wait to its end on the current waiter thread and reports it to the main thread.
void BlockingWaits::RunWait(BlockingWait* wait) {
  int error;
  for (;;) {
    if (wait->cancel_requested()) {
      error = ECANCELED;
      break;
    }
    error = wait->Execute();
    if (error != EINTR) break;
  }
  wait->error_ = error;
  BlockingWaits* owner = wait->owner_;
  {
    // done_ is set under the lock that OnAsync takes, so the main thread never sees the entry
    // (and deletes the wait) before this thread is done writing to it.
    std::lock_guard<std::mutex> lock(owner->finished_mutex_);
    owner->finished_.push_back(wait);
    wait->done_.store(true, std::memory_order_release);
  }
  uv_async_send(owner->async_);
}

void* BlockingWaits::ThreadMain(void* arg) {
  auto* waiter = static_cast<Waiter*>(arg);
  // Every signal stays blocked here (inherited from TakeWaiter) except the kick, so process
  // signals (SIGINT, SIGCHLD, ...) keep going to threads that expect them. A kick that lands
  // while the thread is idle or on a later wait only costs one spurious wake-up or EINTR retry.
  sigset_t kick;
  sigemptyset(&kick);
  sigaddset(&kick, KickSignal());
  pthread_sigmask(SIG_UNBLOCK, &kick, nullptr);
  for (;;) {
    BlockingWait* wait;
    {
      std::unique_lock<std::mutex> lock(waiter->mutex);
      waiter->wake.wait(lock, [waiter] { return waiter->job != nullptr || waiter->quit; });
      if (waiter->job == nullptr) break;  // quit
      wait = waiter->job;
      waiter->job = nullptr;
    }
    RunWait(wait);
  }
  return nullptr;
}

// Main thread: an idle waiter thread, or a new one (64 KiB stack, every signal blocked but the
// kick). Throws IpcError when no thread can be made.
Waiter* BlockingWaits::TakeWaiter(Napi::Env env) {
  if (!idle_.empty()) {
    Waiter* waiter = idle_.back();
    idle_.pop_back();
    return waiter;
  }
  auto waiter = std::make_unique<Waiter>();
  waiter->owner = this;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kWaiterStackBytes);
  sigset_t all, previous;
  sigfillset(&all);
  KickSignal();
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  // Recorded before the thread starts: an insertion that cannot allocate throws while nothing
  // runs yet, and a running thread is always in the table (so always joined).
  Waiter* raw = waiter.get();
  waiters_[raw] = std::move(waiter);
  int error = pthread_create(&raw->thread, &attr, ThreadMain, raw);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  pthread_attr_destroy(&attr);
  if (error != 0) {
    waiters_.erase(raw);
    // Told apart from the EAGAIN of a non-blocking miss by its syscall, and said in words.
    Napi::Value failure = MakeSysError(env, error, "pthread_create");
    if (failure.IsObject()) {
      Napi::Object object = failure.As<Napi::Object>();
      // The errno's name is the one JS gave the error (core's table), e.g. EAGAIN.
      object.Set(
          "message", object.Get("code").ToString().Utf8Value() +
                         ": pthread_create failed: no thread could be started for this wait (the limit of threads of the "
                         "process or user is reached: ulimit -u, kernel.threads-max, a cgroup's pids.max); the "
                         "operation was not started");
    }
    throw Napi::Error(env, failure);
  }
  return raw;
}

// Main thread, once the waiter's wait has been reported: keep it parked for the next wait, or
// join it when enough threads are idle already.
void BlockingWaits::Recycle(Waiter* waiter) {
  if (idle_.size() < kMaxIdleWaiters)
    idle_.push_back(waiter);
  else
    Retire(waiter);
}

// Main thread: ends an idle waiter thread and joins it (it has no job, so it exits at once).
void BlockingWaits::Retire(Waiter* waiter) {
  {
    std::lock_guard<std::mutex> lock(waiter->mutex);
    waiter->quit = true;
  }
  waiter->wake.notify_one();
  pthread_join(waiter->thread, nullptr);
  waiters_.erase(waiter);
}

uint32_t BlockingWaits::Start(Napi::Env env, std::unique_ptr<BlockingWait> wait, Napi::Function callback) {
  Waiter* waiter = TakeWaiter(env);
  uint32_t id = next_id_++;
  if (next_id_ == 0) next_id_ = 1;
  try {
    // What can throw (an allocation) comes before the wait is handed over; the thread goes back.
    wait->callback_ = Napi::Persistent(callback);
    waits_[id] = wait.get();
  } catch (...) {
    Recycle(waiter);
    throw;
  }
  BlockingWait* raw = wait.release();
  raw->owner_ = this;
  raw->waiter_ = waiter;
  raw->id_ = id;
  {
    std::lock_guard<std::mutex> lock(waiter->mutex);
    waiter->job = raw;
  }
  waiter->wake.notify_one();
  UpdateRef();
  return raw->id_;
}

void BlockingWaits::Kick(BlockingWait* wait) {
  if (!wait->done_.load(std::memory_order_acquire)) pthread_kill(wait->waiter_->thread, KickSignal());
}

void BlockingWaits::Cancel(uint32_t id) {
  auto found = waits_.find(id);
  if (found == waits_.end()) return;  // already finished: its callback is queued or ran
  BlockingWait* wait = found->second;
  wait->cancel_.store(true, std::memory_order_release);
  EnsureKickHandler();
  Kick(wait);
  if (!kick_timer_running_) {
    kick_timer_running_ = true;
    uv_timer_start(kick_timer_, OnKickTimer, 1, 1);
  }
}

void BlockingWaits::OnKickTimer(uv_timer_t* handle) {
  auto* self = static_cast<BlockingWaits*>(handle->data);
  bool any = false;
  for (auto& [id, wait] : self->waits_) {
    if (wait->cancel_requested() && !wait->done_.load(std::memory_order_acquire)) {
      self->Kick(wait);
      any = true;
    }
  }
  if (!any) {
    uv_timer_stop(handle);
    self->kick_timer_running_ = false;
  }
}

void BlockingWaits::OnAsync(uv_async_t* handle) {
  auto* self = static_cast<BlockingWaits*>(handle->data);
  std::vector<BlockingWait*> finished;
  {
    std::lock_guard<std::mutex> lock(self->finished_mutex_);
    finished.swap(self->finished_);
  }
  Napi::Env env = self->env_;
  for (BlockingWait* wait : finished) {
    self->Recycle(wait->waiter_);
    self->waits_.erase(wait->id_);
    std::unique_ptr<BlockingWait> owned(wait);
    Napi::HandleScope scope(env);
    Napi::Value result = env.Undefined();
    int error = wait->error_;
    if (error == 0) {
      // Nothing may leave a libuv callback as a C++ exception (std::terminate): a JS error from
      // building the result, or an allocation failure (ENOMEM), is handed to the callback instead.
      try {
        result = wait->Result(env);
      } catch (const Napi::Error& e) {
        result = e.Value();
        error = EIO;
      } catch (const std::bad_alloc&) {
        error = ENOMEM;
        result = MakeSysError(env, error, wait->Syscall());
      }
    } else if (error == ECANCELED) {
      wait->Cancelled();
    } else {
      result = MakeSysError(env, error, wait->Syscall());
    }
    CallIntoJs(env, wait->callback_, {Napi::Number::New(env, error), result});
  }
  self->UpdateRef();
}

// The loop stays alive while waits are pending, as it does for a pending socket read.
void BlockingWaits::UpdateRef() {
  if (waits_.empty())
    uv_unref(reinterpret_cast<uv_handle_t*>(async_));
  else
    uv_ref(reinterpret_cast<uv_handle_t*>(async_));
}

namespace {
struct TeardownState {
  int pending;
  void (*done)(void*);
  void* arg;
};
void OnTeardownClose(uv_handle_t* handle) {
  auto* state = static_cast<TeardownState*>(handle->data);
  if (handle->type == UV_ASYNC)
    delete reinterpret_cast<uv_async_t*>(handle);
  else
    delete reinterpret_cast<uv_timer_t*>(handle);
  if (--state->pending == 0) {
    state->done(state->arg);
    delete state;
  }
}
}  // namespace

void BlockingWaits::Teardown(void (*done)(void*), void* arg) {
  // A detached waiter woken after a worker's terminate() crashed Node 20 (nodejs/node#55706):
  // cancel every thread and join it here, before the environment goes away.
  for (auto& [id, wait] : waits_) wait->cancel_.store(true, std::memory_order_release);
  for (auto& [id, wait] : waits_) {
    while (!wait->done_.load(std::memory_order_acquire)) {
      Kick(wait);
      struct timespec pause = {0, 1000000};
      nanosleep(&pause, nullptr);
    }
  }
  // Every wait has ended: each thread is idle or about to be. Join them all.
  for (auto& [raw, waiter] : waiters_) {
    {
      std::lock_guard<std::mutex> lock(waiter->mutex);
      waiter->quit = true;
    }
    waiter->wake.notify_one();
  }
  for (auto& [raw, waiter] : waiters_) pthread_join(waiter->thread, nullptr);
  waiters_.clear();
  idle_.clear();
  for (auto& [id, wait] : waits_) {
    wait->Cancelled();
    wait->callback_.Reset();
    delete wait;
  }
  waits_.clear();
  {
    // Every thread has been joined and its wait deleted above: drop their completion entries.
    std::lock_guard<std::mutex> lock(finished_mutex_);
    finished_.clear();
  }
  auto* state = new TeardownState{2, done, arg};
  uv_timer_stop(kick_timer_);
  async_->data = state;
  kick_timer_->data = state;
  uv_close(reinterpret_cast<uv_handle_t*>(async_), OnTeardownClose);
  uv_close(reinterpret_cast<uv_handle_t*>(kick_timer_), OnTeardownClose);
}

// JS: cancelWait(id). Main thread. The wait's callback then runs with ECANCELED, or with its
// result if the call had already succeeded.
static void CancelWait(const Napi::CallbackInfo& info) {
  GetData(info.Env())->waits->Cancel(static_cast<uint32_t>(ArgInt64(info, 0, "id")));
}

// JS: activeWaits() -> number of waits in flight (on waiter threads and futex waits parked in
// io_uring). For tests that check no wait is left behind.
static Napi::Value ActiveWaits(const Napi::CallbackInfo& info) {
  AddonData* data = GetData(info.Env());
  return Napi::Number::New(info.Env(), static_cast<double>(data->waits->active() + data->futex_ring->active()));
}

// JS: waiterThreads() -> number of waiter threads alive, busy or idle (at most the waits in flight
// plus the idle bound). For tests.
static Napi::Value WaiterThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(GetData(info.Env())->waits->threads()));
}

// JS: yieldCpu(). Main thread: sched_yield between the attempts of a spin (SpinWindow), so that a
// peer runnable on this CPU (both ends packed on one CPU by other load) runs and answers within
// the spin instead of after it. With nothing else runnable here it returns at once.
static void YieldCpu(const Napi::CallbackInfo&) { sched_yield(); }

void InitBlockingWaits(Napi::Env env, Napi::Object exports) {
  exports.Set("yieldCpu", Napi::Function::New(env, JsEntry<YieldCpu>, "yieldCpu"));
  exports.Set("cancelWait", Napi::Function::New(env, JsEntry<CancelWait>, "cancelWait"));
  exports.Set("activeWaits", Napi::Function::New(env, JsEntry<ActiveWaits>, "activeWaits"));
  exports.Set("waiterThreads", Napi::Function::New(env, JsEntry<WaiterThreads>, "waiterThreads"));
}

}  // namespace ipcx
