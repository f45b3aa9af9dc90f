// errno to JS. An errno leaves the addon in one of three ways, all of them as a bare number that
// JS names with @ipcx/core's table (packages/core/errno.tsv):
// - a thrown IpcError: ThrowSysError / MakeSysError call the factory JS registers with
//   setErrorFactory (errno number, syscall name, path);
// - a returned -errno: hot-path calls (non-blocking reads and writes, semop, msgsnd, ...) return
//   0/a result or -errno as a number, which src/addon.ts's errorFromErrno turns into an IpcError
//   when JS decides it is a failure (-EAGAIN usually is not: it means "wait");
// - a BlockingWait's end: Execute() returns 0 or errno; the JS callback receives (errno, result),
//   result being MakeSysError's IpcError for a failure (ECANCELED: none, JS knows it cancelled).
#pragma once

#include <napi.h>

#include <cerrno>
#include <new>
#include <string>

namespace ipcx {

// The errno name of err from the generated table (errno_table.h), or "E<number>" for a number
// outside it: the same name and the same fallback as @ipcx/core's errnoName.
std::string ErrnoName(int err);

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

// Registers the JS functions of this file: setErrorFactory(fn), errnoName(errno).
void InitErrors(Napi::Env env, Napi::Object exports);

}  // namespace ipcx
