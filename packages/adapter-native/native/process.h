// Running any executable with chosen descriptors (processes.spawnExecutable): posix_spawn with
// file actions that place each descriptor at its number and close every other one, and a pidfd
// that announces the child's exit (polled by libuv) and signals it without a pid-reuse race.
#pragma once

#include <napi.h>

namespace ipcx {

void InitProcesses(Napi::Env env, Napi::Object exports);

}  // namespace ipcx
