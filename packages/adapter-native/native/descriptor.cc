#include "descriptor.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addon.h"
#include "errors.h"

namespace ipcx {

int MakeNonBlockingCloexec(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) return errno;
  int fdflags = fcntl(fd, F_GETFD);
  if (fdflags == -1 || fcntl(fd, F_SETFD, fdflags | FD_CLOEXEC) == -1) return errno;
  return 0;
}

// JS: read(fd, bytes, offset, length) -> bytes read (0 = EOF) or -errno. Main thread, never
// blocks (the descriptor is non-blocking).
static Napi::Value Read(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  ByteRange range = ArgBytes(info, 1, "bytes");
  ssize_t n = RetryEintr([&] { return read(fd, range.data, range.length); });
  return Napi::Number::New(info.Env(), n >= 0 ? static_cast<double>(n) : -errno);
}

// JS: write(fd, bytes, offset, length) -> bytes written or -errno. Main thread, never blocks.
// EPIPE comes back as -EPIPE: Node ignores SIGPIPE, so the process is not killed.
static Napi::Value Write(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  ByteRange range = ArgBytes(info, 1, "bytes");
  ssize_t n = RetryEintr([&] { return write(fd, range.data, range.length); });
  return Napi::Number::New(info.Env(), n >= 0 ? static_cast<double>(n) : -errno);
}

// JS: close(fd) -> 0 or -errno. Main thread. Not retried on EINTR: on Linux the descriptor is
// released even then, and a retry could close a descriptor another thread just got.
static Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  return Napi::Number::New(info.Env(), close(fd) == 0 ? 0 : -errno);
}

// JS: shutdown(fd, how) -> 0 or -errno (how: 0 read, 1 write, 2 both). Main thread.
static Napi::Value Shutdown(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  int how = ArgInt32(info, 1, "how");
  return Napi::Number::New(info.Env(), shutdown(fd, how) == 0 ? 0 : -errno);
}

// JS: describe(fd) -> { kind: 'fifo'|'socket'|'file'|'other', access: 'read'|'write'|'readwrite',
// socketType?, socketDomain? } so that a descriptor received from another process can be revived
// as the right ipcx object. Throws IpcError (fstat/fcntl) for a bad descriptor. Main thread.
static Napi::Value Describe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  struct stat st;
  if (fstat(fd, &st) != 0) ThrowSysError(env, errno, "fstat");
  int flags = fcntl(fd, F_GETFL);
  if (flags == -1) ThrowSysError(env, errno, "fcntl");
  Napi::Object out = Napi::Object::New(env);
  int mode = flags & O_ACCMODE;
  out.Set("access", mode == O_RDONLY ? "read" : mode == O_WRONLY ? "write" : "readwrite");
  if (S_ISFIFO(st.st_mode)) {
    out.Set("kind", "fifo");
  } else if (S_ISSOCK(st.st_mode)) {
    out.Set("kind", "socket");
    int type = 0, domain = 0;
    socklen_t len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) ThrowSysError(env, errno, "getsockopt");
    len = sizeof domain;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0) ThrowSysError(env, errno, "getsockopt");
    out.Set("socketType", type == SOCK_STREAM ? "stream" : type == SOCK_DGRAM ? "datagram" : type == SOCK_SEQPACKET ? "seqpacket" : "other");
    out.Set("socketDomain", domain == AF_UNIX ? "unix" : domain == AF_INET ? "inet" : domain == AF_INET6 ? "inet6" : "other");
  } else if (S_ISREG(st.st_mode)) {
    out.Set("kind", "file");
  } else {
    out.Set("kind", "other");
  }
  return out;
}

// JS: setNonBlocking(fd) -> 0 or -errno. Main thread. Also sets close-on-exec.
static Napi::Value SetNonBlocking(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), -MakeNonBlockingCloexec(ArgInt32(info, 0, "fd")));
}

void InitDescriptors(Napi::Env env, Napi::Object exports) {
  exports.Set("read", Napi::Function::New(env, Read, "read"));
  exports.Set("write", Napi::Function::New(env, Write, "write"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("shutdown", Napi::Function::New(env, Shutdown, "shutdown"));
  exports.Set("describe", Napi::Function::New(env, Describe, "describe"));
  exports.Set("setNonBlocking", Napi::Function::New(env, SetNonBlocking, "setNonBlocking"));
}

}  // namespace ipcx
