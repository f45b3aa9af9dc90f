// Unix domain sockets: socket/bind/listen/accept4/connect, sendmsg/recvmsg with SCM_RIGHTS and
// MSG_TRUNC, SO_PEERCRED, getsockname/getpeername, path and abstract addresses.
//
// Every descriptor is non-blocking and close-on-exec; readiness comes from the uv_poll machinery
// of poller.h, driven from JS. Hot-path calls (accept, connect, send, receive) return -errno
// instead of throwing: EAGAIN is the common case, not an exception. The one wait that no
// descriptor can announce, a connect while the server's backlog is full, runs as a BlockingWait.
#pragma once

#include <napi.h>

namespace ipcx {

void InitSockets(Napi::Env env, Napi::Object exports);

}  // namespace ipcx
