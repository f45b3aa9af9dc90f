// PLACEHOLDER until this primitive is implemented: registers nothing yet.
#pragma once
#include <napi.h>
namespace ipcx {
void InitMessageQueues(Napi::Env env, Napi::Object exports);
}
