// Unix domain sockets: socket/bind/listen/accept4/connect, sendmsg/recvmsg with SCM_RIGHTS and
// MSG_TRUNC, SO_PEERCRED, getsockname/getpeername, path and abstract addresses.
//
// Every descriptor is close-on-exec and blocking (the kernel's default, since it may be shared with
// other programs); ipcx's calls are non-blocking per call (MSG_DONTWAIT, see descriptor.h) and
// readiness comes from the uv_poll machinery of poller.h, driven from JS. Hot-path calls
// (connect, send, receive) return -errno instead of throwing: EAGAIN is the common case, not an
// exception. Accept, and a connect while the server's backlog is full, run as BlockingWaits.
#pragma once

#include <napi.h>

namespace ipcx {

void InitSockets(Napi::Env env, Napi::Object exports);

}  // namespace ipcx
