// errno to JS: errors leave the addon as data (errno number and syscall name) and become
// IpcError in one place, the factory that JS registers with setErrorFactory.
#pragma once

#include <napi.h>

#include <cerrno>
#include <new>

namespace ipcx {

// An IpcError value for err from syscall (and the path it concerned, if any).
Napi::Value MakeSysError(Napi::Env env, int err, const char* syscall, const char* path = nullptr);

// Throws MakeSysError(...) as a C++ exception that node-addon-api turns into a JS throw.
[[noreturn]] void ThrowSysError(Napi::Env env, int err, const char* syscall, const char* path = nullptr);

// Wraps a function called from JS so that an allocation failure anywhere in it (std::bad_alloc
// from a std::vector, a std::string, node-addon-api itself) becomes an IpcError ENOMEM thrown to
// JS instead of reaching std::terminate. Register entry points as JsEntry<Function>.
// (NODE_ADDON_API_CPP_EXCEPTIONS_ALL, in binding.gyp, is the backstop for any other exception.)
template <auto F>
auto JsEntry(const Napi::CallbackInfo& info) -> decltype(F(info)) {
  try {
    return F(info);
  } catch (const std::bad_alloc&) {
    ThrowSysError(info.Env(), ENOMEM, "malloc");
  }
}

// Registers the JS functions of this file: setErrorFactory(fn).
void InitErrors(Napi::Env env, Napi::Object exports);

}  // namespace ipcx
