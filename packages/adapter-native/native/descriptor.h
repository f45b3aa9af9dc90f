// Operations every descriptor-based primitive shares (pipes, FIFOs, sockets, generic descriptors).
//
// Why ipcx never relies on O_NONBLOCK of a descriptor it shares: the flag lives on the open file
// description, which every process holding the descriptor shares and may change at any time
// (Node's child_process clears it on fds 0-2 it hands a child; a C program may set or clear it
// with fcntl). So the descriptions ipcx creates or hands out stay at the kernel's default
// (blocking), and every call that must not wait says so itself:
//   - sockets: recv/send/recvmsg/sendmsg with MSG_DONTWAIT (per call);
//   - anonymous pipes: preadv2/pwritev2 with RWF_NOWAIT (per call, Linux 6.x), else a private
//     open file description (below);
//   - FIFOs: a private open file description, opened again through /proc/self/fd/N with
//     O_NONBLOCK: the same pipe, but a flag no other process can reach;
//   - accept: a waiter thread (no per-call flag exists for accept4);
//   - connect: a socket ipcx has just made is private until connected, so its O_NONBLOCK is
//     ipcx's alone; it is cleared once connected;
//   - generic descriptors (files, eventfd, devices): preadv2/pwritev2 RWF_NOWAIT, else the
//     call runs on a waiter thread.
// Hot-path calls return -errno instead of throwing: EAGAIN is the common case, not an exception.
#pragma once

#include <napi.h>

namespace ipcx {

// Sets O_NONBLOCK and FD_CLOEXEC on fd (only for descriptions no other process has). Returns 0
// or an errno.
int MakeNonBlockingCloexec(int fd);

// Clears O_NONBLOCK (a description ipcx just made, before anyone else can hold it). 0 or errno.
int MakeBlocking(int fd);

void InitDescriptors(Napi::Env env, Napi::Object exports);

}  // namespace ipcx
