#include "message_queue.h"

#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/types.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
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

namespace {

// Receive selection bits from JS (kept apart from the kernel's flag values on purpose: JS never
// needs to know MSG_EXCEPT's number).
constexpr int kReceiveExcept = 1;
constexpr int kReceiveNoError = 2;

int ReceiveFlags(int bits) {
  return ((bits & kReceiveExcept) ? MSG_EXCEPT : 0) | ((bits & kReceiveNoError) ? MSG_NOERROR : 0);
}

// struct msgbuf is { long mtype; char mtext[]; }, in memory from malloc (aligned for the long).
// It is left uninitialized: a large buffer costs address space only, for the pages msgrcv never
// fills. Allocation never throws: Reserve says false and the caller answers ENOMEM. A larger
// buffer replaces the old one, which is freed first (its bytes are not needed: a receive grows
// only after msgrcv left the message queued), so growing never holds both. Take hands the memory
// over (to JS, see MessageValue) instead of copying a large message out of it.
class MessageBuffer {
 public:
  bool Reserve(size_t text_bytes) { return bytes_.Reserve(sizeof(long) + text_bytes); }
  // Gives back what lies beyond `text_bytes` of text, when realloc can.
  void Shrink(size_t text_bytes) { bytes_.Shrink(sizeof(long) + text_bytes); }
  // The memory, now the caller's to free().
  long* Take() { return reinterpret_cast<long*>(bytes_.Take()); }
  void* raw() { return bytes_.data(); }
  long& type() { return *reinterpret_cast<long*>(bytes_.data()); }
  char* text() { return reinterpret_cast<char*>(bytes_.data() + sizeof(long)); }

 private:
  MallocBuffer bytes_;
};

// Above this, a non-blocking call uses a buffer of its own rather than growing the scratch one.
constexpr size_t kScratchLimit = 64 * 1024;

// The main thread's receive buffer for the non-blocking attempt (one per thread, so one per
// Node environment), grown to the largest maxBytes asked for.
thread_local MessageBuffer receive_scratch;
thread_local MessageBuffer send_scratch;

// The system's largest message (/proc/sys/kernel/msgmax), or 8192 if unreadable.
long ReadMsgmax() {
  long value = 8192;
  if (FILE* file = fopen("/proc/sys/kernel/msgmax", "re")) {
    if (fscanf(file, "%ld", &value) != 1 || value <= 0) value = 8192;
    fclose(file);
  }
  return value;
}

// A receive buffer is sized by what the kernel actually delivers, not by the caller's maxBytes,
// which is only an upper bound (8 waits with maxBytes 2^31 - 1 used to allocate 16 GiB up front,
// and the std::bad_alloc of one of them ended in std::terminate). No message is longer than
// msgmax (8192 by default), so a buffer of min(maxBytes, 64 KiB) takes nearly every message;
// a longer one (msgmax raised) makes msgrcv fail with E2BIG and stay queued, and the buffer then
// doubles, up to maxBytes, and the receive is made again. MSG_NOERROR is only passed once the
// buffer is maxBytes long, so a message is never cut shorter than the caller allowed. When no
// buffer of the size needed can be had, the receive answers ENOMEM and the message stays queued.
// Once msgrcv has taken a message, a large one needs no more memory of its size (MessageValue).
class SizedReceive {
 public:
  SizedReceive(int flags, size_t max_bytes) : flags_(flags), max_bytes_(max_bytes), size_(std::min(max_bytes, kScratchLimit)) {}
  // msgrcv into buffer (extra flags added, e.g. IPC_NOWAIT): the length, or -errno (-EINTR for
  // the caller to retry).
  ssize_t Receive(int id, long type, MessageBuffer& buffer, int extra_flags) {
    for (;;) {
      if (!buffer.Reserve(size_)) return -ENOMEM;
      int flags = flags_ | extra_flags;
      if (size_ < max_bytes_) flags &= ~MSG_NOERROR;
      ssize_t n = msgrcv(id, buffer.raw(), size_, type, flags);
      if (n >= 0) return n;
      if (errno != E2BIG || size_ >= max_bytes_) return -errno;
      size_ = size_ > max_bytes_ / 2 ? max_bytes_ : size_ * 2;
    }
  }

 private:
  int flags_;
  size_t max_bytes_;
  size_t size_;
};

// The JS value { type, data } of the message of `length` bytes in `buffer`. Up to kScratchLimit
// the text is copied (the buffer may be the thread's scratch, and a small message should not pin a
// large buffer). A larger message's buffer goes to JS as it is, without a copy: msgrcv has taken
// the message from the kernel by now, and a copy needs as much memory again, which Node does not
// answer with an error but by ending the process (node::Buffer::Copy: "process out of memory",
// measured with a 100 MB message under ulimit -v). What the handover still allocates is a few
// bytes (the finalizer's record, V8's handles); if that fails the message is lost with the
// exception (ENOMEM). NewOrCopy copies only where external buffers are not allowed (and then
// frees ours); when it throws, ours was not freed.
Napi::Value MessageValue(Napi::Env env, MessageBuffer& buffer, size_t length) {
  Napi::Object message = Napi::Object::New(env);
  message.Set("type", Napi::Number::New(env, static_cast<double>(buffer.type())));
  if (length <= kScratchLimit) {
    message.Set("data", Napi::Buffer<char>::Copy(env, buffer.text(), length));
    return message;
  }
  buffer.Shrink(length);
  long* storage = buffer.Take();
  char* text = reinterpret_cast<char*>(storage + 1);
  Napi::Buffer<char> data;
  try {
    data = Napi::Buffer<char>::NewOrCopy(env, text, length, [](Napi::Env, char* bytes) { free(reinterpret_cast<long*>(bytes) - 1); });
  } catch (...) {
    free(storage);
    throw;
  }
  message.Set("data", data);
  return message;
}

// A blocking msgrcv; Result() gives the message to JS on the main thread (MessageValue: a large
// one without a copy). Its buffer is allocated on the waiter thread, sized by SizedReceive
// (ENOMEM if that fails, the message left queued).
class ReceiveWait : public BlockingWait {
 public:
  ReceiveWait(int id, long type, int flags, size_t max_bytes) : id_(id), type_(type), receive_(flags, max_bytes) {}
  int Execute() override {
    ssize_t n = receive_.Receive(id_, type_, buffer_, 0);
    if (n < 0) return static_cast<int>(-n);
    length_ = static_cast<size_t>(n);
    return 0;
  }
  Napi::Value Result(Napi::Env env) override { return MessageValue(env, buffer_, length_); }
  const char* Syscall() const override { return "msgrcv"; }

 private:
  int id_;
  long type_;
  SizedReceive receive_;
  MessageBuffer buffer_;
  size_t length_ = 0;
};

// A blocking msgsnd of a message copied in on the main thread (the caller checks ready()).
class SendWait : public BlockingWait {
 public:
  SendWait(int id, long type, const uint8_t* data, size_t length) : id_(id), length_(length) {
    ready_ = buffer_.Reserve(length);
    if (!ready_) return;
    buffer_.type() = type;
    if (length > 0) memcpy(buffer_.text(), data, length);
  }
  bool ready() const { return ready_; }
  int Execute() override { return msgsnd(id_, buffer_.raw(), length_, 0) == -1 ? errno : 0; }
  const char* Syscall() const override { return "msgsnd"; }

 private:
  int id_;
  size_t length_;
  bool ready_ = false;
  MessageBuffer buffer_;
};

long ArgType(const Napi::CallbackInfo& info, size_t index) { return static_cast<long>(ArgInt64(info, index, "type")); }

size_t ArgSize(const Napi::CallbackInfo& info, size_t index, const char* name) {
  int64_t value = ArgInt64(info, index, name);
  if (value < 0 || value > 0x7fffffff) throw Napi::RangeError::New(info.Env(), std::string(name) + " out of range");
  return static_cast<size_t>(value);
}

}  // namespace

// JS: ftok(path, projectId) -> key. Main thread (one stat of a local path). Throws IpcError.
static Napi::Value Ftok(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0, "path");
  int project = ArgInt32(info, 1, "projectId");
  errno = 0;
  key_t key = ftok(path.c_str(), project);
  // -1 is also a possible key: only errno tells a failure apart.
  if (key == -1 && errno != 0) ThrowSysError(info.Env(), errno, "ftok", path.c_str());
  return Napi::Number::New(info.Env(), key);
}

// JS: msgget(key, create, exclusive, mode) -> id or -errno. Main thread (never waits).
static Napi::Value Msgget(const Napi::CallbackInfo& info) {
  key_t key = ArgInt32(info, 0, "key");
  int flags = (info[1].ToBoolean() ? IPC_CREAT : 0) | (info[2].ToBoolean() ? IPC_EXCL : 0) | (ArgInt32(info, 3, "mode") & 0777);
  int id = msgget(key, flags);
  return Napi::Number::New(info.Env(), id == -1 ? -errno : id);
}

// JS: msgSendNow(id, type, bytes, offset, length) -> 0 or -errno (-EAGAIN: the queue is full).
// Main thread: msgsnd with IPC_NOWAIT.
static Napi::Value MsgSendNow(const Napi::CallbackInfo& info) {
  int id = ArgInt32(info, 0, "id");
  long type = ArgType(info, 1);
  ByteRange bytes = ArgBytes(info, 2, "bytes");
  MessageBuffer large;
  MessageBuffer& buffer = bytes.length <= kScratchLimit ? send_scratch : large;
  if (!buffer.Reserve(bytes.length)) return Napi::Number::New(info.Env(), -ENOMEM);
  buffer.type() = type;
  if (bytes.length > 0) memcpy(buffer.text(), bytes.data, bytes.length);
  int result = RetryEintr([&] { return msgsnd(id, buffer.raw(), bytes.length, IPC_NOWAIT); });
  return Napi::Number::New(info.Env(), result == -1 ? -errno : 0);
}

// JS: msgSendWait(id, type, bytes, offset, length, callback(errno)) -> wait id. The message is
// copied now; the blocking msgsnd runs on a waiter thread that cancelWait interrupts (a cancelled
// send has not queued its message).
static Napi::Value MsgSendWait(const Napi::CallbackInfo& info) {
  int id = ArgInt32(info, 0, "id");
  long type = ArgType(info, 1);
  ByteRange bytes = ArgBytes(info, 2, "bytes");
  Napi::Function callback = ArgFunction(info, 5, "callback");
  auto wait = std::make_unique<SendWait>(id, type, bytes.data, bytes.length);
  if (!wait->ready()) ThrowSysError(info.Env(), ENOMEM, "msgsnd");
  return Napi::Number::New(info.Env(), GetData(info.Env())->waits->Start(info.Env(), std::move(wait), callback));
}

// JS: msgReceiveNow(id, type, bits, maxBytes) -> { type, data } or -errno (-ENOMSG: nothing
// matches now, -ENOMEM: no buffer, the message left queued). Main thread: msgrcv with IPC_NOWAIT
// into a buffer sized by SizedReceive (the thread's scratch when maxBytes <= kScratchLimit).
static Napi::Value MsgReceiveNow(const Napi::CallbackInfo& info) {
  int id = ArgInt32(info, 0, "id");
  long type = ArgType(info, 1);
  int flags = ReceiveFlags(ArgInt32(info, 2, "bits"));
  size_t max_bytes = ArgSize(info, 3, "maxBytes");
  MessageBuffer large;
  MessageBuffer& buffer = max_bytes <= kScratchLimit ? receive_scratch : large;
  SizedReceive receive(flags, max_bytes);
  ssize_t n;
  do n = receive.Receive(id, type, buffer, IPC_NOWAIT);
  while (n == -EINTR);
  if (n < 0) return Napi::Number::New(info.Env(), static_cast<double>(n));
  return MessageValue(info.Env(), buffer, static_cast<size_t>(n));
}

// JS: msgReceiveWait(id, type, bits, maxBytes, callback(errno, { type, data })) -> wait id. The
// blocking msgrcv runs on a waiter thread with its own buffer (SizedReceive: what the kernel
// delivers, at most maxBytes); cancelWait interrupts it, and a message it already took is still delivered.
static Napi::Value MsgReceiveWait(const Napi::CallbackInfo& info) {
  int id = ArgInt32(info, 0, "id");
  long type = ArgType(info, 1);
  int flags = ReceiveFlags(ArgInt32(info, 2, "bits"));
  size_t max_bytes = ArgSize(info, 3, "maxBytes");
  Napi::Function callback = ArgFunction(info, 4, "callback");
  auto wait = std::make_unique<ReceiveWait>(id, type, flags, max_bytes);
  return Napi::Number::New(info.Env(), GetData(info.Env())->waits->Start(info.Env(), std::move(wait), callback));
}

// JS: msgStat(id) -> msqid_ds as an object, or -errno. Main thread: msgctl(IPC_STAT).
static Napi::Value MsgStat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct msqid_ds ds;
  if (msgctl(ArgInt32(info, 0, "id"), IPC_STAT, &ds) == -1) return Napi::Number::New(env, -errno);
  Napi::Object perm = Napi::Object::New(env);
  perm.Set("key", Napi::Number::New(env, ds.msg_perm.__key));
  perm.Set("uid", Napi::Number::New(env, ds.msg_perm.uid));
  perm.Set("gid", Napi::Number::New(env, ds.msg_perm.gid));
  perm.Set("cuid", Napi::Number::New(env, ds.msg_perm.cuid));
  perm.Set("cgid", Napi::Number::New(env, ds.msg_perm.cgid));
  perm.Set("mode", Napi::Number::New(env, ds.msg_perm.mode & 0777));
  Napi::Object stat = Napi::Object::New(env);
  stat.Set("perm", perm);
  stat.Set("maxBytes", Napi::Number::New(env, static_cast<double>(ds.msg_qbytes)));
  stat.Set("messages", Napi::Number::New(env, static_cast<double>(ds.msg_qnum)));
  stat.Set("bytes", Napi::Number::New(env, static_cast<double>(ds.__msg_cbytes)));
  stat.Set("lastSendPid", Napi::Number::New(env, ds.msg_lspid));
  stat.Set("lastReceivePid", Napi::Number::New(env, ds.msg_lrpid));
  stat.Set("lastSendTime", Napi::Number::New(env, static_cast<double>(ds.msg_stime)));
  stat.Set("lastReceiveTime", Napi::Number::New(env, static_cast<double>(ds.msg_rtime)));
  stat.Set("changeTime", Napi::Number::New(env, static_cast<double>(ds.msg_ctime)));
  return stat;
}

// JS: msgSet(id, maxBytes, mode, uid, gid) -> 0 or -errno; -1 keeps a field. Main thread:
// msgctl(IPC_STAT) for the fields kept, then msgctl(IPC_SET).
static Napi::Value MsgSet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int id = ArgInt32(info, 0, "id");
  int64_t max_bytes = ArgInt64(info, 1, "maxBytes");
  int64_t mode = ArgInt64(info, 2, "mode");
  int64_t uid = ArgInt64(info, 3, "uid");
  int64_t gid = ArgInt64(info, 4, "gid");
  struct msqid_ds ds;
  if (msgctl(id, IPC_STAT, &ds) == -1) return Napi::Number::New(env, -errno);
  if (max_bytes >= 0) ds.msg_qbytes = static_cast<msglen_t>(max_bytes);
  if (mode >= 0) ds.msg_perm.mode = static_cast<unsigned short>(mode & 0777);
  if (uid >= 0) ds.msg_perm.uid = static_cast<uid_t>(uid);
  if (gid >= 0) ds.msg_perm.gid = static_cast<gid_t>(gid);
  return Napi::Number::New(env, msgctl(id, IPC_SET, &ds) == -1 ? -errno : 0);
}

// JS: msgRemove(id) -> 0 or -errno. Main thread: msgctl(IPC_RMID); the kernel wakes every
// waiter of the queue with EIDRM.
static Napi::Value MsgRemove(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), msgctl(ArgInt32(info, 0, "id"), IPC_RMID, nullptr) == -1 ? -errno : 0);
}

// JS: msgmax() -> the system's largest message (/proc/sys/kernel/msgmax), or 8192 if unreadable.
static Napi::Value JsMsgmax(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(ReadMsgmax()));
}

void InitMessageQueues(Napi::Env env, Napi::Object exports) {
  exports.Set("ftok", Napi::Function::New(env, JsEntry<Ftok>, "ftok"));
  exports.Set("msgget", Napi::Function::New(env, JsEntry<Msgget>, "msgget"));
  exports.Set("msgSendNow", Napi::Function::New(env, JsEntry<MsgSendNow>, "msgSendNow"));
  exports.Set("msgSendWait", Napi::Function::New(env, JsEntry<MsgSendWait>, "msgSendWait"));
  exports.Set("msgReceiveNow", Napi::Function::New(env, JsEntry<MsgReceiveNow>, "msgReceiveNow"));
  exports.Set("msgReceiveWait", Napi::Function::New(env, JsEntry<MsgReceiveWait>, "msgReceiveWait"));
  exports.Set("msgStat", Napi::Function::New(env, JsEntry<MsgStat>, "msgStat"));
  exports.Set("msgSet", Napi::Function::New(env, JsEntry<MsgSet>, "msgSet"));
  exports.Set("msgRemove", Napi::Function::New(env, JsEntry<MsgRemove>, "msgRemove"));
  exports.Set("msgmax", Napi::Function::New(env, JsEntry<JsMsgmax>, "msgmax"));
}

}  // namespace ipcx
