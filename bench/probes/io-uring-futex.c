// Does this kernel park a futex wait in io_uring, and what does a wake through it cost?
//
//   gcc -O2 -o /tmp/io-uring-futex bench/probes/io-uring-futex.c && /tmp/io-uring-futex [ROUND_TRIPS]
//
// A probe for docs/BENCHMARKS.md ("io_uring futex waits", issue 12 item 8), not part of ipcx:
// 1. Sets up a ring with raw system calls (no liburing) and checks that opcode 51, mainline's
//    IORING_OP_FUTEX_WAIT since Linux 6.7 (the installed <linux/io_uring.h> may predate it and
//    stop at SENDMSG_ZC, 48), behaves as one: EAGAIN at once for a value the word does not hold,
//    pending for the value it holds, ECANCELED after IORING_OP_ASYNC_CANCEL.
// 2. Runs a 4-byte ping-pong with a forked child through a shared anonymous mapping: the child
//    always sleeps in FUTEX_WAIT; the parent waits either (a) in the ring, watched by epoll as
//    libuv would watch it (one wake-up per hop, no waiter thread), or (b) in FUTEX_WAIT itself (the
//    floor: what a blocking peer such as Python's Pipe pays). Prints µs per round trip for both and
//    how often epoll_wait was interrupted (the completion arrives as task work, which ends the
//    parent's epoll_wait with EINTR before the ring becomes readable).
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <linux/io_uring.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FUTEX2_U32 0x02  // FUTEX2_SIZE_U32 (linux/futex.h of 6.7+)
#define FUTEX2_PRIV 128  // FUTEX2_PRIVATE

static int ring;
static unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
static struct io_uring_sqe* sqes;
static struct io_uring_cqe* cqes;

static int Setup(void) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  ring = (int)syscall(__NR_io_uring_setup, 16, &p);
  if (ring < 0) return -errno;
  size_t sq_bytes = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cq_bytes = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  size_t bytes = sq_bytes > cq_bytes ? sq_bytes : cq_bytes;  // IORING_FEAT_SINGLE_MMAP (5.4+)
  char* rings = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
  sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
  if (rings == MAP_FAILED || sqes == MAP_FAILED) return -errno;
  sq_tail = (unsigned*)(rings + p.sq_off.tail);
  sq_mask = (unsigned*)(rings + p.sq_off.ring_mask);
  sq_array = (unsigned*)(rings + p.sq_off.array);
  cq_head = (unsigned*)(rings + p.cq_off.head);
  cq_tail = (unsigned*)(rings + p.cq_off.tail);
  cq_mask = (unsigned*)(rings + p.cq_off.ring_mask);
  cqes = (struct io_uring_cqe*)(rings + p.cq_off.cqes);
  return 0;
}

static void Submit(uint8_t op, int fd, uint64_t addr, uint64_t addr2, uint64_t addr3, uint64_t user_data) {
  unsigned tail = *sq_tail, index = tail & *sq_mask;
  struct io_uring_sqe* sqe = &sqes[index];
  memset(sqe, 0, sizeof *sqe);
  sqe->opcode = op;
  sqe->fd = fd;
  sqe->addr = addr;
  sqe->addr2 = addr2;
  sqe->addr3 = addr3;
  sqe->user_data = user_data;
  sq_array[index] = index;
  __atomic_store_n(sq_tail, tail + 1, __ATOMIC_RELEASE);
  if (syscall(__NR_io_uring_enter, ring, 1, 0, 0, NULL, 0) != 1) perror("io_uring_enter");
}

// The result of the completion for user_data, if one is there (1 if none).
static int Reap(uint64_t user_data) {
  int result = 1;
  unsigned head = *cq_head, tail = __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE);
  for (; head != tail; head++)
    if (cqes[head & *cq_mask].user_data == user_data) result = cqes[head & *cq_mask].res;
  __atomic_store_n(cq_head, head, __ATOMIC_RELEASE);
  return result;
}

static void WaitForCompletion(void) { syscall(__NR_io_uring_enter, ring, 0, 1, IORING_ENTER_GETEVENTS, NULL, 0); }

// Whether op behaves as a futex wait (see the header).
static int IsFutexWait(uint8_t op) {
  static uint32_t word = 0;
  Submit(op, FUTEX2_U32 | FUTEX2_PRIV, (uintptr_t)&word, 1, FUTEX_BITSET_MATCH_ANY, 1);
  WaitForCompletion();
  int mismatch = Reap(1);
  printf("opcode %u: value the word does not hold -> %d (%s)", op, mismatch, mismatch < 0 ? strerror(-mismatch) : "ok");
  if (mismatch != -EAGAIN) return printf("\n"), 0;
  Submit(op, FUTEX2_U32 | FUTEX2_PRIV, (uintptr_t)&word, 0, FUTEX_BITSET_MATCH_ANY, 2);
  int pending = Reap(2);
  Submit(IORING_OP_ASYNC_CANCEL, 0, 2, 0, 0, 3);
  WaitForCompletion();
  int cancelled = Reap(2);
  Reap(3);
  printf("; value it holds -> %s; after ASYNC_CANCEL -> %d\n", pending == 1 ? "pending" : "completed at once", cancelled);
  return pending == 1 && cancelled == -ECANCELED;
}

static double Now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

// m[0]: the parent's count (odd: ping i), m[1]: the child's answer (2i + 2).
static double PingPong(uint8_t op, int rounds, int through_ring, long* interrupted) {
  uint32_t* m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  pid_t child = fork();
  if (child == 0) {
    for (uint32_t i = 0; i < (uint32_t)rounds; i++) {
      while (__atomic_load_n(&m[0], __ATOMIC_ACQUIRE) != 2 * i + 1) syscall(SYS_futex, &m[0], FUTEX_WAIT, 2 * i, NULL, NULL, 0);
      __atomic_store_n(&m[1], 2 * i + 2, __ATOMIC_RELEASE);
      syscall(SYS_futex, &m[1], FUTEX_WAKE, 1, NULL, NULL, 0);
    }
    _exit(0);
  }
  int epoll = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event event = {.events = EPOLLIN};
  epoll_ctl(epoll, EPOLL_CTL_ADD, ring, &event);
  *interrupted = 0;
  double started = Now();
  for (uint32_t i = 0; i < (uint32_t)rounds; i++) {
    __atomic_store_n(&m[0], 2 * i + 1, __ATOMIC_RELEASE);
    syscall(SYS_futex, &m[0], FUTEX_WAKE, 1, NULL, NULL, 0);
    while (__atomic_load_n(&m[1], __ATOMIC_ACQUIRE) != 2 * i + 2) {
      if (!through_ring) {
        syscall(SYS_futex, &m[1], FUTEX_WAIT, 2 * i, NULL, NULL, 0);
        continue;
      }
      // Shared futex (no FUTEX2_PRIVATE): the child's FUTEX_WAKE finds it through the mapping.
      Submit(op, FUTEX2_U32, (uintptr_t)&m[1], 2 * i, FUTEX_BITSET_MATCH_ANY, 10);
      int result;
      while ((result = Reap(10)) == 1) {
        struct epoll_event ready;
        if (epoll_wait(epoll, &ready, 1, -1) < 0 && errno == EINTR) ++*interrupted;
      }
      if (result != 0 && result != -EAGAIN) fprintf(stderr, "futex wait in the ring: %s\n", strerror(-result));
    }
  }
  double per_round_trip = (Now() - started) / rounds;
  waitpid(child, NULL, 0);
  close(epoll);
  munmap(m, 4096);
  return per_round_trip;
}

int main(int argc, char** argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 20000;
  int error = Setup();
  if (error < 0) return printf("io_uring_setup: %s\n", strerror(-error)), 1;
  const uint8_t op = 51;  // IORING_OP_FUTEX_WAIT (after IORING_OP_WAITID, 50)
  if (!IsFutexWait(op)) return printf("opcode %u does not behave as IORING_OP_FUTEX_WAIT (kernel before 6.7?)\n", op), 1;
  printf("IORING_OP_FUTEX_WAIT (opcode %u) works here\n", op);
  for (int round = 0; round < 2; round++) {
    long interrupted = 0;
    double ring_us = PingPong(op, rounds, 1, &interrupted);
    double plain_us = PingPong(op, rounds, 0, &(long){0});
    printf("ping-pong, %d round trips: in the ring (epoll) %.2f us (epoll_wait interrupted %ld times), FUTEX_WAIT %.2f us\n", rounds, ring_us,
           interrupted, plain_us);
  }
  close(ring);
  return 0;
}
