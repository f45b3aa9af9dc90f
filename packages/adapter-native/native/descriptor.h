// Operations every descriptor-based primitive shares (pipes, FIFOs, sockets): non-blocking read
// and write, close, shutdown, and describing a descriptor that arrived from elsewhere.
// Hot-path calls return -errno instead of throwing: EAGAIN is the common case, not an exception.
#pragma once

#include <napi.h>

namespace ipcx {

// Sets O_NONBLOCK and FD_CLOEXEC on fd. Returns 0 or an errno.
int MakeNonBlockingCloexec(int fd);

void InitDescriptors(Napi::Env env, Napi::Object exports);

}  // namespace ipcx
