// Linux errno numbers the emulated kernel returns (negated) — the same numbers as core's `Errno`.
// Entry points return a value >= 0 on success and `-E...` on failure, as system calls do.

export const EPERM: i32 = 1;
export const ENOENT: i32 = 2;
/** Argument list too long: more than SEMOPM operations in one semop. */
export const E2BIG: i32 = 7;
/** Not a failure: "the kernel is busy, call again" (a lock stayed taken for the whole bounded spin). */
export const EINTR: i32 = 4;
export const ENXIO: i32 = 6;
export const EBADF: i32 = 9;
export const EAGAIN: i32 = 11;
export const ENOMEM: i32 = 12;
export const EACCES: i32 = 13;
export const EBUSY: i32 = 16;
export const EEXIST: i32 = 17;
export const EINVAL: i32 = 22;
export const ENFILE: i32 = 23;
export const EFBIG: i32 = 27;
export const EMFILE: i32 = 24;
export const ENOSPC: i32 = 28;
export const EPIPE: i32 = 32;
export const ERANGE: i32 = 34;
export const ENAMETOOLONG: i32 = 36;
/** No lock record left (file locks): the kernel's answer when its lock table is full. */
export const ENOLCK: i32 = 37;
export const EOPNOTSUPP: i32 = 95;
export const EMSGSIZE: i32 = 90;
export const EPROTOTYPE: i32 = 91;
export const EADDRINUSE: i32 = 98;
export const EISCONN: i32 = 106;
export const ENOTCONN: i32 = 107;
export const ECONNREFUSED: i32 = 111;
export const EIDRM: i32 = 43;
export const EOVERFLOW: i32 = 75;
export const ENOMSG: i32 = 42;
