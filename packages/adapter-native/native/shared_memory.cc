#include "shared_memory.h"

#include <fcntl.h>
#include <signal.h>
#include <linux/futex.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "addon.h"
#include "blocking_wait.h"
#include "errors.h"
#include "futex_ring.h"

namespace ipcx {

namespace {

// One mapping of this environment. Only the main thread of the environment touches the table,
// so it is thread_local (each worker's environment runs on a thread of its own).
struct Mapping {
  void* address;
  size_t length;
  bool sysv;  // shmdt, else munmap
  bool read_only;
  int fault_slot = -1;  // its FaultRegion (POSIX and file mappings), -1 if none
};

thread_local std::unordered_map<uint32_t, Mapping> mappings;
thread_local uint32_t next_mapping = 1;

// The cancel words of pending futex waits, by wait id (see FutexWait).
thread_local std::unordered_map<uint32_t, std::shared_ptr<std::atomic<uint32_t>>> cancel_words;

// futex_waitv (Linux 5.16+) makes cancellation race-free; without it, waits use FUTEX_WAIT and
// BlockingWaits' kick signal. Set once the kernel has answered ENOSYS.
std::atomic<bool> waitv_missing{false};

#ifndef FUTEX_32
#define FUTEX_32 2
#endif

// ---- Surviving SIGBUS ----------------------------------------------------------------------
//
// A POSIX object or a file can be made shorter (ftruncate, `truncate -s`) by any process that may
// write it, while this one maps it. A page of the mapping past the new end then raises SIGBUS on
// access, which kills the process by default, wherever the access comes from (a view of the
// segment's ArrayBuffer in JS, a copy in read()/write()). So every POSIX and file mapping of this
// process is listed in fault_regions, and a SIGBUS handler, on a fault inside one of them, maps
// anonymous zero pages (MAP_FIXED, same protection) over the lost range, from the faulting page
// to the end of the mapping, and marks the region broken. The faulting access is then retried by
// the CPU and completes on the zero pages: the process lives; the lost range reads as zeros and
// writes to it reach no other process. ipcx's own calls check the mark (mappingBroken) and
// reject with EFAULT (what a system call answers for such memory). A SIGBUS outside these regions
// goes to the handler that was installed before ours (or the default action: the process dies by
// SIGBUS, as it would have without ipcx).
//
// The handler may interrupt any code, including the code that changes the table, so the table is
// lock-free: fixed slots whose state word is set last on registration (release) and first on
// removal; the handler only reads (acquire) and calls mmap, a bare system call. (System V
// segments cannot be made shorter, so they are not listed.)
struct FaultRegion {
  std::atomic<uint32_t> state{0};  // kFree, kBusy (being written), kLive
  std::atomic<uintptr_t> start{0};
  std::atomic<uintptr_t> end{0};
  std::atomic<int> prot{0};
  std::atomic<uint32_t> broken{0};
};
constexpr uint32_t kFree = 0, kBusy = 1, kLive = 2;
// Linux's default vm.max_map_count is 65530: more live mappings than that cannot exist anyway.
constexpr size_t kFaultRegions = 65536;
FaultRegion fault_regions[kFaultRegions];
std::atomic<size_t> fault_regions_used{0};  // slots at or above it were never used
// Faults handled so far in this process. JS reads it through a 4-byte ArrayBuffer (faultCount)
// to learn, without a call into the addon, whether any mapping may have broken.
alignas(4) std::atomic<uint32_t> faults_handled{0};
static_assert(std::atomic<uint32_t>::is_always_lock_free && std::atomic<uintptr_t>::is_always_lock_free,
              "the SIGBUS handler needs lock-free atomics");

struct sigaction previous_sigbus;
uintptr_t page_size = 4096;
std::once_flag sigbus_once;
bool sigbus_installed = false;

// Passes a fault that is not ours on, as if our handler were not there.
void ChainSigbus(int sig, siginfo_t* info, void* context) {
  if (previous_sigbus.sa_flags & SA_SIGINFO) {
    if (previous_sigbus.sa_sigaction != nullptr) previous_sigbus.sa_sigaction(sig, info, context);
    return;
  }
  if (previous_sigbus.sa_handler != SIG_DFL && previous_sigbus.sa_handler != SIG_IGN) {
    previous_sigbus.sa_handler(sig);
    return;
  }
  // Default action (an ignored SIGBUS from a fault cannot be ignored either: the access would
  // fault forever). Restore it; a fault then happens again on return and kills the process with
  // SIGBUS; a signal sent by kill() is raised again (it is blocked until this handler returns).
  struct sigaction fallback;
  memset(&fallback, 0, sizeof fallback);
  fallback.sa_handler = SIG_DFL;
  sigemptyset(&fallback.sa_mask);
  sigaction(SIGBUS, &fallback, nullptr);
  if (info == nullptr || info->si_code <= 0) raise(SIGBUS);
}

// Async-signal-safe throughout: atomics, mmap, sigaction, raise; errno is kept for the code we
// interrupted.
void OnSigbus(int sig, siginfo_t* info, void* context) {
  int saved_errno = errno;
  // si_code > 0: raised by the kernel for a faulting access (BUS_ADRERR past the end of an object).
  if (info != nullptr && info->si_code > 0) {
    uintptr_t address = reinterpret_cast<uintptr_t>(info->si_addr);
    size_t used = fault_regions_used.load(std::memory_order_acquire);
    for (size_t i = 0; i < used; ++i) {
      FaultRegion& region = fault_regions[i];
      if (region.state.load(std::memory_order_acquire) != kLive) continue;
      uintptr_t start = region.start.load(std::memory_order_relaxed);
      uintptr_t end = region.end.load(std::memory_order_relaxed);
      if (address < start || address >= end) continue;
      uintptr_t page = address & ~(page_size - 1);
      void* patched = mmap(reinterpret_cast<void*>(page), end - page, region.prot.load(std::memory_order_relaxed),
                           MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (patched != MAP_FAILED) {
        region.broken.store(1, std::memory_order_release);
        // Other slots may list the same mapping (glibc's sem_open hands one mapping to every open
        // of a name in the process, and each handle lists it): they are broken too.
        for (size_t j = i + 1; j < used; ++j) {
          FaultRegion& other = fault_regions[j];
          if (other.state.load(std::memory_order_acquire) != kLive) continue;
          if (other.start.load(std::memory_order_relaxed) < end && other.end.load(std::memory_order_relaxed) > page)
            other.broken.store(1, std::memory_order_release);
        }
        faults_handled.fetch_add(1, std::memory_order_release);
        errno = saved_errno;
        return;
      }
      break;  // cannot patch: the default outcome, below
    }
  }
  errno = saved_errno;
  ChainSigbus(sig, info, context);
}

// Installs OnSigbus once per process (SA_SIGINFO for the address; SA_ONSTACK so that a fault on a
// thread with an alternate stack uses it). The handler that was there is kept for ChainSigbus.
void InstallSigbusHandler() {
  std::call_once(sigbus_once, [] {
    long size = sysconf(_SC_PAGESIZE);
    if (size > 0) page_size = static_cast<uintptr_t>(size);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = OnSigbus;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigbus_installed = sigaction(SIGBUS, &action, &previous_sigbus) == 0;
  });
}

}  // namespace

int AddFaultRegion(void* address, size_t length, int prot) {
  InstallSigbusHandler();
  for (size_t i = 0; i < kFaultRegions; ++i) {
    uint32_t expected = kFree;
    FaultRegion& region = fault_regions[i];
    if (!region.state.compare_exchange_strong(expected, kBusy, std::memory_order_acq_rel)) continue;
    region.start.store(reinterpret_cast<uintptr_t>(address), std::memory_order_relaxed);
    region.end.store(reinterpret_cast<uintptr_t>(address) + length, std::memory_order_relaxed);
    region.prot.store(prot, std::memory_order_relaxed);
    // A mapping already listed and broken (glibc's one mapping of a semaphore, opened again) stays broken.
    uintptr_t from = reinterpret_cast<uintptr_t>(address), to = from + length;
    uint32_t inherited = 0;
    size_t listed = fault_regions_used.load(std::memory_order_acquire);
    for (size_t j = 0; j < listed && inherited == 0; ++j) {
      FaultRegion& other = fault_regions[j];
      if (j == i || other.state.load(std::memory_order_acquire) != kLive) continue;
      if (other.start.load(std::memory_order_relaxed) < to && other.end.load(std::memory_order_relaxed) > from)
        inherited = other.broken.load(std::memory_order_acquire);
    }
    region.broken.store(inherited, std::memory_order_relaxed);
    // Why this order: the handler reads the fields only after seeing kLive (acquire), and only
    // scans slots below fault_regions_used.
    size_t used = fault_regions_used.load(std::memory_order_relaxed);
    while (used < i + 1 && !fault_regions_used.compare_exchange_weak(used, i + 1, std::memory_order_release)) {
    }
    region.state.store(kLive, std::memory_order_release);
    return static_cast<int>(i);
  }
  return -1;
}

void RemoveFaultRegion(int slot) {
  if (slot < 0) return;
  FaultRegion& region = fault_regions[slot];
  region.state.store(kBusy, std::memory_order_release);
  region.start.store(0, std::memory_order_relaxed);
  region.end.store(0, std::memory_order_relaxed);
  region.state.store(kFree, std::memory_order_release);
}

bool RegionBroken(int slot) { return slot >= 0 && fault_regions[slot].broken.load(std::memory_order_acquire) != 0; }

namespace {

struct FutexWaitv {
  uint64_t val;
  uint64_t uaddr;
  uint32_t flags;
  uint32_t reserved;
};

int Unmap(const Mapping& mapping) {
  // Unlisted first: once unmapped, the address range may be reused by anything.
  RemoveFaultRegion(mapping.fault_slot);
  int result = mapping.sysv ? shmdt(mapping.address) : munmap(mapping.address, mapping.length);
  return result == 0 ? 0 : errno;
}

// The largest external ArrayBuffer this Node can make (buffer.constants.MAX_LENGTH, set from JS
// at load: 2^32 on Node 20, 2^53 - 1 from Node 22). Node 20 builds an external ArrayBuffer through
// its Buffer code, which refuses a longer one AND runs the finalizer, after which node-addon-api
// frees the finalizer's data a second time: "free(): double free detected", an abort. So a
// mapping longer than this gets no ArrayBuffer at all; JS then reads and writes it by copy
// (mappingRead / mappingWrite), as it does read-only mappings.
std::atomic<uint64_t> buffer_limit{uint64_t{1} << 32};

// Registers a fresh mapping and returns { mapping, size, buffer? } for JS. A read-only mapping
// gets no ArrayBuffer: JS cannot make one refuse writes, and a write to PROT_READ memory would
// kill the process with SIGSEGV. JS reads it through mappingRead (a copy) instead. Nor does a
// mapping longer than buffer_limit (see there).
Napi::Object Publish(Napi::Env env, void* address, size_t length, bool sysv, bool read_only) {
  uint32_t id = next_mapping++;
  if (next_mapping == 0) next_mapping = 1;
  Mapping mapping{address, length, sysv, read_only};
  if (!sysv) mapping.fault_slot = AddFaultRegion(address, length, read_only ? PROT_READ : PROT_READ | PROT_WRITE);
  mappings[id] = mapping;
  Napi::Object result = Napi::Object::New(env);
  result.Set("mapping", Napi::Number::New(env, id));
  result.Set("size", Napi::Number::New(env, static_cast<double>(length)));
  if (!read_only && static_cast<uint64_t>(length) <= buffer_limit.load(std::memory_order_relaxed)) {
    // The finalizer does nothing: unmapping is explicit (unmap) or done by JS's finalizer when
    // the buffer itself has been collected, i.e. when no view can reach the memory any more.
    result.Set("buffer", Napi::ArrayBuffer::New(env, address, length, [](Napi::Env, void*) {}));
  }
  return result;
}

Mapping* Find(const Napi::CallbackInfo& info, size_t index) {
  auto found = mappings.find(static_cast<uint32_t>(ArgInt64(info, index, "mapping")));
  return found == mappings.end() ? nullptr : &found->second;
}

// A cell of a mapping, for futex calls: RangeError when out of bounds.
uint32_t* Cell(const Napi::CallbackInfo& info, const Mapping& mapping, size_t index) {
  int64_t cell = ArgInt64(info, index, "index");
  if (cell < 0 || static_cast<uint64_t>(cell) * 4 + 4 > mapping.length)
    throw Napi::RangeError::New(info.Env(), "index is outside the segment");
  auto* word = static_cast<uint32_t*>(mapping.address) + cell;
  // Mappings start on a page boundary, so this holds; futexes need 4-byte alignment.
  if (reinterpret_cast<uintptr_t>(word) % 4 != 0) throw Napi::RangeError::New(info.Env(), "index is not aligned");
  return word;
}

long Futex(uint32_t* word, int op, uint32_t value, const struct timespec* timeout) {
  return syscall(SYS_futex, word, op, value, timeout, nullptr, 0);
}

enum class Outcome { kOk, kNotEqual, kTimedOut };

// A futex wait on a shared cell, on a waiter thread. With futex_waitv it waits on two words at
// once: the shared cell (no FUTEX_PRIVATE_FLAG: the key is the mapped object, so other processes'
// FUTEX_WAKE find it) and a private cancel word that futexCancel sets and wakes. A cancel can
// therefore never be lost, whenever it comes. The deadline is absolute on CLOCK_MONOTONIC, so
// EINTR retries do not stretch the timeout.
class FutexWait : public BlockingWait {
 public:
  FutexWait(uint32_t* word, uint32_t value, bool has_deadline, struct timespec deadline,
            std::shared_ptr<std::atomic<uint32_t>> cancel)
      : word_(word), value_(value), has_deadline_(has_deadline), deadline_(deadline), cancel_(std::move(cancel)) {}

  ~FutexWait() override {
    if (wait_id_ != 0) cancel_words.erase(wait_id_);
  }

  int Execute() override {
    if (cancel_->load(std::memory_order_acquire) != 0) return ECANCELED;
    if (!waitv_missing.load(std::memory_order_relaxed)) {
      FutexWaitv waiters[2];
      memset(waiters, 0, sizeof waiters);
      waiters[0].val = value_;
      waiters[0].uaddr = reinterpret_cast<uintptr_t>(word_);
      waiters[0].flags = FUTEX_32;
      waiters[1].val = 0;
      waiters[1].uaddr = reinterpret_cast<uintptr_t>(cancel_.get());
      waiters[1].flags = FUTEX_32 | FUTEX_PRIVATE_FLAG;
      long woken = syscall(SYS_futex_waitv, waiters, 2, 0, has_deadline_ ? &deadline_ : nullptr, CLOCK_MONOTONIC);
      if (woken == 0) return Done(Outcome::kOk);
      if (woken == 1) return ECANCELED;
      int error = errno;
      if (error != ENOSYS) return Finish(error);
      waitv_missing.store(true, std::memory_order_relaxed);
    }
    // Fallback: FUTEX_WAIT with a relative timeout; cancellation by the kick signal (EINTR).
    struct timespec remaining;
    if (has_deadline_) {
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      int64_t ns = (deadline_.tv_sec - now.tv_sec) * 1000000000LL + (deadline_.tv_nsec - now.tv_nsec);
      if (ns <= 0) return Done(Outcome::kTimedOut);
      remaining.tv_sec = ns / 1000000000LL;
      remaining.tv_nsec = ns % 1000000000LL;
    }
    if (Futex(word_, FUTEX_WAIT, value_, has_deadline_ ? &remaining : nullptr) == 0) return Done(Outcome::kOk);
    return Finish(errno);
  }

  Napi::Value Result(Napi::Env env) override {
    switch (outcome_) {
      case Outcome::kOk:
        return Napi::String::New(env, "ok");
      case Outcome::kNotEqual:
        return Napi::String::New(env, "not-equal");
      default:
        return Napi::String::New(env, "timed-out");
    }
  }
  const char* Syscall() const override { return "futex"; }

  uint32_t wait_id_ = 0;

 private:
  int Done(Outcome outcome) {
    outcome_ = outcome;
    return 0;
  }
  // EAGAIN: the cell no longer held the value (or the cancel word was set, which wins).
  int Finish(int error) {
    if (cancel_->load(std::memory_order_acquire) != 0) return ECANCELED;
    if (error == EAGAIN || error == EWOULDBLOCK) return Done(Outcome::kNotEqual);
    if (error == ETIMEDOUT) return Done(Outcome::kTimedOut);
    return error;  // EINTR: ThreadMain calls again unless cancelled
  }

  uint32_t* word_;
  uint32_t value_;
  bool has_deadline_;
  struct timespec deadline_;
  std::shared_ptr<std::atomic<uint32_t>> cancel_;
  Outcome outcome_ = Outcome::kOk;
};

}  // namespace

// JS: shmGet(key, size, flags) -> id or -errno. Main thread: shmget(2) does not block.
static Napi::Value ShmGet(const Napi::CallbackInfo& info) {
  key_t key = static_cast<key_t>(ArgInt64(info, 0, "key"));
  int64_t size = ArgInt64(info, 1, "size");
  int flags = ArgInt32(info, 2, "flags");
  int id = shmget(key, static_cast<size_t>(size), flags);
  return Napi::Number::New(info.Env(), id == -1 ? -errno : id);
}

// JS: shmAttach(id, readOnly) -> { mapping, size, buffer? } or -errno. Main thread: shmat(2)
// (SHM_RDONLY when read-only), then IPC_STAT for the segment's size.
static Napi::Value ShmAttach(const Napi::CallbackInfo& info) {
  int id = ArgInt32(info, 0, "id");
  bool read_only = info[1].ToBoolean();
  void* address = shmat(id, nullptr, read_only ? SHM_RDONLY : 0);
  if (address == reinterpret_cast<void*>(-1)) return Napi::Number::New(info.Env(), -errno);
  struct shmid_ds ds;
  if (shmctl(id, IPC_STAT, &ds) != 0) {
    int error = errno;
    shmdt(address);
    return Napi::Number::New(info.Env(), -error);
  }
  return Publish(info.Env(), address, ds.shm_segsz, true, read_only);
}

static Napi::Value Time(Napi::Env env, time_t seconds) {
  return seconds == 0 ? env.Null() : Napi::Number::New(env, static_cast<double>(seconds) * 1000);
}

// JS: shmStat(id) -> stat object or -errno. Main thread: shmctl(IPC_STAT).
static Napi::Value ShmStat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct shmid_ds ds;
  if (shmctl(ArgInt32(info, 0, "id"), IPC_STAT, &ds) != 0) return Napi::Number::New(env, -errno);
  Napi::Object stat = Napi::Object::New(env);
  stat.Set("key", Napi::Number::New(env, static_cast<uint32_t>(ds.shm_perm.__key)));
  stat.Set("size", Napi::Number::New(env, static_cast<double>(ds.shm_segsz)));
  stat.Set("attachments", Napi::Number::New(env, static_cast<double>(ds.shm_nattch)));
  stat.Set("creatorPid", Napi::Number::New(env, ds.shm_cpid));
  stat.Set("lastPid", Napi::Number::New(env, ds.shm_lpid));
  stat.Set("mode", Napi::Number::New(env, ds.shm_perm.mode & 0777));
  stat.Set("removed", Napi::Boolean::New(env, (ds.shm_perm.mode & SHM_DEST) != 0));
  stat.Set("uid", Napi::Number::New(env, ds.shm_perm.uid));
  stat.Set("gid", Napi::Number::New(env, ds.shm_perm.gid));
  stat.Set("creatorUid", Napi::Number::New(env, ds.shm_perm.cuid));
  stat.Set("creatorGid", Napi::Number::New(env, ds.shm_perm.cgid));
  stat.Set("attachTime", Time(env, ds.shm_atime));
  stat.Set("detachTime", Time(env, ds.shm_dtime));
  stat.Set("changeTime", Time(env, ds.shm_ctime));
  return stat;
}

// JS: shmRemove(id) -> 0 or -errno. Main thread: shmctl(IPC_RMID).
static Napi::Value ShmRemove(const Napi::CallbackInfo& info) {
  int result = shmctl(ArgInt32(info, 0, "id"), IPC_RMID, nullptr);
  return Napi::Number::New(info.Env(), result == 0 ? 0 : -errno);
}

// Maps `fd` (length bytes, MAP_SHARED) and publishes it; -errno on failure. Does not close fd.
static Napi::Value MapDescriptor(Napi::Env env, int fd, size_t length, bool read_only) {
  void* address = mmap(nullptr, length, read_only ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (address == MAP_FAILED) return Napi::Number::New(env, -errno);
  return Publish(env, address, length, false, read_only);
}

// Sizes an opened object: `requested` < 0 means "as it is". A created object is given the size;
// an existing one may be grown (read-write and `grow`) but never mapped beyond its end, where an
// access would raise SIGBUS: EINVAL then. Returns the length to map, or -errno with *syscall set.
//
// Sizing reserves the pages (posix_fallocate), not only the length (ftruncate): on a tmpfs such
// as /dev/shm an object of holes maps fine and then raises SIGBUS at the first write that finds
// no free page (Docker's /dev/shm is 64 MiB). Reserved, a full /dev/shm is ENOSPC here, at
// creation. Where the file system cannot reserve (EOPNOTSUPP), the length alone is set.
static int64_t SizeObject(int fd, int64_t requested, bool created, bool grow, const char** syscall) {
  *syscall = "fstat";
  struct stat st;
  if (fstat(fd, &st) != 0) return -errno;
  if (requested < 0) return st.st_size;
  if (created || (grow && st.st_size < requested)) {
    int error = 0;
    if (requested > 0) {
      *syscall = "posix_fallocate";
      do error = posix_fallocate(fd, 0, requested);
      while (error == EINTR);
    }
    if (requested == 0 || error == EOPNOTSUPP || error == ENOSYS) {
      *syscall = "ftruncate";
      error = RetryEintr([&] { return ftruncate(fd, requested); }) == 0 ? 0 : errno;
    }
    if (error != 0) {
      // A grown object goes back to its size (posix_fallocate may have extended it in part).
      if (!created) RetryEintr([&] { return ftruncate(fd, st.st_size); });
      return -error;
    }
    return requested;
  }
  *syscall = "mmap";
  if (st.st_size < requested) return -EINVAL;
  return requested;
}

// JS: posixShmOpen(name, create, exclusive, mode, size, readOnly) -> { mapping, size, buffer?,
// created } or { errno, syscall }. Main thread: shm_open, fstat/ftruncate, mmap, close (none
// blocks). With create but not exclusive, O_EXCL is tried first so that we know whether we made
// the object (and must size it) or opened someone else's.
static Napi::Value PosixShmOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = ArgString(info, 0, "name");
  bool create = info[1].ToBoolean();
  bool exclusive = info[2].ToBoolean();
  mode_t mode = static_cast<mode_t>(ArgInt32(info, 3, "mode"));
  int64_t size = ArgInt64(info, 4, "size");
  bool read_only = info[5].ToBoolean();
  auto failure = [&](int error, const char* syscall) {
    Napi::Object result = Napi::Object::New(env);
    result.Set("errno", Napi::Number::New(env, error));
    result.Set("syscall", syscall);
    return result;
  };
  int access = read_only ? O_RDONLY : O_RDWR;
  int fd = -1;
  bool created = false;
  if (create) {
    fd = shm_open(name.c_str(), access | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd != -1) created = true;
    else if (errno != EEXIST || exclusive) return failure(errno, "shm_open");
  }
  if (fd == -1) {
    fd = shm_open(name.c_str(), access | O_CLOEXEC, 0);
    if (fd == -1) return failure(errno, "shm_open");
  }
  const char* sizing = nullptr;
  int64_t length = SizeObject(fd, size, created, create && !read_only, &sizing);
  if (length < 0) {
    close(fd);
    if (created) shm_unlink(name.c_str());
    return failure(static_cast<int>(-length), sizing);
  }
  Napi::Value mapped = MapDescriptor(env, fd, static_cast<size_t>(length), read_only);
  close(fd);  // the mapping keeps the object alive
  if (mapped.IsNumber()) {
    if (created) shm_unlink(name.c_str());
    return failure(-mapped.As<Napi::Number>().Int32Value(), "mmap");
  }
  mapped.As<Napi::Object>().Set("created", Napi::Boolean::New(env, created));
  return mapped;
}

// JS: posixShmUnlink(name) -> 0 or -errno. Main thread: shm_unlink(3).
static Napi::Value PosixShmUnlink(const Napi::CallbackInfo& info) {
  std::string name = ArgString(info, 0, "name");
  return Napi::Number::New(info.Env(), shm_unlink(name.c_str()) == 0 ? 0 : -errno);
}

// JS: mapFile(path, create, mode, size, readOnly) -> { mapping, size, buffer? } or { errno,
// syscall }. Main thread: open, fstat (ftruncate to grow a read-write file), mmap MAP_SHARED,
// close. A local file's metadata calls do not wait on the disk; the mapping faults pages in later.
static Napi::Value MapFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "path");
  bool create = info[1].ToBoolean();
  mode_t mode = static_cast<mode_t>(ArgInt32(info, 2, "mode"));
  int64_t size = ArgInt64(info, 3, "size");
  bool read_only = info[4].ToBoolean();
  auto failure = [&](int error, const char* syscall) {
    Napi::Object result = Napi::Object::New(env);
    result.Set("errno", Napi::Number::New(env, error));
    result.Set("syscall", syscall);
    return result;
  };
  // O_NONBLOCK: opening a FIFO (or a device) at this path must not wait on the main thread for a
  // writer; the fstat below then refuses anything that is not a regular file. It changes nothing
  // for a regular file's mapping.
  int access = (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK;
  // As in PosixShmOpen: O_EXCL first, so that a file this call made is removed again when it
  // cannot be sized or mapped (nothing is left behind by a failed call).
  bool created = false;
  int fd = -1;
  if (create) {
    fd = RetryEintr([&] { return open(path.c_str(), access | O_CREAT | O_EXCL, mode); });
    if (fd != -1) created = true;
    else if (errno != EEXIST) return failure(errno, "open");
  }
  if (fd == -1) fd = RetryEintr([&] { return open(path.c_str(), access); });
  if (fd == -1) return failure(errno, "open");
  auto give_up = [&](int error, const char* syscall) {
    close(fd);
    if (created) unlink(path.c_str());
    return failure(error, syscall);
  };
  struct stat st;
  if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) return give_up(S_ISDIR(st.st_mode) ? EISDIR : EINVAL, "mmap");
  const char* sizing = nullptr;
  int64_t length = SizeObject(fd, size, false, !read_only, &sizing);
  if (length < 0) return give_up(static_cast<int>(-length), sizing);
  Napi::Value mapped = MapDescriptor(env, fd, static_cast<size_t>(length), read_only);
  if (mapped.IsNumber()) return give_up(-mapped.As<Napi::Number>().Int32Value(), "mmap");
  close(fd);
  return mapped;
}

// JS: unmap(mapping, buffer?) -> 0 or -errno. Main thread: detaches the buffer (every view of it
// then has length 0), then shmdt(2) or munmap(2). Unknown ids are ignored (already unmapped).
static Napi::Value UnmapMapping(const Napi::CallbackInfo& info) {
  auto found = mappings.find(static_cast<uint32_t>(ArgInt64(info, 0, "mapping")));
  if (found == mappings.end()) return Napi::Number::New(info.Env(), 0);
  Mapping mapping = found->second;
  if (info[1].IsArrayBuffer()) {
    auto buffer = info[1].As<Napi::ArrayBuffer>();
    if (buffer.Data() == mapping.address && !buffer.IsDetached()) buffer.Detach();
  }
  mappings.erase(found);
  return Napi::Number::New(info.Env(), -Unmap(mapping));
}

// JS: mappingRead(mapping, offset, length) -> a new Uint8Array with a copy. Main thread (memcpy).
// Throws IpcError ENOMEM when memory for the copy cannot be had. The copy is made in malloc'ed
// memory that becomes the array's buffer as it is: a buffer from V8 (napi_create_arraybuffer) that
// cannot be allocated ends the process ("v8::ArrayBuffer::New Allocation failed - process out of
// memory"), and `length` can be the segment's whole size. NewOrCopy copies only where external
// buffers are not allowed (and then frees ours); when it throws, ours was not freed. Beyond
// buffer_limit (where Node refuses external buffers) the old way is kept: the read fails as before.
static Napi::Value MappingRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Mapping* mapping = Find(info, 0);
  if (mapping == nullptr) throw Napi::Error::New(env, "mapping is closed");
  int64_t offset = ArgInt64(info, 1, "offset");
  int64_t length = ArgInt64(info, 2, "length");
  if (offset < 0 || length < 0 || static_cast<uint64_t>(offset) > mapping->length ||
      static_cast<uint64_t>(length) > mapping->length - static_cast<uint64_t>(offset))
    throw Napi::RangeError::New(env, "offset/length outside the segment");
  size_t size = static_cast<size_t>(length);
  const uint8_t* from = static_cast<uint8_t*>(mapping->address) + offset;
  if (size == 0 || static_cast<uint64_t>(length) > buffer_limit.load(std::memory_order_relaxed)) {
    auto copy = Napi::Uint8Array::New(env, size);
    memcpy(copy.Data(), from, size);
    return copy;
  }
  auto* data = static_cast<uint8_t*>(malloc(size));
  if (data == nullptr) ThrowSysError(env, ENOMEM, "malloc");
  memcpy(data, from, size);
  Napi::Buffer<uint8_t> buffer;
  try {
    buffer = Napi::Buffer<uint8_t>::NewOrCopy(env, data, size, [](Napi::Env, uint8_t* bytes) { free(bytes); });
  } catch (...) {
    free(data);
    throw;
  }
  // A plain Uint8Array over it, as before (not a Buffer).
  return Napi::Uint8Array::New(env, size, buffer.ArrayBuffer(), buffer.ByteOffset());
}

// JS: mappingWrite(mapping, bytes, offset, length, at) -> bytes written. Main thread (memcpy) into
// a writable mapping that has no ArrayBuffer (longer than buffer_limit).
static Napi::Value MappingWrite(const Napi::CallbackInfo& info) {
  Mapping* mapping = Find(info, 0);
  if (mapping == nullptr) throw Napi::Error::New(info.Env(), "mapping is closed");
  if (mapping->read_only) ThrowSysError(info.Env(), EACCES, "write");
  ByteRange bytes = ArgBytes(info, 1, "bytes");
  int64_t at = ArgInt64(info, 4, "at");
  if (at < 0 || static_cast<uint64_t>(at) > mapping->length || bytes.length > mapping->length - static_cast<uint64_t>(at))
    throw Napi::RangeError::New(info.Env(), "offset/length outside the segment");
  memcpy(static_cast<uint8_t*>(mapping->address) + at, bytes.data, bytes.length);
  return Napi::Number::New(info.Env(), static_cast<double>(bytes.length));
}

// JS: mappingBroken(mapping) -> true once a SIGBUS in the mapping was survived (OnSigbus): its
// object was made shorter than the mapping by someone. Main thread; false for unknown ids.
static Napi::Value MappingBroken(const Napi::CallbackInfo& info) {
  Mapping* mapping = Find(info, 0);
  return Napi::Boolean::New(info.Env(), mapping != nullptr && RegionBroken(mapping->fault_slot));
}

// JS: faultCount() -> a Uint32Array of length 1 over faults_handled (the SIGBUS faults survived
// in this process), so that JS checks for broken mappings without a call when there are none.
static Napi::Value FaultCount(const Napi::CallbackInfo& info) {
  auto buffer = Napi::ArrayBuffer::New(info.Env(), static_cast<void*>(&faults_handled), sizeof(uint32_t));
  return Napi::Uint32Array::New(info.Env(), 1, buffer, 0);
}

// JS: setBufferLimit(bytes). Main thread, at load: see buffer_limit.
static void SetBufferLimit(const Napi::CallbackInfo& info) {
  int64_t limit = ArgInt64(info, 0, "bytes");
  if (limit > 0) buffer_limit.store(static_cast<uint64_t>(limit), std::memory_order_relaxed);
}

// JS: futexWait(mapping, index, value, timeoutMs, callback(errno, outcome)) -> wait id, or the
// outcome at once. Main thread first: 'not-equal' when the cell differs, 'timed-out' for a zero
// timeout; only then a FutexWait on a waiter thread (timeoutMs < 0: no deadline).
static Napi::Value FutexWaitStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Mapping* mapping = Find(info, 0);
  if (mapping == nullptr) throw Napi::Error::New(env, "mapping is closed");
  uint32_t* word = Cell(info, *mapping, 1);
  uint32_t value = static_cast<uint32_t>(ArgInt64(info, 2, "value"));
  double timeout_ms = info[3].As<Napi::Number>().DoubleValue();
  Napi::Function callback = ArgFunction(info, 4, "callback");
  if (__atomic_load_n(word, __ATOMIC_SEQ_CST) != value) return Napi::String::New(env, "not-equal");
  if (timeout_ms == 0) return Napi::String::New(env, "timed-out");
  struct timespec deadline = {0, 0};
  bool has_deadline = timeout_ms > 0 && timeout_ms < 1e15;
  if (has_deadline) {
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    int64_t ns = static_cast<int64_t>(timeout_ms * 1e6);
    deadline.tv_sec += ns / 1000000000LL + (deadline.tv_nsec + ns % 1000000000LL) / 1000000000LL;
    deadline.tv_nsec = (deadline.tv_nsec + ns % 1000000000LL) % 1000000000LL;
  }
  // Parked in io_uring on this thread when the kernel can (one wake-up per hop); else a waiter thread.
  int64_t timeout_ns = has_deadline ? static_cast<int64_t>(timeout_ms * 1e6) : -1;
  uint32_t ring_id = GetData(env)->futex_ring->Start(env, word, value, timeout_ns, callback);
  if (ring_id != 0) return Napi::Number::New(env, ring_id);
  auto cancel = std::make_shared<std::atomic<uint32_t>>(0);
  auto wait = std::make_unique<FutexWait>(word, value, has_deadline, deadline, cancel);
  FutexWait* raw = wait.get();
  uint32_t id = GetData(env)->waits->Start(env, std::move(wait), callback);
  // Safe: the wait is deleted only on this thread, after this function has returned.
  raw->wait_id_ = id;
  cancel_words[id] = cancel;
  return Napi::Number::New(env, id);
}

// JS: futexCancel(id). Main thread: sets the wait's private cancel word and wakes it
// (FUTEX_WAKE_PRIVATE); without futex_waitv, BlockingWaits' kick signal does it instead.
static void FutexCancel(const Napi::CallbackInfo& info) {
  uint32_t id = static_cast<uint32_t>(ArgInt64(info, 0, "id"));
  if (GetData(info.Env())->futex_ring->Cancel(id)) return;  // a wait parked in io_uring
  auto found = cancel_words.find(id);
  if (found == cancel_words.end()) return;  // finished: its callback is queued or ran
  found->second->store(1, std::memory_order_release);
  Futex(reinterpret_cast<uint32_t*>(found->second.get()), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr);
  if (waitv_missing.load(std::memory_order_relaxed)) GetData(info.Env())->waits->Cancel(id);
}

// JS: futexWake(mapping, index, count) -> number woken or -errno. Main thread: FUTEX_WAKE without
// FUTEX_PRIVATE_FLAG, so waiters in every process that maps the object are found.
static Napi::Value FutexWake(const Napi::CallbackInfo& info) {
  Mapping* mapping = Find(info, 0);
  if (mapping == nullptr) throw Napi::Error::New(info.Env(), "mapping is closed");
  uint32_t* word = Cell(info, *mapping, 1);
  int64_t count = ArgInt64(info, 2, "count");
  long woken = Futex(word, FUTEX_WAKE, static_cast<uint32_t>(count > INT_MAX ? INT_MAX : count), nullptr);
  return Napi::Number::New(info.Env(), woken < 0 ? -errno : static_cast<double>(woken));
}

// Environment teardown: mappings still open are unmapped (no JS runs any more), so a worker's
// exit does not leave SysV attachments behind.
static void UnmapAll(void*) {
  for (auto& [id, mapping] : mappings) Unmap(mapping);
  mappings.clear();
}

void InitSharedMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("shmGet", Napi::Function::New(env, JsEntry<ShmGet>, "shmGet"));
  exports.Set("shmAttach", Napi::Function::New(env, JsEntry<ShmAttach>, "shmAttach"));
  exports.Set("shmStat", Napi::Function::New(env, JsEntry<ShmStat>, "shmStat"));
  exports.Set("shmRemove", Napi::Function::New(env, JsEntry<ShmRemove>, "shmRemove"));
  exports.Set("posixShmOpen", Napi::Function::New(env, JsEntry<PosixShmOpen>, "posixShmOpen"));
  exports.Set("posixShmUnlink", Napi::Function::New(env, JsEntry<PosixShmUnlink>, "posixShmUnlink"));
  exports.Set("mapFile", Napi::Function::New(env, JsEntry<MapFile>, "mapFile"));
  exports.Set("unmap", Napi::Function::New(env, JsEntry<UnmapMapping>, "unmap"));
  exports.Set("mappingRead", Napi::Function::New(env, JsEntry<MappingRead>, "mappingRead"));
  exports.Set("mappingWrite", Napi::Function::New(env, JsEntry<MappingWrite>, "mappingWrite"));
  exports.Set("setBufferLimit", Napi::Function::New(env, JsEntry<SetBufferLimit>, "setBufferLimit"));
  exports.Set("mappingBroken", Napi::Function::New(env, JsEntry<MappingBroken>, "mappingBroken"));
  exports.Set("faultCount", Napi::Function::New(env, JsEntry<FaultCount>, "faultCount"));
  exports.Set("futexWait", Napi::Function::New(env, JsEntry<FutexWaitStart>, "futexWait"));
  exports.Set("futexCancel", Napi::Function::New(env, JsEntry<FutexCancel>, "futexCancel"));
  exports.Set("futexWake", Napi::Function::New(env, JsEntry<FutexWake>, "futexWake"));
  napi_add_env_cleanup_hook(env, UnmapAll, nullptr);
}

}  // namespace ipcx
