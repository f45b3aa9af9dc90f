// FIFOs: mkfifo, an open that waits for the other side on a waiter thread, unlink.
#pragma once
#include <napi.h>
namespace ipcx {
void InitFifos(Napi::Env env, Napi::Object exports);
}
