#include "errors.h"

#include <string>

#include "addon.h"
#include "errno_table.h"

namespace ipcx {

std::string ErrnoName(int err) {
  for (const ErrnoEntry& entry : kErrnoTable) {
    if (entry.number == err) return entry.name;
  }
  return "E" + std::to_string(err);
}

Napi::Value MakeSysError(Napi::Env env, int err, const char* syscall, const char* path) {
  AddonData* data = GetData(env);
  Napi::Value path_value = path != nullptr ? Napi::Value(Napi::String::New(env, path)) : env.Undefined();
  if (data->error_factory.IsEmpty()) {
    // Only before JS registered its factory, i.e. never once the package has loaded: a plain Error
    // with the same code and errno an IpcError would carry (the name from the same table).
    std::string code = ErrnoName(err);
    Napi::Error error = Napi::Error::New(env, code + ": " + syscall + " failed");
    error.Set("code", code);
    error.Set("errno", Napi::Number::New(env, err));
    error.Set("syscall", syscall);
    return error.Value();
  }
  return data->error_factory.Call({Napi::Number::New(env, err), Napi::String::New(env, syscall), path_value});
}

void ThrowSysError(Napi::Env env, int err, const char* syscall, const char* path) {
  throw Napi::Error(env, MakeSysError(env, err, syscall, path));
}

// JS: setErrorFactory((errno, syscall, path) => Error). Main thread, once per environment.
static void SetErrorFactory(const Napi::CallbackInfo& info) {
  GetData(info.Env())->error_factory = Napi::Persistent(ArgFunction(info, 0, "factory"));
}

// JS: errnoName(errno) -> the addon's name for it (ErrnoName), so tests can check that the addon
// and @ipcx/core name every number alike. Main thread.
static Napi::Value ErrnoNameOf(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), ErrnoName(ArgInt32(info, 0, "errno")));
}

void InitErrors(Napi::Env env, Napi::Object exports) {
  exports.Set("setErrorFactory", Napi::Function::New(env, JsEntry<SetErrorFactory>, "setErrorFactory"));
  exports.Set("errnoName", Napi::Function::New(env, JsEntry<ErrnoNameOf>, "errnoName"));
}

}  // namespace ipcx
