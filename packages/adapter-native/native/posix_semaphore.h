// PLACEHOLDER until this primitive is implemented: registers nothing yet.
#pragma once
#include <napi.h>
namespace ipcx {
void InitPosixSemaphores(Napi::Env env, Napi::Object exports);
}
