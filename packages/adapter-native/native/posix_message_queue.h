// PLACEHOLDER until this primitive is implemented: registers nothing yet.
#pragma once
#include <napi.h>
namespace ipcx {
void InitPosixMessageQueues(Napi::Env env, Napi::Object exports);
}
