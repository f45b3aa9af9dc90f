#include "semaphore.h"

namespace ipcx {

void InitSemaphores(Napi::Env env, Napi::Object exports) {}

}  // namespace ipcx
