// Keeps the prebuilt addon loadable on glibc 2.28 (Debian 10, Ubuntu 20.04 has 2.31, RHEL 8) when
// it is built on a newer one. Force-included into every translation unit by binding.gyp.
//
// Why: glibc 2.34 merged libpthread, librt and libdl into libc and gave their functions new
// symbol versions (pthread_create@GLIBC_2.34, mq_open@GLIBC_2.34, ...), and a binary linked on
// 2.34+ asks for those versions, which older glibc does not have. The old versions are still
// exported (as compat symbols), so binding each call to its original version gives a binary that
// works on both: on an old glibc the symbol is found in libpthread/librt, which binding.gyp keeps
// as DT_NEEDED (--no-as-needed), on a new one in libc itself. scripts/check-glibc-floor.mjs lists
// the versions the built binary needs and fails above the floor, so a new call that needs a newer
// version is caught at build time, not on a user's machine.
//
// Calls newer than the floor are not bound here but avoided: sem_clockwait (2.30) is looked up at
// run time (posix_semaphore.cc), fstat (2.33) goes through the raw syscall (glibc_compat.cc),
// strerrorname_np (2.32) is not used (errno names come from @ipcx/core's table).
#ifndef IPCX_GLIBC_COMPAT_H
#define IPCX_GLIBC_COMPAT_H

#if defined(__linux__)
#include <features.h>  // defines __GLIBC__ (nothing else does before the first libc header)
#endif

#if defined(__linux__) && defined(__GLIBC__)

#if defined(__x86_64__)
#define IPCX_GLIBC_BASE "GLIBC_2.2.5"
#define IPCX_GLIBC_RT "GLIBC_2.3.4"  // the POSIX message queue calls appeared in 2.3.4
#elif defined(__aarch64__)
#define IPCX_GLIBC_BASE "GLIBC_2.17"  // arm64's first glibc: every old symbol has this version
#define IPCX_GLIBC_RT "GLIBC_2.17"
#endif

#ifdef IPCX_GLIBC_BASE
#define IPCX_BIND_OLD(name, version) __asm__(".symver " #name "," #name "@" version)
// libpthread
IPCX_BIND_OLD(pthread_create, IPCX_GLIBC_BASE);
IPCX_BIND_OLD(pthread_join, IPCX_GLIBC_BASE);
IPCX_BIND_OLD(pthread_once, IPCX_GLIBC_BASE);
IPCX_BIND_OLD(pthread_kill, IPCX_GLIBC_BASE);
IPCX_BIND_OLD(pthread_sigmask, IPCX_GLIBC_BASE);
IPCX_BIND_OLD(pthread_attr_setstacksize, IPCX_GLIBC_BASE);
IPCX_BIND_OLD(pthread_attr_init, IPCX_GLIBC_BASE);
IPCX_BIND_OLD(pthread_attr_destroy, IPCX_GLIBC_BASE);
IPCX_BIND_OLD(pthread_detach, IPCX_GLIBC_BASE);
IPCX_BIND_OLD(pthread_mutex_trylock, IPCX_GLIBC_BASE);
IPCX_BIND_OLD(sem_open, IPCX_GLIBC_BASE);
IPCX_BIND_OLD(sem_close, IPCX_GLIBC_BASE);
IPCX_BIND_OLD(sem_unlink, IPCX_GLIBC_BASE);
IPCX_BIND_OLD(sem_init, IPCX_GLIBC_BASE);
IPCX_BIND_OLD(sem_destroy, IPCX_GLIBC_BASE);
IPCX_BIND_OLD(sem_wait, IPCX_GLIBC_BASE);
IPCX_BIND_OLD(sem_trywait, IPCX_GLIBC_BASE);
IPCX_BIND_OLD(sem_timedwait, IPCX_GLIBC_BASE);
IPCX_BIND_OLD(sem_post, IPCX_GLIBC_BASE);
IPCX_BIND_OLD(sem_getvalue, IPCX_GLIBC_BASE);
// librt
IPCX_BIND_OLD(shm_open, IPCX_GLIBC_BASE);
IPCX_BIND_OLD(shm_unlink, IPCX_GLIBC_BASE);
IPCX_BIND_OLD(mq_open, IPCX_GLIBC_RT);
IPCX_BIND_OLD(mq_close, IPCX_GLIBC_RT);
IPCX_BIND_OLD(mq_unlink, IPCX_GLIBC_RT);
IPCX_BIND_OLD(mq_send, IPCX_GLIBC_RT);
IPCX_BIND_OLD(mq_receive, IPCX_GLIBC_RT);
IPCX_BIND_OLD(mq_timedsend, IPCX_GLIBC_RT);
IPCX_BIND_OLD(mq_timedreceive, IPCX_GLIBC_RT);
IPCX_BIND_OLD(mq_getattr, IPCX_GLIBC_RT);
IPCX_BIND_OLD(mq_setattr, IPCX_GLIBC_RT);
IPCX_BIND_OLD(mq_notify, IPCX_GLIBC_RT);
// libdl
IPCX_BIND_OLD(dlsym, IPCX_GLIBC_BASE);
IPCX_BIND_OLD(dlvsym, IPCX_GLIBC_BASE);
#undef IPCX_BIND_OLD
#endif  // IPCX_GLIBC_BASE

#endif  // __linux__ && __GLIBC__
#endif  // IPCX_GLIBC_COMPAT_H
