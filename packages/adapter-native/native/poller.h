// Descriptor readiness from libuv (uv_poll), for everything that is a descriptor: pipes, FIFOs,
// sockets, POSIX message queues. No thread per read: JS tries the non-blocking call first and asks
// for readiness only when it failed with EAGAIN.
//
// JS sees pollers by id (pollStart/pollUpdate/pollClose) rather than as wrapped objects, so that
// no C++ finalizer has to run in a particular order at environment teardown.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <unordered_map>

namespace ipcx {

class Pollers {
 public:
  explicit Pollers(uv_loop_t* loop) : loop_(loop) {}
  // Environment teardown: closes every poll handle; calls done(arg) when all are closed
  // (at once if there are none).
  void Teardown(void (*done)(void*), void* arg);

  // shared: fd's open file description may be held by other processes; it is then watched
  // through an epoll instance of its own, so that its O_NONBLOCK flag is never touched.
  uint32_t Start(Napi::Env env, int fd, int events, Napi::Function callback, bool shared = false);
  void Update(Napi::Env env, uint32_t id, int events);
  void Close(uint32_t id);
  size_t size() const { return polls_.size(); }

 private:
  struct Poll;
  int Arm(Poll* poll, int events);
  static void OnPoll(uv_poll_t* handle, int status, int events);
  uv_loop_t* loop_;
  uint32_t next_id_ = 1;
  std::unordered_map<uint32_t, Poll*> polls_;
};

void InitPollers(Napi::Env env, Napi::Object exports);

}  // namespace ipcx
