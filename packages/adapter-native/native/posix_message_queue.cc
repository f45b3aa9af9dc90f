#include "posix_message_queue.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <type_traits>

#include "addon.h"
#include "errors.h"

namespace ipcx {

// The JS side hands the mqd_t to uv_poll and to close(): only sound where it is a descriptor.
static_assert(std::is_same<mqd_t, int>::value, "POSIX message queues need mqd_t to be a descriptor (Linux)");

// JS: mqOpen(name, access, create, exclusive, mode, maxMessages, messageSize) -> descriptor or
// -errno. Main thread: mq_open never waits. access: 0 read, 1 write, 2 read-write. maxMessages and
// messageSize are -1 when not given; both -1 passes no attributes (the system defaults).
// The descriptor is O_NONBLOCK (every wait goes through uv_poll) and close-on-exec.
static Napi::Value MqOpen(const Napi::CallbackInfo& info) {
  std::string name = ArgString(info, 0, "name");
  int access = ArgInt32(info, 1, "access");
  bool create = info[2].ToBoolean();
  bool exclusive = info[3].ToBoolean();
  mode_t mode = static_cast<mode_t>(ArgInt32(info, 4, "mode"));
  int64_t max_messages = ArgInt64(info, 5, "maxMessages");
  int64_t message_size = ArgInt64(info, 6, "messageSize");
  int flags = (access == 0 ? O_RDONLY : access == 1 ? O_WRONLY : O_RDWR) | O_NONBLOCK | O_CLOEXEC;
  if (create) flags |= O_CREAT;
  if (create && exclusive) flags |= O_EXCL;
  struct mq_attr attr {};
  struct mq_attr* attr_ptr = nullptr;
  if (max_messages >= 0 || message_size >= 0) {
    attr.mq_maxmsg = static_cast<long>(max_messages);
    attr.mq_msgsize = static_cast<long>(message_size);
    attr_ptr = &attr;
  }
  mqd_t fd = RetryEintr([&] { return mq_open(name.c_str(), flags, mode, attr_ptr); });
  return Napi::Number::New(info.Env(), fd == static_cast<mqd_t>(-1) ? -errno : fd);
}

// JS: mqSend(fd, bytes, offset, length, priority) -> 0 or -errno (EAGAIN when full). Main thread,
// never waits (the descriptor is non-blocking).
static Napi::Value MqSend(const Napi::CallbackInfo& info) {
  mqd_t fd = ArgInt32(info, 0, "fd");
  ByteRange range = ArgBytes(info, 1, "bytes");
  unsigned priority = static_cast<unsigned>(ArgInt64(info, 4, "priority"));
  int result = RetryEintr([&] { return mq_send(fd, reinterpret_cast<const char*>(range.data), range.length, priority); });
  return Napi::Number::New(info.Env(), result == 0 ? 0 : -errno);
}

// JS: mqReceive(fd, buffer, offset, length, priorityOut: Uint32Array) -> message length or -errno
// (EAGAIN when empty, EMSGSIZE when length < the queue's message size). Main thread, never waits.
// The message's priority is stored in priorityOut[0].
static Napi::Value MqReceive(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  mqd_t fd = ArgInt32(info, 0, "fd");
  ByteRange range = ArgBytes(info, 1, "buffer");
  if (!info[4].IsTypedArray() || info[4].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
      info[4].As<Napi::TypedArray>().ElementLength() < 1) {
    throw Napi::TypeError::New(env, "priorityOut must be a Uint32Array of length >= 1");
  }
  auto priority_out = info[4].As<Napi::Uint32Array>();
  unsigned priority = 0;
  ssize_t n = RetryEintr([&] { return mq_receive(fd, reinterpret_cast<char*>(range.data), range.length, &priority); });
  if (n < 0) return Napi::Number::New(env, -errno);
  priority_out[0] = priority;
  return Napi::Number::New(env, static_cast<double>(n));
}

// JS: mqAttributes(fd) -> { maxMessages, messageSize, currentMessages }. Main thread (mq_getattr
// never waits). Throws IpcError.
static Napi::Value MqAttributes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  mqd_t fd = ArgInt32(info, 0, "fd");
  struct mq_attr attr {};
  if (mq_getattr(fd, &attr) != 0) ThrowSysError(env, errno, "mq_getattr");
  Napi::Object out = Napi::Object::New(env);
  out.Set("maxMessages", Napi::Number::New(env, static_cast<double>(attr.mq_maxmsg)));
  out.Set("messageSize", Napi::Number::New(env, static_cast<double>(attr.mq_msgsize)));
  out.Set("currentMessages", Napi::Number::New(env, static_cast<double>(attr.mq_curmsgs)));
  return out;
}

// JS: mqUnlink(name) -> 0 or -errno. Main thread: mq_unlink never waits.
static Napi::Value MqUnlink(const Napi::CallbackInfo& info) {
  std::string name = ArgString(info, 0, "name");
  return Napi::Number::New(info.Env(), mq_unlink(name.c_str()) == 0 ? 0 : -errno);
}

// ---- Notification (mq_notify) -------------------------------------------------------------
//
// Why this design: SIGEV_SIGNAL would raise a signal in the process (Node's handlers, or any
// library's, see it; a real-time signal of our own would still interrupt every thread's calls),
// and glibc's SIGEV_THREAD runs the callback on a thread glibc makes, where no JS may run. Under
// glibc's SIGEV_THREAD lies the kernel's own interface: the raw mq_notify system call with
// sigev_notify = SIGEV_THREAD takes a netlink socket in sigev_signo and a 32-byte cookie in
// sigev_value, and when the notification fires (or is removed) the kernel queues the cookie, its
// last byte set to NOTIFY_WOKENUP or NOTIFY_REMOVED, on that socket. The socket is ours alone
// (non-blocking, close-on-exec, never passed on) and the event loop watches it with uv_poll like
// any descriptor: no signal, no thread, JS only on the main thread.

// include/uapi/linux/mqueue.h (not included: it redefines glibc's struct mq_attr).
constexpr size_t kNotifyCookieBytes = 32;
constexpr unsigned char kNotifyWokenUp = 1;

// JS: mqNotifyRegister(fd) -> the notification socket (>= 0) or -errno (EBUSY: a process is
// registered already; EBADF). Main thread: socket(AF_NETLINK) and the mq_notify system call,
// neither waits. The caller polls the socket and closes it.
static Napi::Value MqNotifyRegister(const Napi::CallbackInfo& info) {
  mqd_t fd = ArgInt32(info, 0, "fd");
  int sock = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (sock == -1) return Napi::Number::New(info.Env(), -errno);
  unsigned char cookie[kNotifyCookieBytes] = {0};
  struct sigevent event {};
  event.sigev_notify = SIGEV_THREAD;
  event.sigev_signo = sock;
  event.sigev_value.sival_ptr = cookie;  // copied by the kernel during the call
  if (syscall(SYS_mq_notify, fd, &event) != 0) {
    int error = errno;
    close(sock);
    return Napi::Number::New(info.Env(), -error);
  }
  return Napi::Number::New(info.Env(), sock);
}

// JS: mqNotifyRead(sock) -> 1 (notified: a message arrived in the empty queue), 2 (the
// registration was removed: unregistered, or this process closed a descriptor of the queue),
// 0 (nothing yet), or -errno. Main thread, never waits (MSG_DONTWAIT).
static Napi::Value MqNotifyRead(const Napi::CallbackInfo& info) {
  int sock = ArgInt32(info, 0, "sock");
  unsigned char cookie[kNotifyCookieBytes];
  ssize_t n = RetryEintr([&] { return recv(sock, cookie, sizeof cookie, MSG_DONTWAIT); });
  if (n < 0) return Napi::Number::New(info.Env(), errno == EAGAIN ? 0 : -errno);
  if (static_cast<size_t>(n) < kNotifyCookieBytes) return Napi::Number::New(info.Env(), -EIO);
  return Napi::Number::New(info.Env(), cookie[kNotifyCookieBytes - 1] == kNotifyWokenUp ? 1 : 2);
}

// JS: mqNotifyCancel(fd) -> 0 or -errno. Main thread: mq_notify(fd, NULL) removes this process's
// registration (and does nothing if another process holds it).
static Napi::Value MqNotifyCancel(const Napi::CallbackInfo& info) {
  mqd_t fd = ArgInt32(info, 0, "fd");
  return Napi::Number::New(info.Env(), syscall(SYS_mq_notify, fd, nullptr) == 0 ? 0 : -errno);
}

void InitPosixMessageQueues(Napi::Env env, Napi::Object exports) {
  exports.Set("mqNotifyRegister", Napi::Function::New(env, JsEntry<MqNotifyRegister>, "mqNotifyRegister"));
  exports.Set("mqNotifyRead", Napi::Function::New(env, JsEntry<MqNotifyRead>, "mqNotifyRead"));
  exports.Set("mqNotifyCancel", Napi::Function::New(env, JsEntry<MqNotifyCancel>, "mqNotifyCancel"));
  exports.Set("mqOpen", Napi::Function::New(env, JsEntry<MqOpen>, "mqOpen"));
  exports.Set("mqSend", Napi::Function::New(env, JsEntry<MqSend>, "mqSend"));
  exports.Set("mqReceive", Napi::Function::New(env, JsEntry<MqReceive>, "mqReceive"));
  exports.Set("mqAttributes", Napi::Function::New(env, JsEntry<MqAttributes>, "mqAttributes"));
  exports.Set("mqUnlink", Napi::Function::New(env, JsEntry<MqUnlink>, "mqUnlink"));
}

}  // namespace ipcx
