#include "posix_semaphore.h"

#include <dlfcn.h>

#include <fcntl.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <time.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>

#include "addon.h"
#include "blocking_wait.h"
#include "errors.h"
#include "shared_memory.h"

namespace ipcx {

// core's POSIX_SEMAPHORE_BYTES and POSIX_SEMAPHORE_ALIGN state these; keep them in step.
static_assert(sizeof(sem_t) == 32, "sizeof(sem_t) differs from POSIX_SEMAPHORE_BYTES");
static_assert(alignof(sem_t) == 8, "alignof(sem_t) differs from POSIX_SEMAPHORE_ALIGN");

namespace {

// One sem_open of a name. Shared between the JS handle and the waits in flight, so the mapping
// is unmapped (sem_close) only when nobody can still be inside sem_wait on it: after close() from
// JS, or after the handle is collected, and after the last waiter thread has returned.
//
// An unnamed semaphore (sem_init inside a shared mapping) is not ours to unmap: its memory
// belongs to the segment, which JS keeps mapped until this handle is closed and its waits are done.
//
// A named semaphore is glibc's mapping of /dev/shm/sem.NAME, a file any process allowed to post
// to can also make shorter (`truncate -s 0`): the next access would raise SIGBUS and kill the
// process. So that mapping is listed with the SIGBUS handler of shared_memory.cc like ipcx's own
// POSIX mappings: a fault in it leaves zeros behind and marks it broken, and every call checks
// Broken() after touching it and answers EFAULT. (An unnamed one lives in a segment whose own
// mapping is listed, or in System V memory, which cannot be made shorter.)
class SemHandle {
 public:
  SemHandle(sem_t* sem, bool named) : sem_(sem), named_(named) {
    if (named_) fault_slot_ = AddFaultRegion(sem, sizeof(sem_t), PROT_READ | PROT_WRITE);
  }
  ~SemHandle() {
    if (named_) {
      RemoveFaultRegion(fault_slot_);
      sem_close(sem_);
    }
  }
  sem_t* sem() const { return sem_; }
  // True once a SIGBUS in the mapping was survived: the semaphore is gone (its memory reads as
  // zeros and reaches no other process).
  bool Broken() const { return RegionBroken(fault_slot_); }
  // Reads the semaphore's memory, so that a file already too short faults here (and is Broken())
  // rather than inside a wait that would then sleep on zeros.
  void Touch() const { (void)*reinterpret_cast<volatile const uint32_t*>(sem_); }

 private:
  sem_t* sem_;
  bool named_;
  int fault_slot_ = -1;
};

// What a JS handle (an External) holds; null once closed.
struct HandleBox {
  std::shared_ptr<SemHandle> handle;
};

std::shared_ptr<SemHandle> ArgHandle(const Napi::CallbackInfo& info, size_t index) {
  if (!info[index].IsExternal()) throw Napi::TypeError::New(info.Env(), "handle must be a POSIX semaphore handle");
  return info[index].As<Napi::External<HandleBox>>().Data()->handle;
}

// sem_clockwait (glibc 2.30+) is looked up at run time rather than linked, so that the prebuilt
// addon loads on glibc 2.28 (glibc_compat.h); null where the running glibc lacks it.
using SemClockwaitFn = int (*)(sem_t*, clockid_t, const struct timespec*);
SemClockwaitFn FindSemClockwait() {
  static SemClockwaitFn found = reinterpret_cast<SemClockwaitFn>(dlsym(RTLD_DEFAULT, "sem_clockwait"));
  return found;
}

// sem_timedwait takes a CLOCK_REALTIME deadline. Without sem_clockwait, wait in slices whose
// realtime deadline is computed from what is left of the monotonic one, and start a new slice
// while the monotonic deadline has not passed: a wall clock set forward cannot end the wait
// early. (One set backward during a slice lengthens that slice: the documented limit on a
// glibc older than 2.30.)
int SemTimedwaitMonotonic(sem_t* sem, const struct timespec& deadline) {
  for (;;) {
    struct timespec now, realtime;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t left_ns = (deadline.tv_sec - now.tv_sec) * 1000000000LL + (deadline.tv_nsec - now.tv_nsec);
    if (left_ns <= 0) {
      errno = ETIMEDOUT;
      return -1;
    }
    clock_gettime(CLOCK_REALTIME, &realtime);
    int64_t ns = realtime.tv_nsec + left_ns % 1000000000;
    realtime.tv_sec += static_cast<time_t>(left_ns / 1000000000 + ns / 1000000000);
    realtime.tv_nsec = static_cast<long>(ns % 1000000000);
    if (sem_timedwait(sem, &realtime) == 0) return 0;
    if (errno != ETIMEDOUT) return -1;
  }
}

// sem_wait, or a wait on CLOCK_MONOTONIC with an absolute deadline (so a retry after EINTR keeps
// the original deadline and a wall-clock change does not move it). ETIMEDOUT on timeout, as
// sem_timedwait reports it.
class SemWaitOnThread : public BlockingWait {
 public:
  SemWaitOnThread(std::shared_ptr<SemHandle> handle, int64_t timeout_ns) : handle_(std::move(handle)), timed_(timeout_ns >= 0) {
    if (timed_) {
      clock_gettime(CLOCK_MONOTONIC, &deadline_);
      int64_t ns = deadline_.tv_nsec + timeout_ns % 1000000000;
      deadline_.tv_sec += static_cast<time_t>(timeout_ns / 1000000000 + ns / 1000000000);
      deadline_.tv_nsec = static_cast<long>(ns % 1000000000);
    }
  }
  int Execute() override {
    handle_->Touch();
    if (handle_->Broken()) return EFAULT;
    SemClockwaitFn clockwait = FindSemClockwait();
    int result = !timed_ ? sem_wait(handle_->sem())
                 : clockwait != nullptr ? clockwait(handle_->sem(), CLOCK_MONOTONIC, &deadline_)
                                        : SemTimedwaitMonotonic(handle_->sem(), deadline_);
    int error = result == 0 ? 0 : errno;
    return handle_->Broken() ? EFAULT : error;
  }
  const char* Syscall() const override { return timed_ ? "sem_timedwait" : "sem_wait"; }

 private:
  std::shared_ptr<SemHandle> handle_;
  bool timed_;
  struct timespec deadline_ = {0, 0};
};

// A call's answer: -EFAULT if the semaphore turned out broken (whatever the call did then reached
// nobody), else its result or -errno.
Napi::Value Result(Napi::Env env, const SemHandle& handle, int result) {
  if (handle.Broken()) return Napi::Number::New(env, -EFAULT);
  return Napi::Number::New(env, result == -1 ? -errno : result);
}

}  // namespace

// JS: semOpen(name, create, exclusive, mode, initial) -> handle. Main thread (sem_open opens or
// creates a small file in /dev/shm and maps it). Throws IpcError.
static Napi::Value SemOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = ArgString(info, 0, "name");
  int flags = (info[1].ToBoolean() ? O_CREAT : 0) | (info[2].ToBoolean() ? O_EXCL : 0);
  mode_t mode = static_cast<mode_t>(ArgInt32(info, 3, "mode"));
  int64_t initial = ArgInt64(info, 4, "initial");
  if (initial < 0 || initial > SEM_VALUE_MAX) throw Napi::RangeError::New(env, "initial out of range");
  sem_t* sem = sem_open(name.c_str(), flags, mode, static_cast<unsigned>(initial));
  if (sem == SEM_FAILED) ThrowSysError(env, errno, "sem_open", name.c_str());
  auto handle = std::make_shared<SemHandle>(sem, true);
  // glibc does not check the file's size: one shorter than a semaphore (left empty by another
  // program, say) is refused here instead of faulting at the first use.
  handle->Touch();
  if (handle->Broken()) ThrowSysError(env, EINVAL, "sem_open", name.c_str());
  auto* box = new HandleBox{std::move(handle)};
  return Napi::External<HandleBox>::New(env, box, [](Napi::Env, HandleBox* dropped) { delete dropped; });
}

// JS: semAt(buffer, byteOffset, initial, init) -> handle on the unnamed semaphore at byteOffset of
// a shared mapping's ArrayBuffer; with init, sem_init(sem, 1, initial) first (pshared = 1: the
// semaphore works across processes mapping the same memory). Main thread. Throws IpcError.
static Napi::Value SemAt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArrayBuffer()) throw Napi::TypeError::New(env, "buffer must be an ArrayBuffer");
  Napi::ArrayBuffer buffer = info[0].As<Napi::ArrayBuffer>();
  int64_t offset = ArgInt64(info, 1, "byteOffset");
  if (offset < 0 || offset % alignof(sem_t) != 0 || static_cast<size_t>(offset) + sizeof(sem_t) > buffer.ByteLength())
    throw Napi::RangeError::New(env, "byteOffset out of range or misaligned");
  auto* sem = reinterpret_cast<sem_t*>(static_cast<uint8_t*>(buffer.Data()) + offset);
  if (info[3].ToBoolean()) {
    int64_t initial = ArgInt64(info, 2, "initial");
    if (initial < 0 || initial > SEM_VALUE_MAX) throw Napi::RangeError::New(env, "initial out of range");
    if (sem_init(sem, 1, static_cast<unsigned>(initial)) != 0) ThrowSysError(env, errno, "sem_init");
  }
  auto* box = new HandleBox{std::make_shared<SemHandle>(sem, false)};
  return Napi::External<HandleBox>::New(env, box, [](Napi::Env, HandleBox* dropped) { delete dropped; });
}

// JS: semClose(handle) -> 0 or -EBADF if already closed. Main thread. Drops this handle's share:
// sem_close runs now, or when the last pending wait on it has returned.
static Napi::Value SemClose(const Napi::CallbackInfo& info) {
  if (!info[0].IsExternal()) throw Napi::TypeError::New(info.Env(), "handle must be a POSIX semaphore handle");
  HandleBox* box = info[0].As<Napi::External<HandleBox>>().Data();
  if (!box->handle) return Napi::Number::New(info.Env(), -EBADF);
  box->handle.reset();
  return Napi::Number::New(info.Env(), 0);
}

// JS: semTryWait(handle) -> 0 or -errno (EAGAIN when the value is zero). Main thread, never waits.
static Napi::Value SemTryWait(const Napi::CallbackInfo& info) {
  auto handle = ArgHandle(info, 0);
  if (!handle) return Napi::Number::New(info.Env(), -EBADF);
  return Result(info.Env(), *handle, RetryEintr([&] { return sem_trywait(handle->sem()); }));
}

// JS: semWait(handle, timeoutMs, callback(errno)) -> wait id. sem_wait (timeoutMs < 0) or
// sem_clockwait on a waiter thread; cancelWait(id) interrupts it (EINTR: the kick signal's
// handler has no SA_RESTART).
static Napi::Value SemWaitStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto handle = ArgHandle(info, 0);
  if (!handle) ThrowSysError(env, EBADF, "sem_wait");
  if (!info[1].IsNumber()) throw Napi::TypeError::New(env, "timeoutMs must be a number");
  double timeout_ms = info[1].As<Napi::Number>().DoubleValue();
  int64_t timeout_ns = timeout_ms < 0 || !std::isfinite(timeout_ms) || timeout_ms > 9.2e12 ? -1 : static_cast<int64_t>(timeout_ms * 1e6);
  Napi::Function callback = ArgFunction(info, 2, "callback");
  uint32_t id = GetData(env)->waits->Start(env, std::make_unique<SemWaitOnThread>(std::move(handle), timeout_ns), callback);
  return Napi::Number::New(env, id);
}

// JS: semPost(handle) -> 0 or -errno (EOVERFLOW at SEM_VALUE_MAX). Main thread.
static Napi::Value SemPost(const Napi::CallbackInfo& info) {
  auto handle = ArgHandle(info, 0);
  if (!handle) return Napi::Number::New(info.Env(), -EBADF);
  return Result(info.Env(), *handle, sem_post(handle->sem()));
}

// JS: semGetValue(handle) -> value (>= 0) or -errno. Main thread.
static Napi::Value SemGetValue(const Napi::CallbackInfo& info) {
  auto handle = ArgHandle(info, 0);
  if (!handle) return Napi::Number::New(info.Env(), -EBADF);
  int value = 0;
  int result = sem_getvalue(handle->sem(), &value);
  if (result == 0) result = value < 0 ? 0 : value;
  return Result(info.Env(), *handle, result);
}

// JS: semUnlink(name). Main thread (sem_unlink removes /dev/shm/sem.<name>). Throws IpcError.
static void SemUnlink(const Napi::CallbackInfo& info) {
  std::string name = ArgString(info, 0, "name");
  if (sem_unlink(name.c_str()) != 0) ThrowSysError(info.Env(), errno, "sem_unlink", name.c_str());
}

void InitPosixSemaphores(Napi::Env env, Napi::Object exports) {
  exports.Set("semOpen", Napi::Function::New(env, JsEntry<SemOpen>, "semOpen"));
  exports.Set("semAt", Napi::Function::New(env, JsEntry<SemAt>, "semAt"));
  exports.Set("semClose", Napi::Function::New(env, JsEntry<SemClose>, "semClose"));
  exports.Set("semTryWait", Napi::Function::New(env, JsEntry<SemTryWait>, "semTryWait"));
  exports.Set("semWait", Napi::Function::New(env, JsEntry<SemWaitStart>, "semWait"));
  exports.Set("semPost", Napi::Function::New(env, JsEntry<SemPost>, "semPost"));
  exports.Set("semGetValue", Napi::Function::New(env, JsEntry<SemGetValue>, "semGetValue"));
  exports.Set("semUnlink", Napi::Function::New(env, JsEntry<SemUnlink>, "semUnlink"));
}

}  // namespace ipcx
