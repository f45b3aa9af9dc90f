// System V semaphore sets: semget, semop (IPC_NOWAIT on the main thread first, then semtimedop on
// a waiter thread), and every semctl command.
#pragma once
#include <napi.h>
namespace ipcx {
void InitSemaphores(Napi::Env env, Napi::Object exports);
}
