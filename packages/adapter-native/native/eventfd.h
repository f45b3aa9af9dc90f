// Linux event counters (eventfd2): create, the non-blocking read and write on the calling thread,
// and the blocking write (a counter that would overflow) on a waiter thread.
#pragma once
#include <napi.h>
namespace ipcx {
void InitEventfds(Napi::Env env, Napi::Object exports);
}
