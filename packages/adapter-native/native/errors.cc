#include "errors.h"

#include <string>

#include "addon.h"

namespace ipcx {

Napi::Value MakeSysError(Napi::Env env, int err, const char* syscall, const char* path) {
  AddonData* data = GetData(env);
  Napi::Value path_value = path != nullptr ? Napi::Value(Napi::String::New(env, path)) : env.Undefined();
  if (data->error_factory.IsEmpty()) {
    // Only before JS registered its factory, i.e. never once the package has loaded. The errno's
    // name comes from @ipcx/core's table (one table for every backend), so here it is the number.
    Napi::Error error = Napi::Error::New(env, std::string("errno ") + std::to_string(err) + ": " + syscall + " failed");
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

void InitErrors(Napi::Env env, Napi::Object exports) {
  exports.Set("setErrorFactory", Napi::Function::New(env, SetErrorFactory, "setErrorFactory"));
}

}  // namespace ipcx
