#include "message_queue.h"

namespace ipcx {

void InitMessageQueues(Napi::Env env, Napi::Object exports) {}

}  // namespace ipcx
