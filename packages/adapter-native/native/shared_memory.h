// Shared memory: System V segments (shmget/shmat/shmdt/shmctl), POSIX objects (shm_open/ftruncate/
// mmap/munmap/shm_unlink) and file mappings (open/mmap MAP_SHARED), each seen from JS as an
// ArrayBuffer over the mapping, plus a cross-process futex wait/wake on the mapping's 32-bit cells.
//
// A mapping is known to JS by a small id (per environment). Its ArrayBuffer has external data and
// a finalizer that does nothing: the mapping belongs to the id, and unmap() detaches the buffer
// before shmdt/munmap so that no view can reach unmapped memory.
#pragma once
#include <napi.h>
namespace ipcx {
void InitSharedMemory(Napi::Env env, Napi::Object exports);

// The mappings whose SIGBUS this process survives (shared_memory.cc, "Surviving SIGBUS"): another
// process can make the object behind a shared mapping shorter, and an access past its new end
// then raises SIGBUS. A fault inside a listed range maps zero pages over the rest of it and marks
// it broken; callers check RegionBroken after touching the memory and report EFAULT.
// AddFaultRegion lists [address, address + length) and returns its slot (-1 when the table is
// full: the mapping is then unprotected); RemoveFaultRegion(slot) before the range is unmapped.
int AddFaultRegion(void* address, size_t length, int prot);
void RemoveFaultRegion(int slot);
bool RegionBroken(int slot);
}
