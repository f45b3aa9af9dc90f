#include "socket.h"

#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "addon.h"
#include "blocking_wait.h"
#include "descriptor.h"
#include "errors.h"

namespace ipcx {

namespace {

// How JS names an address: a path, an abstract name, autobind (bind only), or none.
enum AddressMode { kPath = 0, kAbstract = 1, kAutobind = 2, kNone = 3 };

// The most descriptors one message carries (SCM_MAX_FD in the kernel).
constexpr size_t kMaxFds = 253;

struct UnixAddress {
  sockaddr_un addr;
  socklen_t length;
};

// Builds a sockaddr_un. A path is NUL-terminated; an abstract name starts with a NUL byte and its
// length is given by addrlen alone (trailing bytes would be part of the name); autobind is the bare
// family. Returns false when the name does not fit (JS checks first).
bool MakeAddress(const std::string& name, int mode, UnixAddress* out) {
  std::memset(&out->addr, 0, sizeof out->addr);
  out->addr.sun_family = AF_UNIX;
  constexpr size_t base = offsetof(sockaddr_un, sun_path);
  if (mode == kAutobind) {
    out->length = sizeof(sa_family_t);
    return true;
  }
  if (name.size() + 1 > sizeof out->addr.sun_path) return false;
  if (mode == kAbstract) {
    std::memcpy(out->addr.sun_path + 1, name.data(), name.size());
    out->length = static_cast<socklen_t>(base + 1 + name.size());
  } else {
    std::memcpy(out->addr.sun_path, name.data(), name.size());
    out->length = static_cast<socklen_t>(base + name.size() + 1);
  }
  return true;
}

// The JS value of an address from the kernel: a path string, { abstract }, or undefined (unnamed).
Napi::Value AddressToJs(Napi::Env env, const sockaddr_un& addr, socklen_t length) {
  constexpr size_t base = offsetof(sockaddr_un, sun_path);
  if (length <= base || addr.sun_family != AF_UNIX) return env.Undefined();
  size_t size = length - base;
  if (addr.sun_path[0] == '\0') {
    Napi::Object out = Napi::Object::New(env);
    out.Set("abstract", Napi::String::New(env, addr.sun_path + 1, size - 1));
    return out;
  }
  return Napi::String::New(env, addr.sun_path, strnlen(addr.sun_path, size));
}

// Reads the (name, mode) address arguments at index, index + 1.
UnixAddress ArgAddress(const Napi::CallbackInfo& info, size_t index) {
  int mode = ArgInt32(info, index + 1, "mode");
  std::string name = mode == kPath || mode == kAbstract ? ArgString(info, index, "name") : std::string();
  UnixAddress address;
  if (!MakeAddress(name, mode, &address)) throw Napi::RangeError::New(info.Env(), "socket address too long");
  return address;
}

// A blocking connect(2), for when the server's backlog is full: a non-blocking AF_UNIX connect
// then fails with EAGAIN and nothing can be polled for room in the backlog. The socket is
// blocking (the kernel's default, kept once connected: see descriptor.h). The signal of
// BlockingWait interrupts the wait with EINTR, after which connect can simply be called again.
class ConnectWait : public BlockingWait {
 public:
  ConnectWait(int type, UnixAddress address) : type_(type), address_(address) {}
  ~ConnectWait() override {
    if (fd_ >= 0) close(fd_);
  }
  int Execute() override {
    if (fd_ < 0) {
      fd_ = socket(AF_UNIX, type_ | SOCK_CLOEXEC, 0);
      if (fd_ < 0) return errno;
    }
    if (connect(fd_, reinterpret_cast<const sockaddr*>(&address_.addr), address_.length) != 0) {
      int error = errno;
      if (error == EINTR) return EINTR;
      // A socket left connected by an interrupted call that still completed: success.
      if (error == EISCONN) return 0;
      return error;
    }
    return 0;
  }
  Napi::Value Result(Napi::Env env) override {
    int fd = fd_;
    fd_ = -1;
    return Napi::Number::New(env, fd);
  }
  const char* Syscall() const override { return "connect"; }

 private:
  int type_;
  UnixAddress address_;
  int fd_ = -1;
};

// accept4(2) on a waiter thread. No per-call flag makes accept non-blocking, and a listening
// socket's O_NONBLOCK is shared with every process that holds it (one may clear it; another may
// take the connection first): so accept never runs on the main thread. The thread waits in
// poll(2), then accepts; EAGAIN (the flag was set by someone and the connection taken) waits
// again. It works on a duplicate of the listening descriptor, so that closing the server's number
// on the main thread never leaves this thread on a reused number. The duplicate is closed as soon
// as the wait is over (on the thread, or in Cancelled before JS hears of it): the server's
// close() waits for that, so that nobody can connect to a closed server through it.
class AcceptWait : public BlockingWait {
 public:
  explicit AcceptWait(int fd) : fd_(fd) {}
  ~AcceptWait() override {
    ReleaseListener();
    if (accepted_ >= 0) close(accepted_);
  }
  int Execute() override {
    int error = Accept();
    if (error != EINTR) ReleaseListener();
    return error;
  }
  void Cancelled() override { ReleaseListener(); }
  Napi::Value Result(Napi::Env env) override {
    int fd = accepted_;
    accepted_ = -1;
    return Napi::Number::New(env, fd);
  }
  const char* Syscall() const override { return "accept4"; }

 private:
  int Accept() {
    pollfd entry{fd_, POLLIN, 0};
    if (poll(&entry, 1, -1) < 0) return errno;
    int fd = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return errno == EAGAIN || errno == ECONNABORTED ? EINTR : errno;
    accepted_ = fd;
    return 0;
  }
  void ReleaseListener() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  int fd_;
  int accepted_ = -1;
};

}  // namespace

// JS: socketOpen(type, nonblocking) -> fd. Main thread. socket(AF_UNIX, type | SOCK_CLOEXEC),
// with SOCK_NONBLOCK only for a socket that connects at once (it is private until then, see
// socketConnect). Throws IpcError.
static Napi::Value SocketOpen(const Napi::CallbackInfo& info) {
  int fd = socket(AF_UNIX, ArgInt32(info, 0, "type") | (info[1].ToBoolean() ? SOCK_NONBLOCK : 0) | SOCK_CLOEXEC, 0);
  if (fd < 0) ThrowSysError(info.Env(), errno, "socket");
  return Napi::Number::New(info.Env(), fd);
}

// After bind: gives the socket file at `path` exactly `permissions` when the umask left it
// narrower (bind creates it with permissions & ~umask, see SocketBind). Only widens to what was
// asked, and only the file bind just made: opened with O_PATH | O_NOFOLLOW (a symlink put there
// since is not followed) and checked to be a socket of ours before the chmod, which goes
// through /proc/self/fd (fchmod refuses O_PATH descriptors). If any step fails the file keeps
// the narrower mode: never more open than asked.
void GiveExactMode(const char* path, mode_t permissions) {
  int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & 07777) != permissions) {
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    chmod(link, permissions);
  }
  close(fd);
}

// JS: socketBind(fd, name, mode, permissions) -> 0 or -errno. Main thread, bind(2): creates the
// socket file of a path (EADDRINUSE if the path exists), claims an abstract name, or autobinds.
//
// A path's file gets `permissions` (-1: the kernel's default, 0777 & ~umask) with no instant at
// which it is more open. Linux's unix_bind creates the file with the mode of the socket's own
// inode masked by the umask, so fchmod(fd) BEFORE bind sets it (checked on this kernel, 6.x: a
// socket fchmod'ed to 0600 binds a 0600 file under umask 0). The umask can only take bits away;
// GiveExactMode then puts back the ones the caller asked for. Changing the umask instead would
// be racy: it is per process, and other threads create files meanwhile.
static Napi::Value SocketBind(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  UnixAddress address = ArgAddress(info, 1);
  bool is_path = ArgInt32(info, 2, "mode") == kPath;
  int permissions = info.Length() > 3 ? ArgInt32(info, 3, "permissions") : -1;
  if (permissions > 0777) throw Napi::RangeError::New(info.Env(), "permissions out of range");
  if (is_path && permissions >= 0 && fchmod(fd, static_cast<mode_t>(permissions)) != 0)
    return Napi::Number::New(info.Env(), -errno);
  int result = bind(fd, reinterpret_cast<const sockaddr*>(&address.addr), address.length);
  if (result != 0) return Napi::Number::New(info.Env(), -errno);
  if (is_path && permissions >= 0) GiveExactMode(address.addr.sun_path, static_cast<mode_t>(permissions));
  return Napi::Number::New(info.Env(), 0);
}

// JS: socketListen(fd, backlog) -> 0 or -errno. Main thread, listen(2).
static Napi::Value SocketListen(const Napi::CallbackInfo& info) {
  int result = listen(ArgInt32(info, 0, "fd"), ArgInt32(info, 1, "backlog"));
  return Napi::Number::New(info.Env(), result == 0 ? 0 : -errno);
}

// JS: socketAcceptWait(fd, callback(errno, fd)) -> wait id. accept4(SOCK_CLOEXEC) on a waiter
// thread (see AcceptWait); the new socket is blocking, the kernel's default. cancelWait(id)
// interrupts it. Throws IpcError when the descriptor cannot be duplicated.
static Napi::Value SocketAcceptWait(const Napi::CallbackInfo& info) {
  int fd = fcntl(ArgInt32(info, 0, "fd"), F_DUPFD_CLOEXEC, 3);
  if (fd < 0) ThrowSysError(info.Env(), errno, "fcntl");
  Napi::Function callback = ArgFunction(info, 1, "callback");
  uint32_t id = GetData(info.Env())->waits->Start(info.Env(), std::make_unique<AcceptWait>(fd), callback);
  return Napi::Number::New(info.Env(), id);
}

// JS: socketConnect(fd, name, mode) -> 0 or -errno. Main thread, non-blocking connect(2) of a
// socket made with socketOpen(type, true): nobody else holds it yet, so its O_NONBLOCK is ours.
// AF_UNIX answers at once (0, ENOENT, ECONNREFUSED, EPROTOTYPE, ...) or EAGAIN when the backlog is
// full; it never answers EINPROGRESS, so there is no "poll writable, then SO_ERROR" step to make.
// Once connected the flag is cleared: from now on the socket may be handed to other programs,
// which must find the kernel's default (blocking); ipcx's own calls use MSG_DONTWAIT.
static Napi::Value SocketConnect(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  UnixAddress address = ArgAddress(info, 1);
  int result = RetryEintr([&] { return connect(fd, reinterpret_cast<const sockaddr*>(&address.addr), address.length); });
  if (result != 0) return Napi::Number::New(info.Env(), -errno);
  return Napi::Number::New(info.Env(), -MakeBlocking(fd));
}

// JS: socketConnectWait(type, name, mode, callback(errno, fd)) -> wait id. A new socket's blocking
// connect(2) on a waiter thread (see ConnectWait); cancelWait(id) interrupts it.
static Napi::Value SocketConnectWait(const Napi::CallbackInfo& info) {
  int type = ArgInt32(info, 0, "type");
  UnixAddress address = ArgAddress(info, 1);
  Napi::Function callback = ArgFunction(info, 3, "callback");
  uint32_t id = GetData(info.Env())->waits->Start(info.Env(), std::make_unique<ConnectWait>(type, address), callback);
  return Napi::Number::New(info.Env(), id);
}

// JS: socketSend(fd, bytes, offset, length, fds | null, name, mode) -> bytes sent or -errno. Main
// thread, sendmsg(MSG_DONTWAIT | MSG_NOSIGNAL): never blocks, never raises SIGPIPE (EPIPE comes
// back as -EPIPE). fds travel as one SCM_RIGHTS message; mode kNone sends to the connected peer.
static Napi::Value SocketSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  ByteRange range = ArgBytes(info, 1, "bytes");
  std::vector<int> fds;
  if (info[4].IsArray()) {
    Napi::Array array = info[4].As<Napi::Array>();
    if (array.Length() > kMaxFds) throw Napi::RangeError::New(env, "too many descriptors");
    for (uint32_t i = 0; i < array.Length(); i++) fds.push_back(array.Get(i).As<Napi::Number>().Int32Value());
  }
  UnixAddress address;
  bool addressed = ArgInt32(info, 6, "mode") != kNone;
  if (addressed) address = ArgAddress(info, 5);

  iovec iov{range.data, range.length};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (addressed) {
    msg.msg_name = &address.addr;
    msg.msg_namelen = address.length;
  }
  std::vector<char> control;
  if (!fds.empty()) {
    control.assign(CMSG_SPACE(sizeof(int) * fds.size()), 0);
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* header = CMSG_FIRSTHDR(&msg);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n = RetryEintr([&] { return sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL); });
  return Napi::Number::New(env, n >= 0 ? static_cast<double>(n) : -errno);
}

// JS: socketReceive(fd, bytes, offset, length, message) -> -errno, or { bytes, truncated, fds?,
// from? }. Main thread, recvmsg(MSG_DONTWAIT | MSG_CMSG_CLOEXEC): received descriptors are
// close-on-exec from the start (no window for a fork to inherit them); their O_NONBLOCK is left
// as the sender has it (the description is shared with the sender). With message true (datagram, seqpacket) MSG_TRUNC reports a message longer than the
// buffer; a stream socket must not get that flag (it would discard bytes instead).
static Napi::Value SocketReceive(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  ByteRange range = ArgBytes(info, 1, "bytes");
  bool message = info[4].ToBoolean();
  sockaddr_un from{};
  iovec iov{range.data, range.length};
  // Aligned for cmsghdr; room for the most descriptors one message can carry.
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  int flags = MSG_DONTWAIT | MSG_CMSG_CLOEXEC | (message ? MSG_TRUNC : 0);
  ssize_t n = RetryEintr([&] { return recvmsg(fd, &msg, flags); });
  if (n < 0) return Napi::Number::New(env, -errno);

  Napi::Object out = Napi::Object::New(env);
  out.Set("bytes", Napi::Number::New(env, static_cast<double>(static_cast<size_t>(n) < range.length ? n : range.length)));
  out.Set("truncated", Napi::Boolean::New(env, (msg.msg_flags & MSG_TRUNC) != 0));
  Napi::Array fds = Napi::Array::New(env);
  for (cmsghdr* header = CMSG_FIRSTHDR(&msg); header != nullptr; header = CMSG_NXTHDR(&msg, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int received;
      std::memcpy(&received, CMSG_DATA(header) + i * sizeof(int), sizeof(int));
      fds.Set(fds.Length(), Napi::Number::New(env, received));
    }
  }
  if (fds.Length() > 0) out.Set("fds", fds);
  if (msg.msg_namelen > 0) out.Set("from", AddressToJs(env, from, msg.msg_namelen));
  return out;
}

// JS: socketNextLength(fd) -> the length of the next message of a datagram or seqpacket socket,
// or -errno (-EAGAIN: none queued). Main thread, recv(MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT) into
// no buffer: the message stays queued, and so do its descriptors (without room for control data
// the kernel passes none, and installs none). 0 for an empty message or at a seqpacket's end. Lets
// a receive size its buffer by the message instead of by the caller's maxBytes.
static Napi::Value SocketNextLength(const Napi::CallbackInfo& info) {
  int fd = ArgInt32(info, 0, "fd");
  ssize_t n = RetryEintr([&] { return recv(fd, nullptr, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT); });
  return Napi::Number::New(info.Env(), n >= 0 ? static_cast<double>(n) : -errno);
}

// JS: socketPeerCredentials(fd) -> [pid, uid, gid]. Main thread, getsockopt(SO_PEERCRED).
// Throws IpcError (ENOTCONN, EBADF, ...).
static Napi::Value SocketPeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ucred credentials{};
  socklen_t length = sizeof credentials;
  if (getsockopt(ArgInt32(info, 0, "fd"), SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) ThrowSysError(env, errno, "getsockopt");
  Napi::Array out = Napi::Array::New(env, 3);
  out.Set(0u, Napi::Number::New(env, credentials.pid));
  out.Set(1u, Napi::Number::New(env, credentials.uid));
  out.Set(2u, Napi::Number::New(env, credentials.gid));
  return out;
}

// JS: socketName(fd, peer) -> path | { abstract } | undefined. Main thread, getsockname(2) or
// getpeername(2). undefined for an unnamed socket or (peer) an unconnected one.
static Napi::Value SocketName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt32(info, 0, "fd");
  bool peer = info[1].ToBoolean();
  sockaddr_un addr{};
  socklen_t length = sizeof addr;
  int result = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &length) : getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  if (result != 0) {
    if (errno == ENOTCONN) return env.Undefined();
    ThrowSysError(env, errno, peer ? "getpeername" : "getsockname");
  }
  return AddressToJs(env, addr, length);
}

// JS: socketListening(fd) -> boolean. Main thread, getsockopt(SO_ACCEPTCONN): tells a listening
// socket from a connected one when a descriptor arrives from another process. Throws IpcError.
static Napi::Value SocketListening(const Napi::CallbackInfo& info) {
  int value = 0;
  socklen_t length = sizeof value;
  if (getsockopt(ArgInt32(info, 0, "fd"), SOL_SOCKET, SO_ACCEPTCONN, &value, &length) != 0) ThrowSysError(info.Env(), errno, "getsockopt");
  return Napi::Boolean::New(info.Env(), value != 0);
}

void InitSockets(Napi::Env env, Napi::Object exports) {
  exports.Set("socketOpen", Napi::Function::New(env, JsEntry<SocketOpen>, "socketOpen"));
  exports.Set("socketBind", Napi::Function::New(env, JsEntry<SocketBind>, "socketBind"));
  exports.Set("socketListen", Napi::Function::New(env, JsEntry<SocketListen>, "socketListen"));
  exports.Set("socketAcceptWait", Napi::Function::New(env, JsEntry<SocketAcceptWait>, "socketAcceptWait"));
  exports.Set("socketConnect", Napi::Function::New(env, JsEntry<SocketConnect>, "socketConnect"));
  exports.Set("socketConnectWait", Napi::Function::New(env, JsEntry<SocketConnectWait>, "socketConnectWait"));
  exports.Set("socketSend", Napi::Function::New(env, JsEntry<SocketSend>, "socketSend"));
  exports.Set("socketReceive", Napi::Function::New(env, JsEntry<SocketReceive>, "socketReceive"));
  exports.Set("socketNextLength", Napi::Function::New(env, JsEntry<SocketNextLength>, "socketNextLength"));
  exports.Set("socketPeerCredentials", Napi::Function::New(env, JsEntry<SocketPeerCredentials>, "socketPeerCredentials"));
  exports.Set("socketName", Napi::Function::New(env, JsEntry<SocketName>, "socketName"));
  exports.Set("socketListening", Napi::Function::New(env, JsEntry<SocketListening>, "socketListening"));
}

}  // namespace ipcx
