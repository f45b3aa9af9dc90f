#include "process.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "addon.h"
#include "errors.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace ipcx {

namespace {

std::vector<std::string> ArgStrings(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (!info[index].IsArray()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be an array of strings");
  Napi::Array array = info[index].As<Napi::Array>();
  std::vector<std::string> out;
  for (uint32_t i = 0; i < array.Length(); i++) {
    Napi::Value item = array.Get(i);
    if (!item.IsString()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be an array of strings");
    out.push_back(item.As<Napi::String>().Utf8Value());
  }
  return out;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Frees the posix_spawn structures however the call ends (a C++ exception included).
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
};

}  // namespace

// posix_spawn_file_actions_addchdir_np (glibc 2.29) and _addclosefrom_np (2.34) are looked up at
// run time, not linked, so that the prebuilt addon loads on glibc 2.28 (glibc_compat.h).
using AddChdirFn = int (*)(posix_spawn_file_actions_t*, const char*);
using AddClosefromFn = int (*)(posix_spawn_file_actions_t*, int);

AddChdirFn FindAddChdir() {
  static AddChdirFn found = reinterpret_cast<AddChdirFn>(dlsym(RTLD_DEFAULT, "posix_spawn_file_actions_addchdir_np"));
  return found;
}

AddClosefromFn FindAddClosefrom() {
  static AddClosefromFn found = reinterpret_cast<AddClosefromFn>(dlsym(RTLD_DEFAULT, "posix_spawn_file_actions_addclosefrom_np"));
  return found;
}

// closefrom(from) in the child, on any glibc: the glibc call where it exists, else a close action
// for every descriptor above `from` open in this process now (/proc/self/fd). One opened by
// another thread after this listing is missed, but every descriptor Node and this addon open is
// close-on-exec, so none of those reaches the program either.
int AddCloseFrom(posix_spawn_file_actions_t* actions, int from) {
  if (AddClosefromFn closefrom = FindAddClosefrom()) return closefrom(actions, from);
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return errno;
  int listing = dirfd(dir);
  int error = 0;
  while (struct dirent* entry = readdir(dir)) {
    int fd = atoi(entry->d_name);
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9' || fd < from || fd == listing) continue;
    error = posix_spawn_file_actions_addclose(actions, fd);
    if (error != 0) break;
  }
  closedir(dir);
  return error;
}

// JS: spawnExecutable(path, argv, envp, cwd | null, map [[source, target], ...]) -> [pid, pidfd].
// Main thread: posix_spawn (glibc: clone(CLONE_VM | CLONE_VFORK), so it returns once the child
// has exec'd or failed; exec errors come back as its errno), then pidfd_open. Throws IpcError.
//
// The file actions, in the child: chdir(cwd); each source dup2'd to a temporary number above every
// source and target (so that a target can never overwrite a source not yet placed), then each
// temporary dup2'd to its target (dup2 clears close-on-exec on the copy only); every number below
// the highest target that is no target is made open and closed (a close of a number that is not
// open would fail the spawn); closefrom(highest target + 1) closes everything else (AddCloseFrom). Signal
// dispositions are reset to default and the mask emptied: Node ignores SIGPIPE, and a program
// such as `sort` or `yes` must die of it as it would from a shell.
static Napi::Value SpawnExecutable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "path");
  std::vector<std::string> argv = ArgStrings(info, 1, "argv");
  std::vector<std::string> envp = ArgStrings(info, 2, "envp");
  bool hasCwd = info[3].IsString();
  std::string cwd = hasCwd ? info[3].As<Napi::String>().Utf8Value() : std::string();
  if (!info[4].IsArray()) throw Napi::TypeError::New(env, "map must be an array");
  Napi::Array map = info[4].As<Napi::Array>();
  std::vector<std::pair<int, int>> moves;
  int highest = 2;
  int highestSource = 2;
  for (uint32_t i = 0; i < map.Length(); i++) {
    Napi::Array pair = map.Get(i).As<Napi::Array>();
    int source = pair.Get(0u).As<Napi::Number>().Int32Value();
    int target = pair.Get(1u).As<Napi::Number>().Int32Value();
    if (source < 0 || target < 0) throw Napi::RangeError::New(env, "descriptor numbers must not be negative");
    moves.emplace_back(source, target);
    highest = std::max(highest, target);
    highestSource = std::max(highestSource, source);
  }
  if (moves.empty()) throw Napi::RangeError::New(env, "map must not be empty");
  int base = std::max(highest, highestSource) + 1;

  SpawnSetup setup;
  int error = 0;
  if (hasCwd) {
    AddChdirFn addchdir = FindAddChdir();
    if (addchdir == nullptr) ThrowSysError(env, ENOSYS, "posix_spawn_file_actions_addchdir_np");  // glibc < 2.29
    error = addchdir(&setup.actions, cwd.c_str());
  }
  for (size_t i = 0; error == 0 && i < moves.size(); i++) error = posix_spawn_file_actions_adddup2(&setup.actions, moves[i].first, base + static_cast<int>(i));
  for (size_t i = 0; error == 0 && i < moves.size(); i++) error = posix_spawn_file_actions_adddup2(&setup.actions, base + static_cast<int>(i), moves[i].second);
  for (int fd = 0; error == 0 && fd < highest; fd++) {
    bool isTarget = std::any_of(moves.begin(), moves.end(), [fd](const std::pair<int, int>& move) { return move.second == fd; });
    if (isTarget) continue;
    error = posix_spawn_file_actions_adddup2(&setup.actions, base, fd);
    if (error == 0) error = posix_spawn_file_actions_addclose(&setup.actions, fd);
  }
  if (error == 0) error = AddCloseFrom(&setup.actions, highest + 1);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  if (error == 0) error = posix_spawnattr_setsigmask(&setup.attributes, &none);
  if (error == 0) error = posix_spawnattr_setsigdefault(&setup.attributes, &all);
  if (error == 0) error = posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  if (error != 0) ThrowSysError(env, error, "posix_spawn");

  std::vector<char*> argvPointers = Pointers(argv);
  std::vector<char*> envPointers = Pointers(envp);
  pid_t pid = 0;
  error = posix_spawn(&pid, path.c_str(), &setup.actions, &setup.attributes, argvPointers.data(), envPointers.data());
  if (error != 0) ThrowSysError(env, error, "posix_spawn", path.c_str());
  // The child cannot be reaped before we wait for it, so its pid is still its own here.
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    int openError = errno;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    ThrowSysError(env, openError, "pidfd_open");
  }
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, pid));
  out.Set(1u, Napi::Number::New(env, pidfd));
  return out;
}

// JS: reapChild(pidfd) -> [code, signal] once the child has ended (code null when killed by a
// signal, signal 0 otherwise), or null while it runs. Main thread, waitid(P_PIDFD, WNOHANG):
// only this child is reaped (libuv reaps its own children by pid, never these).
static Napi::Value ReapChild(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pidfd = ArgInt32(info, 0, "pidfd");
  siginfo_t status{};
  int result = RetryEintr([&] { return waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &status, WEXITED | WNOHANG); });
  if (result != 0) ThrowSysError(env, errno, "waitid");
  if (status.si_pid == 0) return env.Null();
  Napi::Array out = Napi::Array::New(env, 2);
  bool exited = status.si_code == CLD_EXITED;
  out.Set(0u, exited ? Napi::Value(Napi::Number::New(env, status.si_status)) : env.Null());
  out.Set(1u, Napi::Number::New(env, exited ? 0 : status.si_status));
  return out;
}

// JS: signalChild(pidfd, signal) -> 0 or -errno. Main thread, pidfd_send_signal: reaches this
// child even if its pid has been reused since (ESRCH once it has been reaped).
static Napi::Value SignalChild(const Napi::CallbackInfo& info) {
  int pidfd = ArgInt32(info, 0, "pidfd");
  int signal = ArgInt32(info, 1, "signal");
  int result = static_cast<int>(syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0));
  return Napi::Number::New(info.Env(), result == 0 ? 0 : -errno);
}

void InitProcesses(Napi::Env env, Napi::Object exports) {
  exports.Set("spawnExecutable", Napi::Function::New(env, JsEntry<SpawnExecutable>, "spawnExecutable"));
  exports.Set("reapChild", Napi::Function::New(env, JsEntry<ReapChild>, "reapChild"));
  exports.Set("signalChild", Napi::Function::New(env, JsEntry<SignalChild>, "signalChild"));
}

}  // namespace ipcx
