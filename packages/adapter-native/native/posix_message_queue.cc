#include "posix_message_queue.h"

namespace ipcx {

void InitPosixMessageQueues(Napi::Env env, Napi::Object exports) {}

}  // namespace ipcx
