#include "socket.h"

namespace ipcx {

void InitSockets(Napi::Env env, Napi::Object exports) {}

}  // namespace ipcx
