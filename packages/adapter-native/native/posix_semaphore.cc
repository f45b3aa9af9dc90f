#include "posix_semaphore.h"

namespace ipcx {

void InitPosixSemaphores(Napi::Env env, Napi::Object exports) {}

}  // namespace ipcx
