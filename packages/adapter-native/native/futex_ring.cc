#include "futex_ring.h"

#include <linux/futex.h>
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "addon.h"
#include "errors.h"

namespace ipcx {

namespace {

constexpr unsigned kSqEntries = 64;
constexpr unsigned kCqEntries = 1024;
// Each wait may post 3 completions (the wait, its timeout, a cancel): beyond this many waits in
// flight new ones use a waiter thread, so the completion queue never overflows.
constexpr size_t kMaxWaits = 300;
constexpr uint64_t kIdleCloseMs = 250;
// IORING_OP_FUTEX_WAIT in mainline since 6.7 (after WAITID, 50); the installed header may predate it.
constexpr uint8_t kFutexWaitOpcode = 51;
constexpr uint32_t kFutex2SizeU32 = 0x02;  // FUTEX2_SIZE_U32 (linux/futex.h of 6.7+)
constexpr uint32_t kFutex2Private = 128;   // FUTEX2_PRIVATE
// user_data: the wait id in the low 32 bits, what the completion is for above them.
constexpr uint64_t kForWait = 0, kForTimeout = 1ull << 32, kForCancel = 2ull << 32, kForProbe = 3ull << 32;

// -1: not probed yet; 0: unavailable in this process; else the opcode. Probed by the first
// environment that waits; every environment (worker) of the process then opens its own ring.
std::atomic<int> futex_opcode{-1};

long RingSetup(unsigned entries, io_uring_params* params) { return syscall(__NR_io_uring_setup, entries, params); }
long RingEnter(int fd, unsigned submit, unsigned complete, unsigned flags) {
  return syscall(__NR_io_uring_enter, fd, submit, complete, flags, nullptr, 0);
}

}  // namespace

int FutexRing::Opcode() { return futex_opcode.load(std::memory_order_acquire); }

FutexRing::FutexRing(Napi::Env env, uv_loop_t* loop) : env_(env), loop_(loop) {
  idle_timer_ = new uv_timer_t;
  uv_timer_init(loop, idle_timer_);
  idle_timer_->data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(idle_timer_));
}

// Main thread: maps a new ring and watches its descriptor. False (nothing left open) on failure.
bool FutexRing::Open() {
  io_uring_params params;
  memset(&params, 0, sizeof params);
  params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
  params.cq_entries = kCqEntries;
  long fd = RingSetup(kSqEntries, &params);
  if (fd < 0) {
    // Never opened in this process (ENOSYS, EPERM from io_uring_disabled or seccomp, ...): waiter
    // threads from now on, without a failing system call per wait. Once a ring has worked, a later
    // failure (EMFILE, ENOMEM) only sends that wait to a waiter thread.
    int unknown = -1;
    futex_opcode.compare_exchange_strong(unknown, 0, std::memory_order_acq_rel);
    return false;
  }
  fd_ = static_cast<int>(fd);
  size_t sq_bytes = params.sq_off.array + params.sq_entries * sizeof(unsigned);
  size_t cq_bytes = params.cq_off.cqes + params.cq_entries * sizeof(io_uring_cqe);
  // IORING_FEAT_SINGLE_MMAP (5.4+): one mapping holds both rings.
  rings_bytes_ = sq_bytes > cq_bytes ? sq_bytes : cq_bytes;
  sqes_bytes_ = params.sq_entries * sizeof(io_uring_sqe);
  void* rings = mmap(nullptr, rings_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, IORING_OFF_SQ_RING);
  void* sqes = mmap(nullptr, sqes_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, IORING_OFF_SQES);
  rings_ = rings == MAP_FAILED ? nullptr : rings;
  sqes_ = sqes == MAP_FAILED ? nullptr : static_cast<io_uring_sqe*>(sqes);
  if (rings_ == nullptr || sqes_ == nullptr || !(params.features & IORING_FEAT_SINGLE_MMAP)) {
    Close();
    return false;
  }
  char* base = static_cast<char*>(rings_);
  sq_head_ = reinterpret_cast<unsigned*>(base + params.sq_off.head);
  sq_tail_ = reinterpret_cast<unsigned*>(base + params.sq_off.tail);
  sq_mask_ = reinterpret_cast<unsigned*>(base + params.sq_off.ring_mask);
  sq_array_ = reinterpret_cast<unsigned*>(base + params.sq_off.array);
  cq_head_ = reinterpret_cast<unsigned*>(base + params.cq_off.head);
  cq_tail_ = reinterpret_cast<unsigned*>(base + params.cq_off.tail);
  cq_mask_ = reinterpret_cast<unsigned*>(base + params.cq_off.ring_mask);
  cqes_ = reinterpret_cast<io_uring_cqe*>(base + params.cq_off.cqes);
  if (Opcode() < 0 && !Probe()) {
    futex_opcode.store(0, std::memory_order_release);
    Close();
    return false;
  }
  poll_ = new uv_poll_t;
  if (uv_poll_init(loop_, poll_, fd_) != 0) {
    delete poll_;
    poll_ = nullptr;
    Close();
    return false;
  }
  poll_->data = this;
  uv_poll_start(poll_, UV_READABLE, OnPoll);
  return true;
}

// Main thread: stops watching, unmaps and closes the ring (the kernel cancels what it still holds;
// their completions are never read: callers cleared or will clear waits_ themselves).
void FutexRing::Close() {
  if (poll_ != nullptr) {
    uv_poll_stop(poll_);
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); });
    poll_ = nullptr;
  }
  if (sqes_ != nullptr) munmap(sqes_, sqes_bytes_);
  if (rings_ != nullptr) munmap(rings_, rings_bytes_);
  sqes_ = nullptr;
  rings_ = nullptr;
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

// The next free submission entry, zeroed, or nullptr when the queue is full.
io_uring_sqe* FutexRing::NextSqe() {
  unsigned tail = *sq_tail_;
  if (tail - __atomic_load_n(sq_head_, __ATOMIC_ACQUIRE) >= kSqEntries) return nullptr;
  unsigned index = tail & *sq_mask_;
  io_uring_sqe* sqe = &sqes_[index];
  memset(sqe, 0, sizeof *sqe);
  sq_array_[index] = index;
  __atomic_store_n(sq_tail_, tail + 1, __ATOMIC_RELEASE);
  return sqe;
}

// Submits `submit` entries (and, with get_events, runs pending completions). Returns the number
// submitted or -errno; on failure the entries are taken back (the kernel consumed none of them).
int FutexRing::Enter(unsigned submit, bool get_events) {
  long result;
  do {
    result = RingEnter(fd_, submit, 0, get_events ? IORING_ENTER_GETEVENTS : 0);
  } while (result < 0 && errno == EINTR);
  if (result < 0) {
    int error = errno;
    if (__atomic_load_n(sq_head_, __ATOMIC_ACQUIRE) + submit == *sq_tail_) __atomic_store_n(sq_tail_, *sq_tail_ - submit, __ATOMIC_RELEASE);
    return -error;
  }
  return static_cast<int>(result);
}

// Checks that IORING_OP_FUTEX_WAIT (kFutexWaitOpcode) behaves as one before any wait trusts it
// (see futex_ring.h). Main thread, on an empty ring.
bool FutexRing::Probe() {
  const char* setting = getenv("IPCX_NATIVE_FUTEX_RING");
  if (setting != nullptr && strcmp(setting, "0") == 0) return false;
  auto result_of = [this](uint64_t user_data, int* result) {
    bool found = false;
    unsigned head = *cq_head_, tail = __atomic_load_n(cq_tail_, __ATOMIC_ACQUIRE);
    for (; head != tail; head++) {
      if (cqes_[head & *cq_mask_].user_data == user_data) {
        *result = cqes_[head & *cq_mask_].res;
        found = true;
      }
    }
    __atomic_store_n(cq_head_, head, __ATOMIC_RELEASE);
    return found;
  };
  auto submit = [this](uint8_t op, uint64_t addr2, uint64_t user_data) {
    io_uring_sqe* sqe = NextSqe();
    sqe->opcode = op;
    sqe->fd = kFutex2SizeU32 | kFutex2Private;
    sqe->addr = reinterpret_cast<uintptr_t>(&probe_word_);
    sqe->addr2 = addr2;
    sqe->addr3 = FUTEX_BITSET_MATCH_ANY;
    sqe->user_data = user_data;
    return Enter(1, true) == 1;
  };
  probe_word_ = 0;
  const uint8_t op = kFutexWaitOpcode;
  int result = 0;
  // A value the word does not hold: a futex wait answers EAGAIN within the submission. A kernel
  // before 6.7 answers EINVAL (unknown opcode) instead.
  if (!submit(op, 1, kForProbe | 1)) return false;
  if (!result_of(kForProbe | 1, &result)) return false;  // pending: not a futex wait; the ring is dropped
  if (result != -EAGAIN) return false;
  // The value it holds: pending, until cancelled.
  if (!submit(op, 0, kForProbe | 2)) return false;
  if (result_of(kForProbe | 2, &result)) return false;
  io_uring_sqe* cancel = NextSqe();
  cancel->opcode = IORING_OP_ASYNC_CANCEL;
  cancel->addr = kForProbe | 2;
  cancel->user_data = kForProbe | 3;
  if (Enter(1, true) != 1) return false;
  Enter(0, true);  // runs the task work that posts the cancelled wait's completion
  if (!result_of(kForProbe | 2, &result) || result != -ECANCELED) return false;
  futex_opcode.store(op, std::memory_order_release);
  return true;
}

uint32_t FutexRing::Start(Napi::Env env, uint32_t* word, uint32_t value, int64_t timeout_ns, Napi::Function callback) {
  if (torn_down_ || Opcode() == 0 || waits_.size() >= kMaxWaits) return 0;
  if (fd_ < 0 && !Open()) return 0;
  uv_timer_stop(idle_timer_);
  // A wait the ring cannot take leaves it as it was: unreferenced, closed after kIdleCloseMs if idle.
  auto refuse = [this]() {
    UpdateRef();
    return 0u;
  };
  uint32_t id = next_id_++ | 0x80000000u;  // apart from BlockingWaits' ids, which count from 1
  if (waits_.count(id) != 0) return refuse();
  unsigned count = timeout_ns >= 0 ? 2 : 1;
  if (*sq_tail_ - __atomic_load_n(sq_head_, __ATOMIC_ACQUIRE) + count > kSqEntries) return refuse();
  io_uring_sqe* wait = NextSqe();
  wait->opcode = static_cast<uint8_t>(Opcode());
  // Shared futex (no FUTEX2_PRIVATE): the key is the mapped object, so other processes' FUTEX_WAKE
  // find it.
  wait->fd = kFutex2SizeU32;
  wait->addr = reinterpret_cast<uintptr_t>(word);
  wait->addr2 = value;
  wait->addr3 = FUTEX_BITSET_MATCH_ANY;
  wait->user_data = kForWait | id;
  __kernel_timespec timeout = {timeout_ns / 1000000000LL, timeout_ns % 1000000000LL};
  if (timeout_ns >= 0) {
    wait->flags = IOSQE_IO_LINK;
    io_uring_sqe* timer = NextSqe();
    timer->opcode = IORING_OP_LINK_TIMEOUT;
    timer->addr = reinterpret_cast<uintptr_t>(&timeout);  // read while the entry is submitted below
    timer->len = 1;
    timer->user_data = kForTimeout | id;
  }
  if (Enter(count, false) != static_cast<int>(count)) return refuse();
  auto entry = std::make_unique<Wait>();
  entry->callback = Napi::Persistent(callback);
  entry->has_timeout = timeout_ns >= 0;
  waits_[id] = std::move(entry);
  UpdateRef();
  return id;
}

bool FutexRing::Cancel(uint32_t id) {
  auto found = waits_.find(id);
  if (found == waits_.end()) return false;
  if (found->second->cancel_requested) return true;
  found->second->cancel_requested = true;
  io_uring_sqe* cancel = NextSqe();
  if (cancel == nullptr) {
    Reap();  // frees room only if the kernel consumed entries; then try once more
    cancel = NextSqe();
  }
  if (cancel != nullptr) {
    cancel->opcode = IORING_OP_ASYNC_CANCEL;
    cancel->addr = kForWait | id;
    cancel->user_data = kForCancel | id;
    if (Enter(1, false) == 1) return true;
  }
  // The cancel could not be submitted (the kernel refused memory): the wait would stay parked
  // until the peer's wake. Close the ring: the kernel cancels every wait it holds, and they all
  // report ECANCELED now (their callers' own cancels, or a failure they see as ECANCELED).
  std::vector<std::pair<uint32_t, std::unique_ptr<Wait>>> all;
  for (auto& entry : waits_) all.emplace_back(entry.first, std::move(entry.second));
  waits_.clear();
  Close();
  UpdateRef();
  Napi::HandleScope scope(env_);
  for (auto& [wait_id, wait] : all) {
    Napi::Value outcome = wait->cancel_requested ? env_.Undefined() : MakeSysError(env_, ECANCELED, "futex");
    CallIntoJs(env_, wait->callback, {Napi::Number::New(env_, ECANCELED), outcome});
  }
  return true;
}

// Main thread: takes every completion and settles the waits they end.
void FutexRing::Reap() {
  if (fd_ < 0) return;
  std::vector<std::pair<uint32_t, int>> ended;
  unsigned head = *cq_head_, tail = __atomic_load_n(cq_tail_, __ATOMIC_ACQUIRE);
  for (; head != tail; head++) {
    const io_uring_cqe& cqe = cqes_[head & *cq_mask_];
    if ((cqe.user_data & ~0xffffffffull) == kForWait) ended.emplace_back(static_cast<uint32_t>(cqe.user_data), cqe.res);
  }
  __atomic_store_n(cq_head_, head, __ATOMIC_RELEASE);
  for (auto [id, result] : ended) {
    auto found = waits_.find(id);
    if (found == waits_.end()) continue;
    std::unique_ptr<Wait> wait = std::move(found->second);
    waits_.erase(found);
    Napi::HandleScope scope(env_);
    int error = 0;
    Napi::Value outcome;
    if (result == 0) {
      outcome = Napi::String::New(env_, "ok");
    } else if (result == -EAGAIN) {
      outcome = Napi::String::New(env_, "not-equal");
    } else if (result == -ECANCELED && wait->cancel_requested) {
      error = ECANCELED;
      outcome = env_.Undefined();
    } else if (result == -ECANCELED && wait->has_timeout) {
      outcome = Napi::String::New(env_, "timed-out");  // ended by its linked timeout
    } else {
      error = -result;
      outcome = MakeSysError(env_, error, "futex");
    }
    CallIntoJs(env_, wait->callback, {Napi::Number::New(env_, error), outcome});
  }
  UpdateRef();
}

// The loop stays alive while waits are pending; an idle ring is closed after kIdleCloseMs.
void FutexRing::UpdateRef() {
  if (torn_down_) return;
  if (!waits_.empty()) {
    if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return;
  }
  if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  if (fd_ >= 0) uv_timer_start(idle_timer_, OnIdle, kIdleCloseMs, 0);
}

void FutexRing::OnPoll(uv_poll_t* handle, int status, int events) { static_cast<FutexRing*>(handle->data)->Reap(); }

void FutexRing::OnIdle(uv_timer_t* handle) {
  auto* self = static_cast<FutexRing*>(handle->data);
  if (self->waits_.empty()) self->Close();
}

void FutexRing::Teardown(void (*done)(void*), void* arg) {
  torn_down_ = true;
  waits_.clear();  // no JS runs any more; closing the ring below cancels the kernel's side
  Close();
  uv_timer_stop(idle_timer_);
  struct Finish {
    void (*done)(void*);
    void* arg;
  };
  idle_timer_->data = new Finish{done, arg};
  uv_close(reinterpret_cast<uv_handle_t*>(idle_timer_), [](uv_handle_t* handle) {
    auto* finish = static_cast<Finish*>(handle->data);
    delete reinterpret_cast<uv_timer_t*>(handle);
    finish->done(finish->arg);
    delete finish;
  });
}

// JS: futexRingState() -> { opcode, open, waits }: opcode > 0 when futex waits park in io_uring
// (0: unavailable, waiter threads are used; -1: not probed yet). For tests and diagnostics.
static Napi::Value FutexRingState(const Napi::CallbackInfo& info) {
  FutexRing* ring = GetData(info.Env())->futex_ring;
  Napi::Object state = Napi::Object::New(info.Env());
  state.Set("opcode", Napi::Number::New(info.Env(), FutexRing::Opcode()));
  state.Set("open", Napi::Boolean::New(info.Env(), ring->open()));
  state.Set("waits", Napi::Number::New(info.Env(), static_cast<double>(ring->active())));
  return state;
}

void InitFutexRings(Napi::Env env, Napi::Object exports) {
  exports.Set("futexRingState", Napi::Function::New(env, JsEntry<FutexRingState>, "futexRingState"));
}

}  // namespace ipcx
