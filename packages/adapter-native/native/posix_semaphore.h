// POSIX named semaphores: sem_open/sem_close/sem_unlink, sem_trywait and sem_post on the main
// thread, sem_wait/sem_clockwait on a waiter thread.
#pragma once
#include <napi.h>
namespace ipcx {
void InitPosixSemaphores(Napi::Env env, Napi::Object exports);
}
