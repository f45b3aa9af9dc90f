// errno to JS: errors leave the addon as data (errno number and syscall name) and become
// IpcError in one place, the factory that JS registers with setErrorFactory.
#pragma once

#include <napi.h>

namespace ipcx {

// An IpcError value for err from syscall (and the path it concerned, if any).
Napi::Value MakeSysError(Napi::Env env, int err, const char* syscall, const char* path = nullptr);

// Throws MakeSysError(...) as a C++ exception that node-addon-api turns into a JS throw.
[[noreturn]] void ThrowSysError(Napi::Env env, int err, const char* syscall, const char* path = nullptr);

// Registers the JS functions of this file: setErrorFactory(fn).
void InitErrors(Napi::Env env, Napi::Object exports);

}  // namespace ipcx
