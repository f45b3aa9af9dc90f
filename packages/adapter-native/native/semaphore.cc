#include "semaphore.h"

#include <sys/ipc.h>
#include <sys/sem.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "addon.h"
#include "blocking_wait.h"
#include "errors.h"

namespace ipcx {

namespace {

// semctl's fourth argument; the caller defines it (semctl(2)).
union semun {
  int val;
  struct semid_ds* buf;
  unsigned short* array;
};

// Bits of the third word of each operation triple that JS passes: [index, delta, bits].
constexpr int32_t kOpNowait = 1;
constexpr int32_t kOpUndo = 2;

// Operations arrive as an Int32Array of triples; copying them into sembufs here means the waiter
// thread never touches JS memory.
std::vector<struct sembuf> ArgOperations(const Napi::CallbackInfo& info, size_t index) {
  if (!info[index].IsTypedArray() || info[index].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(info.Env(), "operations must be an Int32Array of [index, delta, bits] triples");
  auto array = info[index].As<Napi::Int32Array>();
  if (array.ElementLength() % 3 != 0) throw Napi::RangeError::New(info.Env(), "operations: length must be a multiple of 3");
  std::vector<struct sembuf> ops(array.ElementLength() / 3);
  for (size_t i = 0; i < ops.size(); ++i) {
    int32_t num = array[3 * i], delta = array[3 * i + 1], bits = array[3 * i + 2];
    if (num < 0 || num > 0xffff || delta < -32768 || delta > 32767)
      throw Napi::RangeError::New(info.Env(), "operations: index or delta out of range");
    ops[i].sem_num = static_cast<unsigned short>(num);
    ops[i].sem_op = static_cast<short>(delta);
    ops[i].sem_flg = static_cast<short>(((bits & kOpNowait) ? IPC_NOWAIT : 0) | ((bits & kOpUndo) ? SEM_UNDO : 0));
  }
  return ops;
}

int64_t MonotonicNowNs() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
}

// A semop that may wait, on its own thread. With a timeout it is semtimedop, whose relative
// timeout the kernel measures; the deadline is kept here so that a retry after EINTR (a cancel
// kick that turned out not to be for us) waits only for the time left. On timeout the kernel
// answers EAGAIN, and that is what the caller gets.
class SemopOnThread : public BlockingWait {
 public:
  SemopOnThread(int id, std::vector<struct sembuf> ops, int64_t timeout_ns)
      : id_(id), ops_(std::move(ops)), deadline_ns_(timeout_ns < 0 ? -1 : MonotonicNowNs() + timeout_ns) {}

  int Execute() override {
    int result;
    if (deadline_ns_ < 0) {
      result = semtimedop(id_, ops_.data(), ops_.size(), nullptr);
    } else {
      int64_t left = deadline_ns_ - MonotonicNowNs();
      if (left < 0) left = 0;  // a zero timeout still lets the kernel try once, then EAGAIN
      struct timespec timeout = {static_cast<time_t>(left / 1000000000), static_cast<long>(left % 1000000000)};
      result = semtimedop(id_, ops_.data(), ops_.size(), &timeout);
    }
    return result == 0 ? 0 : errno;
  }
  const char* Syscall() const override { return deadline_ns_ < 0 ? "semop" : "semtimedop"; }

 private:
  int id_;
  std::vector<struct sembuf> ops_;
  int64_t deadline_ns_;
};

Napi::Value Errno(Napi::Env env, int err) { return Napi::Number::New(env, -err); }

#ifndef SEM_STAT_ANY
#define SEM_STAT_ANY 20
#endif

// Whether this process may alter a set with these permissions: the kernel's ipcperms() rule
// (owner or creator: the owner bits; else a group of ours: the group bits; else the others'),
// for the write bit. Without the capability check: a privileged process passes IPC_STAT anyway.
bool MayAlter(const struct ipc_perm& perm) {
  uid_t uid = geteuid();
  if (uid == perm.uid || uid == perm.cuid) return (perm.mode & 0200) != 0;
  bool in_group = getegid() == perm.gid || getegid() == perm.cgid;
  if (!in_group) {
    int count = getgroups(0, nullptr);
    if (count > 0) {
      std::vector<gid_t> groups(static_cast<size_t>(count));
      count = getgroups(count, groups.data());
      for (int i = 0; i < count && !in_group; ++i) in_group = groups[i] == perm.gid || groups[i] == perm.cgid;
    }
  }
  return (perm.mode & (in_group ? 0020 : 0002)) != 0;
}

// The number of semaphores in set `id`, from the kernel (never from what a caller claims: SETALL
// and GETALL copy exactly that many values, and a shorter buffer would hand the kernel bytes of
// our heap to write into the set). IPC_STAT needs read permission; an alter-only user (mode
// 0o622, say) gets the same answer from SEM_STAT_ANY (Linux 4.17+), which reads the kernel's
// table by index without a permission check (as /proc/sysvipc/sem does): the index of `id` is
// found by walking the table up to SEM_INFO's highest index; the answer is given to a user who
// may alter the set (MayAlter), EACCES to others. Returns the size or -errno.
int SetSize(int id) {
  struct semid_ds ds;
  union semun arg;
  arg.buf = &ds;
  if (semctl(id, 0, IPC_STAT, arg) == 0) return static_cast<int>(ds.sem_nsems);
  int error = errno;
  if (error != EACCES) return -error;
  struct seminfo info;
  arg.buf = reinterpret_cast<struct semid_ds*>(&info);
  int highest = semctl(0, 0, SEM_INFO, arg);
  if (highest < 0) return -EACCES;
  arg.buf = &ds;
  for (int index = 0; index <= highest; ++index) {
    if (semctl(index, 0, SEM_STAT_ANY, arg) != id) continue;
    // Only for a user who may alter the set: one with no permission at all gets EACCES, as the
    // kernel would answer any call of theirs.
    return MayAlter(ds.sem_perm) ? static_cast<int>(ds.sem_nsems) : -EACCES;
  }
  return -EACCES;
}

}  // namespace

// JS: semget(key, size, create, exclusive, mode) -> id or -errno. Main thread (never waits).
static Napi::Value SemGet(const Napi::CallbackInfo& info) {
  key_t key = static_cast<key_t>(ArgInt64(info, 0, "key"));
  int size = ArgInt32(info, 1, "size");
  int flags = (ArgInt32(info, 4, "mode") & 0777) | (info[2].ToBoolean() ? IPC_CREAT : 0) | (info[3].ToBoolean() ? IPC_EXCL : 0);
  int id = semget(key, size, flags);
  return Napi::Number::New(info.Env(), id == -1 ? -errno : id);
}

// JS: semopNow(id, ops) -> 0 or -errno. Main thread: semop with IPC_NOWAIT added to every
// operation, so it completes now or fails with EAGAIN without waiting (the event loop never
// blocks here). Because semop is all-or-nothing, a failed attempt changed nothing and the same
// list can be retried as a wait.
static Napi::Value SemopNow(const Napi::CallbackInfo& info) {
  int id = ArgInt32(info, 0, "id");
  std::vector<struct sembuf> ops = ArgOperations(info, 1);
  for (auto& op : ops) op.sem_flg |= IPC_NOWAIT;
  int result = RetryEintr([&] { return semop(id, ops.data(), ops.size()); });
  return Napi::Number::New(info.Env(), result == 0 ? 0 : -errno);
}

// JS: semopWait(id, ops, timeoutMs, callback(errno, undefined)) -> wait id. The semop (timeoutMs
// < 0) or semtimedop runs on a waiter thread; cancelWait(id) interrupts it with EINTR. SEM_UNDO
// adjustments belong to the process (threads share them, CLONE_SYSVSEM), so an undo operation
// applied by the waiter thread is undone when the process ends, like one made on the main thread.
static Napi::Value SemopWait(const Napi::CallbackInfo& info) {
  int id = ArgInt32(info, 0, "id");
  std::vector<struct sembuf> ops = ArgOperations(info, 1);
  if (!info[2].IsNumber()) throw Napi::TypeError::New(info.Env(), "timeoutMs must be a number");
  double timeout_ms = info[2].As<Napi::Number>().DoubleValue();
  // Past ~292 years an int64 of nanoseconds overflows; such a timeout is as good as none.
  int64_t timeout_ns = timeout_ms < 0 || !std::isfinite(timeout_ms) || timeout_ms > 9.2e12 ? -1 : static_cast<int64_t>(timeout_ms * 1e6);
  Napi::Function callback = ArgFunction(info, 3, "callback");
  uint32_t wait_id = GetData(info.Env())->waits->Start(info.Env(), std::make_unique<SemopOnThread>(id, std::move(ops), timeout_ns), callback);
  return Napi::Number::New(info.Env(), wait_id);
}

// JS: semctlGet(id, index, which) -> value or -errno, which: 0 GETVAL, 1 GETNCNT, 2 GETZCNT,
// 3 GETPID. Main thread.
static Napi::Value SemctlGet(const Napi::CallbackInfo& info) {
  static const int commands[] = {GETVAL, GETNCNT, GETZCNT, GETPID};
  int id = ArgInt32(info, 0, "id");
  int index = ArgInt32(info, 1, "index");
  int which = ArgInt32(info, 2, "which");
  if (which < 0 || which > 3) throw Napi::RangeError::New(info.Env(), "which must be 0..3");
  int result = semctl(id, index, commands[which]);
  return Napi::Number::New(info.Env(), result == -1 ? -errno : result);
}

// JS: semSetValue(id, index, value) -> 0 or -errno. Main thread (semctl SETVAL).
static Napi::Value SemSetValue(const Napi::CallbackInfo& info) {
  union semun arg;
  arg.val = ArgInt32(info, 2, "value");
  int result = semctl(ArgInt32(info, 0, "id"), ArgInt32(info, 1, "index"), SETVAL, arg);
  return Napi::Number::New(info.Env(), result == -1 ? -errno : 0);
}

// JS: semGetAll(id) -> number[] or -errno. Main thread (semctl IPC_STAT, then GETALL into a
// buffer of the size the kernel just reported; the set's size never changes after creation).
static Napi::Value SemGetAll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int id = ArgInt32(info, 0, "id");
  int size = SetSize(id);
  if (size < 0) return Errno(env, -size);
  std::vector<unsigned short> values(size);
  union semun arg;
  arg.array = values.data();
  if (semctl(id, 0, GETALL, arg) == -1) return Errno(env, errno);
  Napi::Array result = Napi::Array::New(env, size);
  for (int i = 0; i < size; ++i) result.Set(i, Napi::Number::New(env, values[i]));
  return result;
}

// JS: semSetAll(id, values: number[]) -> 0 or -errno. Main thread (semctl SETALL). SETALL reads
// as many values as the set has, so the set's size comes from the kernel (SetSize) and a list
// of any other length is refused with EINVAL before the call.
static Napi::Value SemSetAll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int id = ArgInt32(info, 0, "id");
  if (!info[1].IsArray()) throw Napi::TypeError::New(env, "values must be an array");
  auto array = info[1].As<Napi::Array>();
  int size = SetSize(id);
  if (size < 0) return Errno(env, -size);
  if (array.Length() != static_cast<uint32_t>(size)) return Errno(env, EINVAL);
  std::vector<unsigned short> values(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value value = array.Get(i);
    if (!value.IsNumber()) throw Napi::TypeError::New(env, "values must be numbers");
    int32_t v = value.As<Napi::Number>().Int32Value();
    if (v < 0 || v > 65535) throw Napi::RangeError::New(env, "values out of range");
    values[i] = static_cast<unsigned short>(v);
  }
  union semun arg;
  arg.array = values.data();
  if (semctl(id, 0, SETALL, arg) == -1) return Errno(env, errno);
  return Napi::Number::New(env, 0);
}

// JS: semSize(id) -> the set's size or -errno. Main thread: IPC_STAT, or SEM_STAT_ANY for a
// user without read permission (SetSize).
static Napi::Value SemSize(const Napi::CallbackInfo& info) {
  int size = SetSize(ArgInt32(info, 0, "id"));
  return Napi::Number::New(info.Env(), size);
}

// JS: semStat(id) -> { key, size, mode, uid, gid, cuid, cgid, otime, ctime } or -errno. Main
// thread (semctl IPC_STAT). Times are seconds since the epoch (otime 0: never operated).
static Napi::Value SemStat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct semid_ds ds;
  union semun arg;
  arg.buf = &ds;
  if (semctl(ArgInt32(info, 0, "id"), 0, IPC_STAT, arg) == -1) return Errno(env, errno);
  Napi::Object result = Napi::Object::New(env);
  result.Set("key", Napi::Number::New(env, ds.sem_perm.__key));
  result.Set("size", Napi::Number::New(env, static_cast<double>(ds.sem_nsems)));
  result.Set("mode", Napi::Number::New(env, ds.sem_perm.mode & 0777));
  result.Set("uid", Napi::Number::New(env, ds.sem_perm.uid));
  result.Set("gid", Napi::Number::New(env, ds.sem_perm.gid));
  result.Set("cuid", Napi::Number::New(env, ds.sem_perm.cuid));
  result.Set("cgid", Napi::Number::New(env, ds.sem_perm.cgid));
  result.Set("otime", Napi::Number::New(env, static_cast<double>(ds.sem_otime)));
  result.Set("ctime", Napi::Number::New(env, static_cast<double>(ds.sem_ctime)));
  return result;
}

// JS: semSetAttributes(id, mode, uid, gid) -> 0 or -errno; -1 keeps a field. Main thread:
// IPC_STAT then IPC_SET (IPC_SET takes the whole sem_perm, so the fields not changed are read first).
static Napi::Value SemSetAttributes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int id = ArgInt32(info, 0, "id");
  int64_t mode = ArgInt64(info, 1, "mode"), uid = ArgInt64(info, 2, "uid"), gid = ArgInt64(info, 3, "gid");
  struct semid_ds ds;
  union semun arg;
  arg.buf = &ds;
  if (semctl(id, 0, IPC_STAT, arg) == -1) return Errno(env, errno);
  if (mode >= 0) ds.sem_perm.mode = static_cast<unsigned short>((ds.sem_perm.mode & ~0777) | (mode & 0777));
  if (uid >= 0) ds.sem_perm.uid = static_cast<uid_t>(uid);
  if (gid >= 0) ds.sem_perm.gid = static_cast<gid_t>(gid);
  if (semctl(id, 0, IPC_SET, arg) == -1) return Errno(env, errno);
  return Napi::Number::New(env, 0);
}

// JS: semRemove(id) -> 0 or -errno. Main thread (semctl IPC_RMID); waiters everywhere get EIDRM.
static Napi::Value SemRemove(const Napi::CallbackInfo& info) {
  int result = semctl(ArgInt32(info, 0, "id"), 0, IPC_RMID);
  return Napi::Number::New(info.Env(), result == -1 ? -errno : 0);
}

void InitSemaphores(Napi::Env env, Napi::Object exports) {
  exports.Set("semget", Napi::Function::New(env, JsEntry<SemGet>, "semget"));
  exports.Set("semopNow", Napi::Function::New(env, JsEntry<SemopNow>, "semopNow"));
  exports.Set("semopWait", Napi::Function::New(env, JsEntry<SemopWait>, "semopWait"));
  exports.Set("semctlGet", Napi::Function::New(env, JsEntry<SemctlGet>, "semctlGet"));
  exports.Set("semSetValue", Napi::Function::New(env, JsEntry<SemSetValue>, "semSetValue"));
  exports.Set("semGetAll", Napi::Function::New(env, JsEntry<SemGetAll>, "semGetAll"));
  exports.Set("semSetAll", Napi::Function::New(env, JsEntry<SemSetAll>, "semSetAll"));
  exports.Set("semStat", Napi::Function::New(env, JsEntry<SemStat>, "semStat"));
  exports.Set("semSize", Napi::Function::New(env, JsEntry<SemSize>, "semSize"));
  exports.Set("semSetAttributes", Napi::Function::New(env, JsEntry<SemSetAttributes>, "semSetAttributes"));
  exports.Set("semRemove", Napi::Function::New(env, JsEntry<SemRemove>, "semRemove"));
}

}  // namespace ipcx
