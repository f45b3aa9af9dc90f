#include "fifo.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "addon.h"
#include "blocking_wait.h"
#include "descriptor.h"
#include "errors.h"

namespace ipcx {

namespace {

// A blocking open(2) of a FIFO, which returns once the other side has opened it.
class FifoOpen : public BlockingWait {
 public:
  FifoOpen(std::string path, bool write) : path_(std::move(path)), write_(write) {}
  int Execute() override {
    // Blocking, the kernel's default: the description may be handed to other programs; ipcx
    // reads and writes through a private description of its own (see descriptor.h).
    int fd = open(path_.c_str(), (write_ ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
    if (fd == -1) return errno;
    fd_ = fd;
    return 0;
  }
  Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, fd_); }
  const char* Syscall() const override { return "open"; }

 private:
  std::string path_;
  bool write_;
  int fd_ = -1;
};

}  // namespace

// JS: mkfifo(path, mode). Main thread (a metadata call on a local file system). Throws IpcError.
static void Mkfifo(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0, "path");
  if (mkfifo(path.c_str(), static_cast<mode_t>(ArgInt32(info, 1, "mode"))) != 0) ThrowSysError(info.Env(), errno, "mkfifo", path.c_str());
}

// JS: unlink(path). Main thread. Throws IpcError.
static void Unlink(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0, "path");
  if (unlink(path.c_str()) != 0) ThrowSysError(info.Env(), errno, "unlink", path.c_str());
}

// JS: openFifoNow(path, write) -> fd or -errno. Main thread, O_NONBLOCK open: a reader opens at
// once; a writer gets -ENXIO while there is no reader. The flag is cleared again right away (the
// description is still ours alone), so that a program it is handed to sees a blocking descriptor.
static Napi::Value OpenFifoNow(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0, "path");
  bool write = info[1].ToBoolean();
  int fd = RetryEintr([&] { return open(path.c_str(), (write ? O_WRONLY : O_RDONLY) | O_NONBLOCK | O_CLOEXEC); });
  if (fd == -1) return Napi::Number::New(info.Env(), -errno);
  struct stat st;
  if (fstat(fd, &st) == 0 && !S_ISFIFO(st.st_mode)) {
    close(fd);
    return Napi::Number::New(info.Env(), -EINVAL);
  }
  int error = MakeBlocking(fd);
  if (error != 0) {
    close(fd);
    return Napi::Number::New(info.Env(), -error);
  }
  return Napi::Number::New(info.Env(), fd);
}

// JS: openFifoWait(path, write, callback(errno, fd)) -> wait id. The blocking open runs on a
// waiter thread; cancelWait(id) interrupts it.
static Napi::Value OpenFifoWait(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0, "path");
  bool write = info[1].ToBoolean();
  Napi::Function callback = ArgFunction(info, 2, "callback");
  uint32_t id = GetData(info.Env())->waits->Start(info.Env(), std::make_unique<FifoOpen>(path, write), callback);
  return Napi::Number::New(info.Env(), id);
}

void InitFifos(Napi::Env env, Napi::Object exports) {
  exports.Set("mkfifo", Napi::Function::New(env, JsEntry<Mkfifo>, "mkfifo"));
  exports.Set("unlink", Napi::Function::New(env, JsEntry<Unlink>, "unlink"));
  exports.Set("openFifoNow", Napi::Function::New(env, JsEntry<OpenFifoNow>, "openFifoNow"));
  exports.Set("openFifoWait", Napi::Function::New(env, JsEntry<OpenFifoWait>, "openFifoWait"));
}

}  // namespace ipcx
