// System V message queues: ftok, msgget, msgctl on the main thread; msgsnd/msgrcv first with
// IPC_NOWAIT on the main thread, then (only if they would wait) blocking on a waiter thread.
#pragma once
#include <napi.h>
namespace ipcx {
void InitMessageQueues(Napi::Env env, Napi::Object exports);
}
