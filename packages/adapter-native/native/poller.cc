#include "poller.h"

#include "addon.h"
#include "poller.h"
#include "blocking_wait.h"
#include "errors.h"

namespace ipcx {

struct Pollers::Poll {
  uv_poll_t handle;
  Napi::Env env;
  Napi::FunctionReference callback;
  uint32_t id;
  Pollers* owner;
  // What JS waits for (pending operations), and what the uv_poll watches: the wanted events plus a
  // readable interest kept from an earlier read (see Pollers::Update).
  int wanted = 0;
  int armed = 0;
};

namespace {
// Watches `events` on the handle, or stops it for 0. Only when they change: uv_poll_start stops and
// restarts the watcher even for the same events, which costs two epoll_ctl calls at the next poll.
int Arm(uv_poll_t* handle, int& armed, int events, uv_poll_cb callback) {
  if (events == armed) return 0;
  armed = events;
  return events == 0 ? uv_poll_stop(handle) : uv_poll_start(handle, events, callback);
}
}  // namespace

namespace {
struct TeardownState {
  size_t pending;
  void (*done)(void*);
  void* arg;
};
}  // namespace

// libuv thread (= the main thread): readiness, or an error such as EBADF. Calls back
// (status, events), events being UV_READABLE | UV_WRITABLE | UV_DISCONNECT.
//
// Readiness that no pending operation wants (a readable interest kept armed after its read, see
// Update) only disarms that interest: JS is not called.
void Pollers::OnPoll(uv_poll_t* handle, int status, int events) {
  auto* poll = static_cast<Poll*>(handle->data);
  if (status < 0) {
    poll->armed = 0;  // libuv stops a poll after an error; JS re-arms it after retrying the call
  } else {
    int unwanted = events & ~poll->wanted;
    if (unwanted != 0) Arm(handle, poll->armed, poll->armed & ~unwanted, OnPoll);
    if ((events & poll->wanted) == 0) return;
  }
  Napi::Env env = poll->env;
  Napi::HandleScope scope(env);
  CallIntoJs(env, poll->callback, {Napi::Number::New(env, status), Napi::Number::New(env, events)});
}

uint32_t Pollers::Start(Napi::Env env, int fd, int events, Napi::Function callback) {
  auto* poll = new Poll{{}, env, Napi::Persistent(callback), next_id_++, this};
  if (next_id_ == 0) next_id_ = 1;
  int error = uv_poll_init(loop_, &poll->handle, fd);
  if (error != 0) {
    delete poll;
    ThrowSysError(env, -error, "uv_poll_init");
  }
  poll->handle.data = poll;
  poll->wanted = poll->armed = events;
  error = uv_poll_start(&poll->handle, events, OnPoll);
  if (error != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&poll->handle), [](uv_handle_t* h) { delete static_cast<Poll*>(h->data); });
    ThrowSysError(env, -error, "uv_poll_start");
  }
  polls_[poll->id] = poll;
  return poll->id;
}

// A readable interest stays armed when no read is pending any more: in a ping-pong the next read
// comes soon, and re-registering the descriptor for every parked read cost two epoll_ctl calls
// per message (measured: 4 per round trip, with perf stat). While nothing is wanted the handle is
// unref'd, so an idle stream does not keep the loop alive, and it costs no CPU either: the first
// readiness that nobody wants disarms it (OnPoll). A writable interest is dropped at once, since a
// descriptor is writable almost always.
void Pollers::Update(Napi::Env env, uint32_t id, int events) {
  auto found = polls_.find(id);
  if (found == polls_.end()) return;
  Poll* poll = found->second;
  uv_poll_t* handle = &poll->handle;
  poll->wanted = events;
  int error = Arm(handle, poll->armed, events | (poll->armed & UV_READABLE), OnPoll);
  if (events == 0)
    uv_unref(reinterpret_cast<uv_handle_t*>(handle));
  else
    uv_ref(reinterpret_cast<uv_handle_t*>(handle));
  if (error != 0) ThrowSysError(env, -error, "uv_poll_start");
}

void Pollers::Close(uint32_t id) {
  auto found = polls_.find(id);
  if (found == polls_.end()) return;
  Poll* poll = found->second;
  polls_.erase(found);
  poll->callback.Reset();
  uv_close(reinterpret_cast<uv_handle_t*>(&poll->handle), [](uv_handle_t* h) { delete static_cast<Poll*>(h->data); });
}

void Pollers::Teardown(void (*done)(void*), void* arg) {
  if (polls_.empty()) {
    done(arg);
    return;
  }
  auto* state = new TeardownState{polls_.size(), done, arg};
  for (auto& [id, poll] : polls_) {
    poll->callback.Reset();
    poll->owner = reinterpret_cast<Pollers*>(state);
    uv_close(reinterpret_cast<uv_handle_t*>(&poll->handle), [](uv_handle_t* h) {
      auto* poll = static_cast<Poll*>(h->data);
      auto* state = reinterpret_cast<TeardownState*>(poll->owner);
      delete poll;
      if (--state->pending == 0) {
        state->done(state->arg);
        delete state;
      }
    });
  }
  polls_.clear();
}

// JS: pollStart(fd, events, callback(status, events)) -> id. Main thread. The handle keeps the
// loop alive while it watches any event.
static Napi::Value PollStart(const Napi::CallbackInfo& info) {
  auto* data = GetData(info.Env());
  int fd = ArgInt32(info, 0, "fd");
  int events = ArgInt32(info, 1, "events");
  return Napi::Number::New(info.Env(), data->pollers->Start(info.Env(), fd, events, ArgFunction(info, 2, "callback")));
}

// JS: pollUpdate(id, events). Main thread. The events pending operations wait for; 0 stops keeping
// the loop alive (a readable interest may stay armed until it fires, see Pollers::Update).
static void PollUpdate(const Napi::CallbackInfo& info) {
  GetData(info.Env())->pollers->Update(info.Env(), static_cast<uint32_t>(ArgInt64(info, 0, "id")), ArgInt32(info, 1, "events"));
}

// JS: pollClose(id). Main thread. Must come before the descriptor is closed.
static void PollClose(const Napi::CallbackInfo& info) {
  GetData(info.Env())->pollers->Close(static_cast<uint32_t>(ArgInt64(info, 0, "id")));
}

void InitPollers(Napi::Env env, Napi::Object exports) {
  exports.Set("pollStart", Napi::Function::New(env, PollStart, "pollStart"));
  exports.Set("pollUpdate", Napi::Function::New(env, PollUpdate, "pollUpdate"));
  exports.Set("pollClose", Napi::Function::New(env, PollClose, "pollClose"));
}

}  // namespace ipcx
