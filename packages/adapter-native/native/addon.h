// Per-environment state of the addon, and the helpers every primitive uses.
//
// One addon instance exists per Node environment (the main thread and each worker that loads it);
// everything that refers to JS values or to a libuv loop lives in AddonData, never in globals.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cerrno>
#include <string>

namespace ipcx {

class BlockingWaits;
class FutexRing;
class Pollers;

struct AddonData {
  // Builds the JS error for an errno: (code, errno, syscall, path) => IpcError. Set from JS once.
  Napi::FunctionReference error_factory;
  // Async context for callbacks into JS from libuv callbacks (runs microtasks after each one).
  napi_async_context async_context = nullptr;
  Napi::ObjectReference async_resource;
  uv_loop_t* loop = nullptr;
  BlockingWaits* waits = nullptr;
  FutexRing* futex_ring = nullptr;  // futex waits parked in io_uring (futex_ring.h)
  Pollers* pollers = nullptr;
};

AddonData* GetData(Napi::Env env);

// Retries a system call while it fails with EINTR. For calls on the main thread only: waiter
// threads treat EINTR as "check whether you were cancelled".
template <typename F>
auto RetryEintr(F call) -> decltype(call()) {
  decltype(call()) result;
  do {
    result = call();
  } while (result == -1 && errno == EINTR);
  return result;
}

// Calls a JS function from a libuv callback, so that promise reactions run afterwards and an
// exception thrown by the callback reaches process 'uncaughtException' instead of being lost.
void CallIntoJs(Napi::Env env, const Napi::FunctionReference& fn, std::initializer_list<napi_value> args);

// Argument helpers: throw TypeError/RangeError (JS checks first; these guard the addon itself).
int32_t ArgInt32(const Napi::CallbackInfo& info, size_t index, const char* name);
int64_t ArgInt64(const Napi::CallbackInfo& info, size_t index, const char* name);
std::string ArgString(const Napi::CallbackInfo& info, size_t index, const char* name);
Napi::Function ArgFunction(const Napi::CallbackInfo& info, size_t index, const char* name);
// A byte range of a Uint8Array argument: (array, offset, length) checked against its size.
struct ByteRange {
  uint8_t* data;
  size_t length;
};
ByteRange ArgBytes(const Napi::CallbackInfo& info, size_t index, const char* name);

}  // namespace ipcx
