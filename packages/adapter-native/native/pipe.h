// Anonymous pipes (pipe2) and duplex pipes (socketpair(AF_UNIX, SOCK_STREAM)).
#pragma once
#include <napi.h>
namespace ipcx {
void InitPipes(Napi::Env env, Napi::Object exports);
}
