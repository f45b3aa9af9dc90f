// Advisory file locks, as open file description locks (fcntl F_OFD_SETLK / F_OFD_SETLKW /
// F_OFD_GETLK): open of the lock file, F_OFD_SETLK and F_OFD_GETLK on the main thread,
// F_OFD_SETLKW on a waiter thread (interrupted by the kick signal for cancel).
#pragma once
#include <napi.h>
namespace ipcx {
void InitFileLocks(Napi::Env env, Napi::Object exports);
}
