#include "descriptor.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "addon.h"
#include "blocking_wait.h"
#include "errors.h"
#include "malloc_buffer.h"

namespace ipcx {

int MakeNonBlockingCloexec(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) return errno;
  int fdflags = fcntl(fd, F_GETFD);
  if (fdflags == -1 || fcntl(fd, F_SETFD, fdflags | FD_CLOEXEC) == -1) return errno;
  return 0;
}

int MakeBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags == -1) return errno;
  if ((flags & O_NONBLOCK) != 0 && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1) return errno;
  return 0;
}

namespace {

// What a descriptor is, from fstat and, for the kinds fstat cannot tell apart (memfd among
// regular files, eventfd/epoll/timerfd among anonymous inodes), the link /proc/self/fd/N.
std::string LinkOf(int fd) {
  char path[64];
  char target[256];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(path, target, sizeof target - 1);
  if (n < 0) return std::string();
  return std::string(target, static_cast<size_t>(n));
}

const char* TypeOf(int fd, const struct stat& st) {
  switch (st.st_mode & S_IFMT) {
    case S_IFREG:
      return LinkOf(fd).rfind("/memfd:", 0) == 0 ? "memfd" : "file";
    case S_IFDIR:
      return "directory";
    case S_IFCHR:
      return "character-device";
    case S_IFBLK:
      return "block-device";
    case S_IFIFO:
      return "fifo";
    case S_IFSOCK:
      return "socket";
    case S_IFLNK:
      return "symlink";
    default: {
      std::string link = LinkOf(fd);
      if (link.find("[eventfd]") != std::string::npos) return "eventfd";
      if (link.find("[eventpoll]") != std::string::npos) return "epoll";
      if (link.find("[timerfd]") != std::string::npos) return "timerfd";
      if (link.find("[signalfd]") != std::string::npos) return "signalfd";
      if (link.find("pidfd") != std::string::npos) return "pidfd";
      if (link.find("inotify") != std::string::npos) return "inotify";
      return "other";
    }
  }
}

// The most a waiting read allocates before the kernel has delivered anything (the default maxBytes
// of a read; src/descriptor-stream.ts's READ_CHUNK_BYTES).
constexpr size_t kReadChunk = 64 * 1024;

// A read or write of a generic descriptor that could not complete without waiting (RWF_NOWAIT
// said EAGAIN, or the file does not support it): the blocking call, made on a waiter thread so
// that the event loop never waits for a disk, a device or an eventfd. The bytes are copied in
// (write) or out (read) so that no JS memory is touched off the main thread. A signal from
// cancelWait interrupts a call that waits (EINTR), and the call is not repeated then.
//
// A read's buffer is sized by what the kernel delivers, not by maxBytes, which is only an upper
// bound (a read with maxBytes 2^30 used to allocate and zero-fill 1 GiB on the main thread before
// it waited): the blocking call reads at most kReadChunk; only when that comes back full does the
// read go on, into a buffer twice the bytes so far, with calls that do not wait, until one returns
// less than asked or maxBytes is reached. Calls that do not wait: for a regular file or block
// device, plain reads (they wait only for the disk, as the first one did); otherwise RWF_NOWAIT,
// or where the file has none (a FIFO, many devices) a read of what FIONREAD says is there (a
// descriptor without FIONREAD ends the read). A later call that fails, or memory that runs short,
// ends the read with the bytes it has; only a first buffer that cannot be had is ENOMEM.
//
// It works on a duplicate of the descriptor (closed by the destructor), so that closing the
// object's number on the main thread never leaves this thread on a reused number. If the shared
// description has O_NONBLOCK (set by whoever made it) the call says EAGAIN: the thread then waits
// in poll(2) and calls again, so the result does not depend on that flag either.
class DescriptorIo : public BlockingWait {
 public:
  // A write of `bytes`.
  DescriptorIo(int fd, std::vector<uint8_t> bytes, int64_t position) : fd_(fd), write_(true), bytes_(std::move(bytes)), position_(position) {}
  // A read of up to `max_bytes`.
  DescriptorIo(int fd, size_t max_bytes, int64_t position) : fd_(fd), write_(false), max_bytes_(max_bytes), position_(position) {}
  ~DescriptorIo() override { Release(); }
  void Cancelled() override { Release(); }
  int Execute() override {
    int error = Call();
    if (error != EINTR) Release();
    return error;
  }
  // One blocking call (after waiting for readiness when the last call said EAGAIN).
  int Call() {
    if (waitReady_) {
      pollfd entry{fd_, static_cast<short>(write_ ? POLLOUT : POLLIN), 0};
      if (poll(&entry, 1, -1) < 0) return errno;
      waitReady_ = false;
    }
    if (!write_ && !read_.Grow(std::min(max_bytes_, kReadChunk))) return ENOMEM;
    ssize_t n;
    if (write_)
      n = position_ >= 0 ? pwrite(fd_, bytes_.data(), bytes_.size(), position_) : ::write(fd_, bytes_.data(), bytes_.size());
    else
      n = position_ >= 0 ? pread(fd_, read_.data(), read_.size(), position_) : ::read(fd_, read_.data(), read_.size());
    if (n < 0 && errno == EAGAIN) {
      waitReady_ = true;
      return EINTR;  // "call again": waits for readiness first
    }
    if (n < 0) return errno;
    done_ = static_cast<size_t>(n);
    if (!write_) ReadOn();
    return 0;
  }
  Napi::Value Result(Napi::Env env) override {
    if (write_) return Napi::Number::New(env, static_cast<double>(done_));
    // The buffer goes to JS as it is, not copied: a copy needs as much memory again, and Node ends
    // the process when it cannot have it (node::Buffer::Copy: FatalProcessOutOfMemory, measured
    // with a 256 MiB read under ulimit -v). NewOrCopy copies only where external buffers are not
    // allowed (and then frees ours); when it throws, ours was not freed.
    read_.Shrink(done_);
    uint8_t* data = read_.Take();
    try {
      return Napi::Buffer<uint8_t>::NewOrCopy(env, data, done_, [](Napi::Env, uint8_t* bytes) { free(bytes); });
    } catch (...) {
      free(data);
      throw;
    }
  }
  const char* Syscall() const override { return write_ ? (position_ >= 0 ? "pwrite" : "write") : (position_ >= 0 ? "pread" : "read"); }

 private:
  // After the first read: more without waiting, as described above, if it filled its buffer.
  void ReadOn() {
    if (done_ < read_.size() || done_ >= max_bytes_) return;
    struct stat st;
    if (fstat(fd_, &st) != 0) return;
    enum { kNowait, kPlain, kCounted } how = S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) ? kPlain : kNowait;
    while (done_ < max_bytes_) {
      if (done_ == read_.size() && !read_.Grow(std::min(max_bytes_, 2 * done_))) return;
      size_t room = read_.size() - done_;
      size_t ask = room;
      if (how == kCounted) {
        int ready = 0;
        if (ioctl(fd_, FIONREAD, &ready) != 0 || ready <= 0) return;
        ask = std::min(room, static_cast<size_t>(ready));
      }
      iovec iov{read_.data() + done_, ask};
      int64_t at = position_ >= 0 ? position_ + static_cast<int64_t>(done_) : -1;
      ssize_t n = preadv2(fd_, &iov, 1, at, how == kNowait ? RWF_NOWAIT : 0);
      if (n < 0 && errno == EOPNOTSUPP && how == kNowait) {
        how = kCounted;
        continue;
      }
      if (n <= 0) return;
      done_ += static_cast<size_t>(n);
      // Less than there was room for: that was all there is now.
      if (static_cast<size_t>(n) < room) return;
    }
  }
  void Release() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  int fd_;
  bool write_;
  std::vector<uint8_t> bytes_;
  MallocBuffer read_;  // grown as bytes arrive
  size_t max_bytes_ = 0;
  int64_t position_;
  size_t done_ = 0;
  bool waitReady_ = false;
};

// Whether this kernel honours RWF_NOWAIT on pipes (Linux 6.x does; older ones say EOPNOTSUPP).
// Probed once on a pipe of our own.
bool ProbePipeNowait() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  char byte;
  iovec iov{&byte, 1};
  ssize_t n = preadv2(fds[0], &iov, 1, -1, RWF_NOWAIT);
  bool supported = n < 0 && errno == EAGAIN;
  close(fds[0]);
  close(fds[1]);
  return supported;
}

}  // namespace

// JS: read(fd, bytes, offset, length) -> bytes read (0 = EOF) or -errno. Main thread, read(2) on
// a description that only ipcx holds with O_NONBLOCK (a private one, see descriptor.h).
static Napi::Value Read(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  ByteRange range = ArgBytes(info, 1, "bytes");
  ssize_t n = RetryEintr([&] { return read(fd, range.data, range.length); });
  return Napi::Number::New(info.Env(), n >= 0 ? static_cast<double>(n) : -errno);
}

// JS: write(fd, bytes, offset, length) -> bytes written or -errno. Main thread, write(2) on a
// private O_NONBLOCK description. EPIPE comes back as -EPIPE: Node ignores SIGPIPE.
static Napi::Value Write(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  ByteRange range = ArgBytes(info, 1, "bytes");
  ssize_t n = RetryEintr([&] { return write(fd, range.data, range.length); });
  return Napi::Number::New(info.Env(), n >= 0 ? static_cast<double>(n) : -errno);
}

// JS: readNowait(fd, bytes, offset, length) -> bytes read, or -errno (EAGAIN: nothing there;
// EOPNOTSUPP: this kind of file has no RWF_NOWAIT). Main thread, preadv2(RWF_NOWAIT) at the
// current offset: never waits, whatever O_NONBLOCK says on the shared description.
static Napi::Value ReadNowait(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  ByteRange range = ArgBytes(info, 1, "bytes");
  iovec iov{range.data, range.length};
  ssize_t n = RetryEintr([&] { return preadv2(fd, &iov, 1, -1, RWF_NOWAIT); });
  return Napi::Number::New(info.Env(), n >= 0 ? static_cast<double>(n) : -errno);
}

// JS: writeNowait(fd, bytes, offset, length) -> bytes written or -errno. Main thread,
// pwritev2(RWF_NOWAIT) at the current offset (see readNowait). EPIPE as -EPIPE.
static Napi::Value WriteNowait(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  ByteRange range = ArgBytes(info, 1, "bytes");
  iovec iov{range.data, range.length};
  ssize_t n = RetryEintr([&] { return pwritev2(fd, &iov, 1, -1, RWF_NOWAIT); });
  return Napi::Number::New(info.Env(), n >= 0 ? static_cast<double>(n) : -errno);
}

// JS: recv(fd, bytes, offset, length) -> bytes (0 = EOF) or -errno. Main thread,
// recv(MSG_DONTWAIT): non-blocking for this call only, whoever changes the shared flags.
static Napi::Value Recv(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  ByteRange range = ArgBytes(info, 1, "bytes");
  ssize_t n = RetryEintr([&] { return recv(fd, range.data, range.length, MSG_DONTWAIT); });
  return Napi::Number::New(info.Env(), n >= 0 ? static_cast<double>(n) : -errno);
}

// JS: send(fd, bytes, offset, length) -> bytes or -errno. Main thread,
// send(MSG_DONTWAIT | MSG_NOSIGNAL): never waits, never raises SIGPIPE.
static Napi::Value Send(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  ByteRange range = ArgBytes(info, 1, "bytes");
  ssize_t n = RetryEintr([&] { return send(fd, range.data, range.length, MSG_DONTWAIT | MSG_NOSIGNAL); });
  return Napi::Number::New(info.Env(), n >= 0 ? static_cast<double>(n) : -errno);
}

// JS: reopenPrivate(fd, access) -> new fd or -errno; access 0 read, 1 write. Main thread.
// open("/proc/self/fd/N", O_NONBLOCK | O_CLOEXEC): a new open file description of the same pipe
// or FIFO that only this process holds, so its O_NONBLOCK is ours alone. O_NONBLOCK also keeps
// the open itself from waiting: a writer gets ENXIO when no reader is left (a write would have
// failed with EPIPE then).
static Napi::Value ReopenPrivate(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  int access = ArgInt32(info, 1, "access") == 1 ? O_WRONLY : O_RDONLY;
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  int result = RetryEintr([&] { return open(path, access | O_NONBLOCK | O_CLOEXEC); });
  return Napi::Number::New(info.Env(), result >= 0 ? result : -errno);
}

// JS: pipeNowaitSupported() -> boolean. Main thread (probed once per process).
static Napi::Value PipeNowaitSupported(const Napi::CallbackInfo& info) {
  static const bool supported = ProbePipeNowait();
  return Napi::Boolean::New(info.Env(), supported);
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

// JS: describe(fd) -> { kind: 'fifo'|'socket'|'file'|'other', type, access: 'read'|'write'|
// 'readwrite', socketType?, socketDomain? } so that a descriptor received from another process
// can be revived as the right ipcx object (type: see TypeOf). Throws IpcError (fstat/fcntl) for
// a bad descriptor. Main thread.
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
  out.Set("type", TypeOf(fd, st));
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

// JS: stat(fd) -> { type, size, mode, uid, gid, dev, ino }. Main thread, fstat(2) (a metadata
// call that does not wait for data). Throws IpcError.
static Napi::Value Stat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  struct stat st;
  if (fstat(fd, &st) != 0) ThrowSysError(env, errno, "fstat");
  Napi::Object out = Napi::Object::New(env);
  out.Set("type", TypeOf(fd, st));
  out.Set("size", Napi::Number::New(env, static_cast<double>(st.st_size)));
  out.Set("mode", Napi::Number::New(env, st.st_mode & 07777));
  out.Set("uid", Napi::Number::New(env, st.st_uid));
  out.Set("gid", Napi::Number::New(env, st.st_gid));
  out.Set("dev", Napi::Number::New(env, static_cast<double>(st.st_dev)));
  out.Set("ino", Napi::Number::New(env, static_cast<double>(st.st_ino)));
  return out;
}

// JS: dup(fd) -> new fd. Main thread, fcntl(F_DUPFD_CLOEXEC, 3): the same open file description
// under a new number (never 0-2). Throws IpcError (EBADF, EMFILE).
static Napi::Value Dup(const Napi::CallbackInfo& info) {
  int fd = fcntl(ArgInt32(info, 0, "fd"), F_DUPFD_CLOEXEC, 3);
  if (fd < 0) ThrowSysError(info.Env(), errno, "fcntl");
  return Napi::Number::New(info.Env(), fd);
}

// JS: setCloexec(fd) -> 0 or -errno. Main thread. For descriptors a child inherited: close-on-exec,
// so a grandchild does not keep a pipe end open by accident. O_NONBLOCK is left alone (shared).
static Napi::Value SetCloexec(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  int fdflags = fcntl(fd, F_GETFD);
  if (fdflags == -1 || fcntl(fd, F_SETFD, fdflags | FD_CLOEXEC) == -1) return Napi::Number::New(info.Env(), -errno);
  return Napi::Number::New(info.Env(), 0);
}

// JS: setBlocking(fd) -> 0 or -errno. Main thread. Clears O_NONBLOCK on a description ipcx just
// made and nobody else holds yet (a FIFO opened with O_NONBLOCK, a socket after its connect).
static Napi::Value SetBlocking(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), -MakeBlocking(ArgInt32(info, 0, "fd")));
}

// JS: ioNow(fd, write, bytes, offset, length, position) -> bytes read or written, or -errno.
// Main thread, preadv2/pwritev2(RWF_NOWAIT) at `position` (-1: the file offset). -EAGAIN or
// -EOPNOTSUPP mean "would wait": JS then calls ioWait.
static Napi::Value IoNow(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  bool write = info[1].ToBoolean();
  ByteRange range = ArgBytes(info, 2, "bytes");
  int64_t position = ArgInt64(info, 5, "position");
  iovec iov{range.data, range.length};
  ssize_t n = RetryEintr([&] { return write ? pwritev2(fd, &iov, 1, position, RWF_NOWAIT) : preadv2(fd, &iov, 1, position, RWF_NOWAIT); });
  return Napi::Number::New(info.Env(), n >= 0 ? static_cast<double>(n) : -errno);
}

// JS: ioWait(fd, write, bytes, offset, length, position, callback(errno, result)) -> wait id.
// On a waiter thread, the blocking write/pwrite of bytes[offset, offset + length) (result: bytes
// written; the bytes are copied, so the thread never touches JS memory), or the blocking
// read/pread of up to `length` bytes (1 to 2^30; `bytes` is null: result, a new Buffer of what was
// read, its memory sized by that, see DescriptorIo). cancelWait(id) interrupts it.
static Napi::Value IoWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  bool write = info[1].ToBoolean();
  std::vector<uint8_t> bytes;
  int64_t max_bytes = 0;
  if (write) {
    ByteRange range = ArgBytes(info, 2, "bytes");
    bytes.assign(range.data, range.data + range.length);
  } else {
    max_bytes = ArgInt64(info, 4, "length");
    if (max_bytes < 1 || max_bytes > (int64_t{1} << 30)) throw Napi::RangeError::New(env, "length out of range");
  }
  int64_t position = ArgInt64(info, 5, "position");
  Napi::Function callback = ArgFunction(info, 6, "callback");
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) ThrowSysError(env, errno, "fcntl");
  std::unique_ptr<DescriptorIo> io;
  try {
    io = write ? std::make_unique<DescriptorIo>(copy, std::move(bytes), position) : std::make_unique<DescriptorIo>(copy, static_cast<size_t>(max_bytes), position);
  } catch (...) {
    close(copy);
    throw;
  }
  uint32_t id = GetData(env)->waits->Start(env, std::move(io), callback);
  return Napi::Number::New(env, id);
}

void InitDescriptors(Napi::Env env, Napi::Object exports) {
  exports.Set("read", Napi::Function::New(env, JsEntry<Read>, "read"));
  exports.Set("write", Napi::Function::New(env, JsEntry<Write>, "write"));
  exports.Set("readNowait", Napi::Function::New(env, JsEntry<ReadNowait>, "readNowait"));
  exports.Set("writeNowait", Napi::Function::New(env, JsEntry<WriteNowait>, "writeNowait"));
  exports.Set("recv", Napi::Function::New(env, JsEntry<Recv>, "recv"));
  exports.Set("send", Napi::Function::New(env, JsEntry<Send>, "send"));
  exports.Set("reopenPrivate", Napi::Function::New(env, JsEntry<ReopenPrivate>, "reopenPrivate"));
  exports.Set("pipeNowaitSupported", Napi::Function::New(env, JsEntry<PipeNowaitSupported>, "pipeNowaitSupported"));
  exports.Set("close", Napi::Function::New(env, JsEntry<Close>, "close"));
  exports.Set("shutdown", Napi::Function::New(env, JsEntry<Shutdown>, "shutdown"));
  exports.Set("describe", Napi::Function::New(env, JsEntry<Describe>, "describe"));
  exports.Set("stat", Napi::Function::New(env, JsEntry<Stat>, "stat"));
  exports.Set("dup", Napi::Function::New(env, JsEntry<Dup>, "dup"));
  exports.Set("setCloexec", Napi::Function::New(env, JsEntry<SetCloexec>, "setCloexec"));
  exports.Set("setBlocking", Napi::Function::New(env, JsEntry<SetBlocking>, "setBlocking"));
  exports.Set("ioNow", Napi::Function::New(env, JsEntry<IoNow>, "ioNow"));
  exports.Set("ioWait", Napi::Function::New(env, JsEntry<IoWait>, "ioWait"));
}

}  // namespace ipcx
