#include "file_lock.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>

#include "addon.h"
#include "blocking_wait.h"
#include "errors.h"

namespace ipcx {

namespace {

// The lock types JS passes (core's shared / exclusive / unlock), mapped here rather than trusted
// as raw l_type values.
constexpr int32_t kShared = 0;
constexpr int32_t kExclusive = 1;
constexpr int32_t kUnlock = 2;

// A struct flock for an OFD call. l_pid must be 0 for every F_OFD_* command (else EINVAL).
// A length of 0 is the kernel's "to the end of every possible file" (JS passes Infinity as 0).
struct flock MakeFlock(int32_t type, int64_t start, int64_t length) {
  struct flock request{};
  request.l_type = static_cast<short>(type == kShared ? F_RDLCK : type == kExclusive ? F_WRLCK : F_UNLCK);
  request.l_whence = SEEK_SET;
  request.l_start = static_cast<off_t>(start);
  request.l_len = static_cast<off_t>(length);
  request.l_pid = 0;
  return request;
}

struct LockArgs {
  int fd;
  int32_t type;
  int64_t start;
  int64_t length;
};

// Checks (fd, type, start, length) at `index`: the addon guards itself even though JS checked.
LockArgs ArgLock(const Napi::CallbackInfo& info, size_t index) {
  LockArgs args{ArgInt32(info, index, "fd"), ArgInt32(info, index + 1, "type"), ArgInt64(info, index + 2, "start"), ArgInt64(info, index + 3, "length")};
  if (args.type != kShared && args.type != kExclusive && args.type != kUnlock) throw Napi::RangeError::New(info.Env(), "type must be 0, 1 or 2");
  if (args.start < 0 || args.length < 0) throw Napi::RangeError::New(info.Env(), "start and length must be >= 0");
  return args;
}

// F_OFD_SETLKW on a waiter thread. The lock belongs to the open file description, not to the
// thread, so taking it here is the same as taking it on the main thread. Cancel: the kick signal's
// handler has no SA_RESTART, so fcntl returns EINTR and RunWait sees the cancel flag; a lock the
// kernel granted first makes Execute return 0 and is delivered. The descriptor stays open while
// this runs: JS closes it only after its pending waits have reported back.
class SetLockWait : public BlockingWait {
 public:
  explicit SetLockWait(LockArgs args) : args_(args) {}
  int Execute() override {
    struct flock request = MakeFlock(args_.type, args_.start, args_.length);
    return fcntl(args_.fd, F_OFD_SETLKW, &request) == 0 ? 0 : errno;
  }
  const char* Syscall() const override { return "fcntl"; }

 private:
  LockArgs args_;
};

}  // namespace

// JS: flockOpen(path, create, mode) -> fd. Main thread: open(2) of the lock file for reading and
// writing (either lock type needs its access), close-on-exec so that no child inherits the
// description and with it the locks; O_NONBLOCK so that opening a FIFO by mistake cannot block
// (it changes nothing for locks, and the description is ours alone). Throws IpcError.
static Napi::Value FlockOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "path");
  int flags = O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (info[1].ToBoolean() ? O_CREAT : 0);
  mode_t mode = static_cast<mode_t>(ArgInt32(info, 2, "mode"));
  int fd = RetryEintr([&] { return open(path.c_str(), flags, mode); });
  if (fd == -1) ThrowSysError(env, errno, "open", path.c_str());
  return Napi::Number::New(env, fd);
}

// JS: flockSet(fd, type, start, length) -> 0 or -errno (EAGAIN: another description holds a
// conflicting lock). Main thread, F_OFD_SETLK never waits. Also unlocks (type 2).
static Napi::Value FlockSet(const Napi::CallbackInfo& info) {
  LockArgs args = ArgLock(info, 0);
  struct flock request = MakeFlock(args.type, args.start, args.length);
  int result = RetryEintr([&] { return fcntl(args.fd, F_OFD_SETLK, &request); });
  return Napi::Number::New(info.Env(), result == 0 ? 0 : -errno);
}

// JS: flockWait(fd, type, start, length, callback(errno)) -> wait id. F_OFD_SETLKW on a waiter
// thread; cancelWait(id) interrupts it.
static Napi::Value FlockWaitStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LockArgs args = ArgLock(info, 0);
  if (args.type == kUnlock) throw Napi::RangeError::New(env, "an unlock never waits");
  Napi::Function callback = ArgFunction(info, 4, "callback");
  uint32_t id = GetData(env)->waits->Start(env, std::make_unique<SetLockWait>(args), callback);
  return Napi::Number::New(env, id);
}

// JS: flockGet(fd, type, start, length) -> null (no conflict), { type, start, length, pid } of
// the first conflicting lock of another description (length 0: to the end; pid -1 for an OFD
// lock, the process's pid for a traditional F_SETLK lock), or -errno. Main thread, F_OFD_GETLK.
static Napi::Value FlockGet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LockArgs args = ArgLock(info, 0);
  if (args.type == kUnlock) throw Napi::RangeError::New(env, "F_OFD_GETLK asks about a lock, not an unlock");
  struct flock request = MakeFlock(args.type, args.start, args.length);
  if (RetryEintr([&] { return fcntl(args.fd, F_OFD_GETLK, &request); }) != 0) return Napi::Number::New(env, -errno);
  if (request.l_type == F_UNLCK) return env.Null();
  Napi::Object holder = Napi::Object::New(env);
  holder.Set("type", Napi::Number::New(env, request.l_type == F_RDLCK ? kShared : kExclusive));
  holder.Set("start", Napi::Number::New(env, static_cast<double>(request.l_start)));
  holder.Set("length", Napi::Number::New(env, static_cast<double>(request.l_len)));
  holder.Set("pid", Napi::Number::New(env, request.l_pid));
  return holder;
}

void InitFileLocks(Napi::Env env, Napi::Object exports) {
  exports.Set("flockOpen", Napi::Function::New(env, JsEntry<FlockOpen>, "flockOpen"));
  exports.Set("flockSet", Napi::Function::New(env, JsEntry<FlockSet>, "flockSet"));
  exports.Set("flockWait", Napi::Function::New(env, JsEntry<FlockWaitStart>, "flockWait"));
  exports.Set("flockGet", Napi::Function::New(env, JsEntry<FlockGet>, "flockGet"));
}

}  // namespace ipcx
