// POSIX message queues (mq_open, mq_send, mq_receive, mq_getattr, mq_unlink).
//
// On Linux an mqd_t is a descriptor, so every queue is opened O_NONBLOCK and the calls here never
// wait: JS tries the call first and, on EAGAIN, waits for readiness with uv_poll (poller.h) and
// tries again. No thread per wait; cancelling a wait is leaving the JS queue of pending calls.
#pragma once

#include <napi.h>

namespace ipcx {

// Registers mqOpen, mqSend, mqReceive, mqAttributes, mqUnlink, and mqNotifyRegister, mqNotifyRead,
// mqNotifyCancel (mq_notify delivered to a netlink socket that uv_poll watches: see the .cc).
void InitPosixMessageQueues(Napi::Env env, Napi::Object exports);

}  // namespace ipcx
