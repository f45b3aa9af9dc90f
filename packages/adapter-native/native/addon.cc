// Entry point of the addon: per-environment state, teardown, and the helpers of addon.h.
// Each file of native/modules.def registers its own functions through its Init function, which
// Init below calls in the list's order; the same list gives binding.gyp its sources.
#include "addon.h"

#include "blocking_wait.h"
#include "futex_ring.h"
#include "poller.h"

namespace ipcx {

// Declares every Init function of native/modules.def.
#define IPCX_MACHINERY(file, init) void init(Napi::Env env, Napi::Object exports);
#define IPCX_PRIMITIVE(file, init) void init(Napi::Env env, Napi::Object exports);
#define IPCX_SOURCE(file)
#include "modules.def"
#undef IPCX_MACHINERY
#undef IPCX_PRIMITIVE
#undef IPCX_SOURCE

AddonData* GetData(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

void CallIntoJs(Napi::Env env, const Napi::FunctionReference& fn, std::initializer_list<napi_value> args) {
  if (fn.IsEmpty()) return;
  AddonData* data = GetData(env);
  napi_value result;
  napi_status status = napi_make_callback(env, data->async_context, data->async_resource.Value(), fn.Value(),
                                          args.size(), args.begin(), &result);
  if (status == napi_pending_exception) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
}

int32_t ArgInt32(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (!info[index].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  return info[index].As<Napi::Number>().Int32Value();
}

int64_t ArgInt64(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (!info[index].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  return info[index].As<Napi::Number>().Int64Value();
}

std::string ArgString(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (!info[index].IsString()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a string");
  return info[index].As<Napi::String>().Utf8Value();
}

Napi::Function ArgFunction(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (!info[index].IsFunction()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a function");
  return info[index].As<Napi::Function>();
}

ByteRange ArgBytes(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (!info[index].IsTypedArray()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a Uint8Array");
  auto array = info[index].As<Napi::Uint8Array>();
  int64_t offset = ArgInt64(info, index + 1, "offset");
  int64_t length = ArgInt64(info, index + 2, "length");
  if (offset < 0 || length < 0 || static_cast<size_t>(offset + length) > array.ByteLength())
    throw Napi::RangeError::New(info.Env(), std::string(name) + ": offset/length out of range");
  return ByteRange{array.Data() + offset, static_cast<size_t>(length)};
}

namespace {

struct TeardownProgress {
  napi_async_cleanup_hook_handle hook;
  int remaining;
};

void TeardownStepDone(void* arg) {
  auto* progress = static_cast<TeardownProgress*>(arg);
  if (--progress->remaining == 0) {
    napi_remove_async_cleanup_hook(progress->hook);
    delete progress;
  }
}

// Environment teardown (process exit, worker exit or terminate()): every waiter thread is
// cancelled and joined and every libuv handle closed before the loop goes away, since Node aborts
// when a worker's loop still has handles.
void AsyncCleanup(napi_async_cleanup_hook_handle hook, void* arg) {
  auto* data = static_cast<AddonData*>(arg);
  auto* progress = new TeardownProgress{hook, 3};
  data->waits->Teardown(TeardownStepDone, progress);
  data->futex_ring->Teardown(TeardownStepDone, progress);
  data->pollers->Teardown(TeardownStepDone, progress);
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  napi_get_uv_event_loop(env, &data->loop);
  Napi::Object resource = Napi::Object::New(env);
  data->async_resource = Napi::Persistent(resource);
  napi_async_init(env, resource, Napi::String::New(env, "ipcx"), &data->async_context);
  data->waits = new BlockingWaits(env, data->loop);
  data->futex_ring = new FutexRing(env, data->loop);
  data->pollers = new Pollers(data->loop);
  napi_add_async_cleanup_hook(env, AsyncCleanup, data, nullptr);

  // Every Init function of native/modules.def, in its order.
#define IPCX_MACHINERY(file, init) init(env, exports);
#define IPCX_PRIMITIVE(file, init) init(env, exports);
#define IPCX_SOURCE(file)
#include "modules.def"
#undef IPCX_MACHINERY
#undef IPCX_PRIMITIVE
#undef IPCX_SOURCE
  return exports;
}

}  // namespace ipcx

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return ipcx::Init(env, exports); }

NODE_API_MODULE(ipcx_native, InitModule)
