// Linux event counters (eventfd2, eventfd(2)).
//
// The counter's description stays blocking (the kernel's default: C and Python programs given the
// descriptor read it as usual), and ipcx never relies on its O_NONBLOCK flag, which any holder may
// change (see descriptor.h). So each call avoids waiting by itself:
// - read: preadv2(RWF_NOWAIT) on the calling thread (eventfd honours it since Linux 5.10: EAGAIN
//   when zero; older kernels read under the guard below); JS waits for readability through the
//   poller (an epoll instance of its own, poller.h), as pipes do.
// - write: eventfd ignores RWF_NOWAIT for writes (EOPNOTSUPP, checked on Linux 6.18), and a write
//   blocks only when the sum would pass 0xfffffffffffffffe. The main thread first asks poll(2)
//   for POLLOUT (some room), then writes under a guard: a per-thread POSIX timer that sends the
//   addon's kick signal (no SA_RESTART, blocking_wait.h) to this thread every kGuardNs. A write
//   that would block (the value does not fit, or another process filled the counter between the
//   poll and the write) is interrupted by it with EINTR, reported as EAGAIN, having added
//   nothing. So the event loop is held about kGuardNs in that race (the next tick after the call
//   began to wait), never indefinitely. JS then waits for room with EventfdWriteWait, a blocking
//   write on a waiter thread.
#include "eventfd.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>

#include "addon.h"
#include "blocking_wait.h"
#include "errors.h"

namespace ipcx {

namespace {

// How long a guarded write may wait before the kick signal interrupts it (500 µs): far longer
// than a write that does not wait takes (~1 µs), short enough to be no stall of the event loop.
constexpr long kGuardNs = 500 * 1000;

// The guard timer of one thread (guarded writes, and reads where RWF_NOWAIT is missing): a kernel POSIX timer (raw syscalls: the kernel's timer id is an
// int, and glibc's timer_create was re-versioned in 2.34, above the glibc floor) that sends the
// kick signal to this thread only (SIGEV_THREAD_ID). Made on first use, deleted at thread exit.
struct CallGuard {
  int timer = -1;
  bool tried = false;
  ~CallGuard() {
    if (timer >= 0) syscall(SYS_timer_delete, timer);
  }
  // True once the timer exists and the kick signal is deliverable to this thread.
  bool Ready() {
    if (tried) return timer >= 0;
    tried = true;
    int sig = KickSignal();
    if (sig <= 0) return false;
    // Node may start threads with signals blocked; the kick's handler does nothing, and only this
    // thread's own timer sends it here.
    sigset_t kick;
    sigemptyset(&kick);
    sigaddset(&kick, sig);
    pthread_sigmask(SIG_UNBLOCK, &kick, nullptr);
    struct sigevent event;
    memset(&event, 0, sizeof event);
    event.sigev_notify = SIGEV_THREAD_ID;
    event.sigev_signo = sig;
    event._sigev_un._tid = static_cast<pid_t>(syscall(SYS_gettid));
    int id = -1;
    if (syscall(SYS_timer_create, CLOCK_MONOTONIC, &event, &id) != 0) return false;
    timer = id;
    return true;
  }
  // Arms the timer to fire after `ns` and then every `ns` until disarmed (Arm(0)). Periodic, not
  // one-shot: a thread preempted between arming and entering the call would otherwise take the
  // only signal before the call and then block unguarded (the lost-wakeup race of blocking_wait.h).
  void Arm(long ns) {
    struct itimerspec spec;
    memset(&spec, 0, sizeof spec);
    spec.it_value.tv_nsec = ns;
    spec.it_interval.tv_nsec = ns;
    syscall(SYS_timer_settime, timer, 0, &spec, nullptr);
  }
};

thread_local CallGuard call_guard;

// The 64-bit counter value of a BigInt argument (JS checked its range; a lossy value is refused).
uint64_t ArgCounter(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (info.Length() <= index || !info[index].IsBigInt()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a bigint");
  bool lossless = false;
  uint64_t value = info[index].As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) throw Napi::RangeError::New(info.Env(), std::string(name) + " must fit 64 unsigned bits");
  return value;
}

// A write that has to wait for room (the sum would pass the maximum): the blocking write on a
// waiter thread, on a duplicate of the descriptor (closed by the destructor) so that closing the
// object's number never leaves this thread on a reused number. cancelWait's signal interrupts it
// (EINTR) and nothing was added. If another holder set O_NONBLOCK on the shared description the
// write says EAGAIN instead of waiting: the thread then sleeps 1 ms in poll(2) and tries again
// (POLLOUT alone cannot say that a large value fits, so waiting for it would spin).
class EventfdWrite : public BlockingWait {
 public:
  EventfdWrite(int fd, uint64_t value) : fd_(fd), value_(value) {}
  ~EventfdWrite() override { Release(); }
  void Cancelled() override { Release(); }
  int Execute() override {
    if (backoff_) {
      pollfd entry{fd_, POLLOUT, 0};
      if (poll(&entry, 1, 1) < 0) return errno;
      backoff_ = false;
    }
    ssize_t n = ::write(fd_, &value_, sizeof value_);
    if (n < 0 && errno == EAGAIN) {
      backoff_ = true;
      return EINTR;  // "call again" (unless cancelled): after the backoff above
    }
    int error = n < 0 ? errno : 0;
    if (error != EINTR) Release();
    return error;
  }
  const char* Syscall() const override { return "write"; }

 private:
  void Release() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  int fd_;
  uint64_t value_;
  bool backoff_ = false;
};

}  // namespace

// JS: eventfdCreate(initial, semaphore) -> fd. Main thread, eventfd2(initial, EFD_CLOEXEC
// [| EFD_SEMAPHORE]): blocking (see the top of this file); close-on-exec, as every ipcx
// descriptor (children get it explicitly through processes.spawn). Throws IpcError (EMFILE, ...).
static Napi::Value EventfdCreate(const Napi::CallbackInfo& info) {
  int64_t initial = ArgInt64(info, 0, "initial");
  if (initial < 0 || initial > 0xffffffffLL) throw Napi::RangeError::New(info.Env(), "initial must fit an unsigned int");
  int flags = EFD_CLOEXEC | (info[1].ToBoolean() ? EFD_SEMAPHORE : 0);
  int fd = eventfd(static_cast<unsigned int>(initial), flags);
  if (fd < 0) ThrowSysError(info.Env(), errno, "eventfd2");
  return Napi::Number::New(info.Env(), fd);
}

// JS: eventfdSemaphore(fd) -> 1 (EFD_SEMAPHORE), 0 (counter mode or unknown), or -errno. Main
// thread, reads /proc/self/fdinfo/<fd> (procfs: never waits). For descriptors that arrived in a
// child or over SCM_RIGHTS; kernels before 6.4 do not list the mode and report 0 (the reads still
// behave as the counter was made: the kernel applies its own mode).
static Napi::Value EventfdSemaphore(const Napi::CallbackInfo& info) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fdinfo/%d", ArgInt32(info, 0, "fd"));
  FILE* file = fopen(path, "re");
  if (file == nullptr) return Napi::Number::New(info.Env(), -errno);
  char line[256];
  int semaphore = 0;
  while (fgets(line, sizeof line, file) != nullptr) {
    int value = 0;
    if (sscanf(line, "eventfd-semaphore: %d", &value) == 1) semaphore = value != 0 ? 1 : 0;
  }
  fclose(file);
  return Napi::Number::New(info.Env(), semaphore);
}

// The read of kernels whose eventfd has no RWF_NOWAIT (before 5.10, e.g. the 4.18 of the glibc
// floor's distributions): poll(POLLIN, 0), then read(2) under the guard, as a write is made. 0 and
// the value, or an errno (EAGAIN: zero, or another reader took the count between poll and read).
static int GuardedRead(int fd, uint64_t* value) {
  pollfd entry{fd, POLLIN, 0};
  if (RetryEintr([&] { return poll(&entry, 1, 0); }) < 0) return errno;
  if (entry.revents & POLLNVAL) return EBADF;
  if (!(entry.revents & POLLIN)) return EAGAIN;
  if (!call_guard.Ready()) return EOPNOTSUPP;
  call_guard.Arm(kGuardNs);
  ssize_t n = ::read(fd, value, sizeof *value);
  int error = n < 0 ? errno : 0;
  call_guard.Arm(0);
  return error == EINTR ? EAGAIN : error;
}

// JS: eventfdReadNow(fd) -> the value read (a BigInt), or -errno (a number; -EAGAIN: zero).
// Main thread, preadv2(RWF_NOWAIT) of 8 bytes (GuardedRead where the kernel has no RWF_NOWAIT for
// eventfd): counter mode takes the whole count, semaphore mode one.
static Napi::Value EventfdReadNow(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  uint64_t value = 0;
  iovec iov{&value, sizeof value};
  ssize_t n = RetryEintr([&] { return preadv2(fd, &iov, 1, -1, RWF_NOWAIT); });
  if (n < 0) {
    int error = errno == EOPNOTSUPP ? GuardedRead(fd, &value) : errno;
    if (error != 0) return Napi::Number::New(info.Env(), -error);
  }
  return Napi::BigInt::New(info.Env(), value);
}

// JS: eventfdWriteNow(fd, value: bigint) -> 0, -EAGAIN (would wait: no room now), or -errno.
// Main thread: poll(POLLOUT, 0), then write(2) of 8 bytes under the guard timer (top of file).
static Napi::Value EventfdWriteNow(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  uint64_t value = ArgCounter(info, 1, "value");
  // POLLOUT means room for at least 1; a write of 0 always fits, so only a value is checked.
  if (value > 0) {
    pollfd entry{fd, POLLOUT, 0};
    int ready = RetryEintr([&] { return poll(&entry, 1, 0); });
    if (ready < 0) return Napi::Number::New(env, -errno);
    if (entry.revents & POLLNVAL) return Napi::Number::New(env, -EBADF);
    // No room at all (the counter is at its maximum): the write would wait.
    if (!(entry.revents & POLLOUT)) return Napi::Number::New(env, -EAGAIN);
  }
  // Without a guard the main thread must not risk the write: the waiter thread makes it.
  if (!call_guard.Ready()) return Napi::Number::New(env, -EAGAIN);
  call_guard.Arm(kGuardNs);
  ssize_t n = ::write(fd, &value, sizeof value);
  int error = n < 0 ? errno : 0;
  call_guard.Arm(0);
  if (error == EINTR) return Napi::Number::New(env, -EAGAIN);
  return Napi::Number::New(env, -error);
}

// JS: eventfdWriteWait(fd, value: bigint, callback(errno)) -> wait id. The blocking write on a
// waiter thread (EventfdWrite); cancelWait(id) interrupts it, and then nothing was added.
static Napi::Value EventfdWriteWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  uint64_t value = ArgCounter(info, 1, "value");
  Napi::Function callback = ArgFunction(info, 2, "callback");
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) ThrowSysError(env, errno, "fcntl");
  uint32_t id = GetData(env)->waits->Start(env, std::make_unique<EventfdWrite>(copy, value), callback);
  return Napi::Number::New(env, id);
}

void InitEventfds(Napi::Env env, Napi::Object exports) {
  exports.Set("eventfdCreate", Napi::Function::New(env, JsEntry<EventfdCreate>, "eventfdCreate"));
  exports.Set("eventfdSemaphore", Napi::Function::New(env, JsEntry<EventfdSemaphore>, "eventfdSemaphore"));
  exports.Set("eventfdReadNow", Napi::Function::New(env, JsEntry<EventfdReadNow>, "eventfdReadNow"));
  exports.Set("eventfdWriteNow", Napi::Function::New(env, JsEntry<EventfdWriteNow>, "eventfdWriteNow"));
  exports.Set("eventfdWriteWait", Napi::Function::New(env, JsEntry<EventfdWriteWait>, "eventfdWriteWait"));
}

}  // namespace ipcx
