#include "shared_memory.h"

namespace ipcx {

void InitSharedMemory(Napi::Env env, Napi::Object exports) {}

}  // namespace ipcx
