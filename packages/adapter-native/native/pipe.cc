#include "pipe.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addon.h"
#include "errors.h"

namespace ipcx {

// JS: pipe() -> [readFd, writeFd]. Main thread. pipe2(O_CLOEXEC): close-on-exec so no unrelated
// child inherits an end (which would keep EOF from ever coming); children that should get an end
// receive it explicitly through processes.spawn. Blocking, the kernel's default: the description
// is shared with every process the end is handed to, and ipcx's own calls do not need the flag
// (see descriptor.h).
static Napi::Value Pipe(const Napi::CallbackInfo& info) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) ThrowSysError(info.Env(), errno, "pipe2");
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, fds[0]);
  out.Set(1u, fds[1]);
  return out;
}

// JS: socketpair(type) -> [fd, fd], type 1 stream, 2 datagram, 5 seqpacket. Main thread.
// Blocking descriptions, as for pipe(): ipcx's calls use MSG_DONTWAIT.
static Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  int type = ArgInt32(info, 0, "type");
  int fds[2];
  if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) != 0) ThrowSysError(info.Env(), errno, "socketpair");
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, fds[0]);
  out.Set(1u, fds[1]);
  return out;
}

// JS: pipeCapacity(fd) -> bytes (F_GETPIPE_SZ). Main thread. Throws IpcError.
static Napi::Value PipeCapacity(const Napi::CallbackInfo& info) {
  int size = fcntl(ArgInt32(info, 0, "fd"), F_GETPIPE_SZ);
  if (size == -1) ThrowSysError(info.Env(), errno, "fcntl");
  return Napi::Number::New(info.Env(), size);
}

// JS: setPipeCapacity(fd, bytes) -> bytes the kernel chose (F_SETPIPE_SZ). Main thread. Throws
// IpcError: EPERM above /proc/sys/fs/pipe-max-size, EBUSY below the bytes now buffered.
static Napi::Value SetPipeCapacity(const Napi::CallbackInfo& info) {
  int size = fcntl(ArgInt32(info, 0, "fd"), F_SETPIPE_SZ, ArgInt32(info, 1, "bytes"));
  if (size == -1) ThrowSysError(info.Env(), errno, "fcntl");
  return Napi::Number::New(info.Env(), size);
}

void InitPipes(Napi::Env env, Napi::Object exports) {
  exports.Set("pipe", Napi::Function::New(env, JsEntry<Pipe>, "pipe"));
  exports.Set("socketpair", Napi::Function::New(env, JsEntry<SocketPair>, "socketpair"));
  exports.Set("pipeCapacity", Napi::Function::New(env, JsEntry<PipeCapacity>, "pipeCapacity"));
  exports.Set("setPipeCapacity", Napi::Function::New(env, JsEntry<SetPipeCapacity>, "setPipeCapacity"));
}

}  // namespace ipcx
