#include "poller.h"

#include <sys/epoll.h>
#include <unistd.h>

#include "addon.h"
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
  // A shared description (see Pollers::Start): the descriptor watched through an epoll instance
  // of its own (epfd), which the uv_poll watches instead.
  int fd = -1;
  int epfd = -1;
  ~Poll() {
    if (epfd >= 0) close(epfd);
  }
};

namespace {
int ToEpoll(int events) {
  return ((events & UV_READABLE) ? static_cast<int>(EPOLLIN) : 0) | ((events & UV_WRITABLE) ? static_cast<int>(EPOLLOUT) : 0) | ((events & UV_DISCONNECT) ? static_cast<int>(EPOLLRDHUP) : 0);
}

int FromEpoll(uint32_t events) {
  return ((events & EPOLLIN) ? UV_READABLE : 0) | ((events & EPOLLOUT) ? UV_WRITABLE : 0) | ((events & EPOLLRDHUP) ? UV_DISCONNECT : 0);
}
}  // namespace

// Watches `events`, or stops watching for 0. Only when they change: uv_poll_start stops and
// restarts the watcher even for the same events, which costs two epoll_ctl calls at the next poll.
// Through an epoll instance of its own, the inner registration changes and the uv_poll watches
// that instance for readability while anything is armed.
int Pollers::Arm(Poll* poll, int events) {
  if (events == poll->armed) return 0;
  int before = poll->armed;
  poll->armed = events;
  if (poll->epfd < 0) return events == 0 ? uv_poll_stop(&poll->handle) : uv_poll_start(&poll->handle, events, OnPoll);
  epoll_event event{};
  event.events = ToEpoll(events);
  if (epoll_ctl(poll->epfd, EPOLL_CTL_MOD, poll->fd, &event) != 0) return -errno;
  if ((before == 0) == (events == 0)) return 0;
  return events == 0 ? uv_poll_stop(&poll->handle) : uv_poll_start(&poll->handle, UV_READABLE, OnPoll);
}

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
    if (poll->epfd >= 0) {
      epoll_event none{};
      epoll_ctl(poll->epfd, EPOLL_CTL_MOD, poll->fd, &none);
    }
  } else {
    if (poll->epfd >= 0) {
      // The epoll instance is readable: ask it what the descriptor itself reported. An error or
      // hang-up counts as every armed event (as libuv does), so the retried call tells the errno.
      epoll_event event{};
      int n = epoll_wait(poll->epfd, &event, 1, 0);
      if (n <= 0) return;
      events = FromEpoll(event.events);
      if ((event.events & (EPOLLERR | EPOLLHUP)) != 0) events |= poll->armed & (UV_READABLE | UV_WRITABLE);
    }
    int unwanted = events & ~poll->wanted;
    if (unwanted != 0) poll->owner->Arm(poll, poll->armed & ~unwanted);
    if ((events & poll->wanted) == 0) return;
  }
  Napi::Env env = poll->env;
  Napi::HandleScope scope(env);
  CallIntoJs(env, poll->callback, {Napi::Number::New(env, status), Napi::Number::New(env, events)});
}

// A shared description is not given to uv_poll itself: uv_poll_init sets O_NONBLOCK on the
// descriptor, which would change the flag for every process that holds the description (a
// program reading it blocking would then get EAGAIN). It goes into an epoll instance of its own
// (epoll_ctl leaves the description's flags alone), and the uv_poll watches that instance.
uint32_t Pollers::Start(Napi::Env env, int fd, int events, Napi::Function callback, bool shared) {
  auto* poll = new Poll{{}, env, Napi::Persistent(callback), next_id_++, this};
  if (next_id_ == 0) next_id_ = 1;
  poll->fd = fd;
  int watched = fd;
  if (shared) {
    poll->epfd = epoll_create1(EPOLL_CLOEXEC);
    epoll_event event{};
    event.events = ToEpoll(events);
    const char* syscall = poll->epfd < 0 ? "epoll_create1" : "epoll_ctl";
    if (poll->epfd < 0 || epoll_ctl(poll->epfd, EPOLL_CTL_ADD, fd, &event) != 0) {
      int error = errno;
      delete poll;
      ThrowSysError(env, error, syscall);
    }
    watched = poll->epfd;
  }
  int error = uv_poll_init(loop_, &poll->handle, watched);
  if (error != 0) {
    delete poll;
    ThrowSysError(env, -error, "uv_poll_init");
  }
  poll->handle.data = poll;
  poll->wanted = poll->armed = events;
  error = uv_poll_start(&poll->handle, shared ? UV_READABLE : events, OnPoll);
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
  int error = Arm(poll, events | (poll->armed & UV_READABLE));
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

// JS: pollStart(fd, events, callback(status, events), shared?) -> id. Main thread. The handle
// keeps the loop alive while it watches any event. `shared`: the description may be held by other
// processes, so its flags must not be touched (see Pollers::Start).
static Napi::Value PollStart(const Napi::CallbackInfo& info) {
  auto* data = GetData(info.Env());
  int fd = ArgInt32(info, 0, "fd");
  int events = ArgInt32(info, 1, "events");
  bool shared = info.Length() > 3 && info[3].ToBoolean();
  return Napi::Number::New(info.Env(), data->pollers->Start(info.Env(), fd, events, ArgFunction(info, 2, "callback"), shared));
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
  exports.Set("pollStart", Napi::Function::New(env, JsEntry<PollStart>, "pollStart"));
  exports.Set("pollUpdate", Napi::Function::New(env, JsEntry<PollUpdate>, "pollUpdate"));
  exports.Set("pollClose", Napi::Function::New(env, JsEntry<PollClose>, "pollClose"));
}

}  // namespace ipcx
