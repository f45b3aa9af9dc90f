// Definitions that keep the prebuilt addon's glibc floor at 2.28 (see glibc_compat.h).
#include <pthread.h>
#include <stdint.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern "C" {

// fstat became a real glibc symbol in 2.33 (fstat64@GLIBC_2.33); before, the headers called
// __fxstat64. binding.gyp links with --wrap=fstat64,--wrap=fstat, so every fstat call in the addon
// (and in the static libstdc++) lands here: the kernel's own fstat, whose struct stat on x86-64
// and arm64 is the one glibc declares.
int __wrap_fstat64(int fd, struct stat64* buf) { return static_cast<int>(syscall(SYS_fstat, fd, buf)); }
int __wrap_fstat(int fd, struct stat* buf) { return static_cast<int>(syscall(SYS_fstat, fd, buf)); }

// libstdc++'s headers built against glibc 2.32+ read __libc_single_threaded (GLIBC_2.32) to skip
// atomic reference counts while a process has one thread. A Node process always has several, so
// our own definition, fixed at 0 ("not single-threaded", always use atomics), is both correct
// here and free of that version. Hidden: it binds inside the addon only.
__attribute__((visibility("hidden"))) char __libc_single_threaded = 0;

#ifdef IPCX_GLIBC_BASE
// The static libstdc++ (binding.gyp: -static-libstdc++, so no GLIBCXX version is needed at all)
// was compiled against this machine's glibc, so its thread-key and once calls ask for their 2.34
// versions; the header's .symver cannot reach code that is already compiled. binding.gyp
// --wraps them to these forwarders, which call the original versions.
#define IPCX_FORWARD_TO_OLD(ret, name, params, args)                       \
  ret ipcx_old_##name params;                                              \
  __asm__(".symver ipcx_old_" #name "," #name "@" IPCX_GLIBC_BASE);        \
  ret __wrap_##name params { return ipcx_old_##name args; }
IPCX_FORWARD_TO_OLD(int, pthread_key_create, (pthread_key_t * key, void (*destructor)(void*)), (key, destructor))
IPCX_FORWARD_TO_OLD(int, pthread_key_delete, (pthread_key_t key), (key))
IPCX_FORWARD_TO_OLD(void*, pthread_getspecific, (pthread_key_t key), (key))
IPCX_FORWARD_TO_OLD(int, pthread_setspecific, (pthread_key_t key, const void* value), (key, value))
IPCX_FORWARD_TO_OLD(int, pthread_once, (pthread_once_t * once, void (*init)(void)), (once, init))
#undef IPCX_FORWARD_TO_OLD
// __pthread_key_create is how libstdc++ asks "is libpthread loaded?" (a weak reference): yes.
int __wrap___pthread_key_create(pthread_key_t* key, void (*destructor)(void*)) { return __wrap_pthread_key_create(key, destructor); }
#endif

// arc4random (2.36) backs std::random_device in the static libstdc++: getrandom (2.25) instead.
uint32_t __wrap_arc4random(void) {
  uint32_t value = 0;
  while (getrandom(&value, sizeof value, 0) != static_cast<ssize_t>(sizeof value)) {
  }
  return value;
}

}  // extern "C"
