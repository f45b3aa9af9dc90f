/** The primitives a backend can implement. */
export const Primitive = {
  pipe: 'pipe',
  duplexPipe: 'duplex-pipe',
  fifo: 'fifo',
  unixSocket: 'unix-socket',
  networkSocket: 'network-socket',
  messageQueue: 'message-queue',
  posixMessageQueue: 'posix-message-queue',
  semaphore: 'semaphore',
  posixSemaphore: 'posix-semaphore',
  sharedMemory: 'shared-memory',
  fileLock: 'file-lock',
} as const;

/** Name of a primitive, e.g. `'message-queue'`. */
export type PrimitiveName = (typeof Primitive)[keyof typeof Primitive];

/**
 * Abilities beyond the primitives' common contract. A backend declares one missing only where the
 * thing cannot exist for it (say, other programs on the host seeing an object that lives inside one
 * process), and says why in its TSDoc.
 */
export const Feature = {
  /** Objects are the operating system's own: shell tools, C and Python programs see and use them. */
  hostInterop: 'host-interop',
  /** Children are OS processes: they can be killed with signals like `SIGKILL`. */
  osProcesses: 'os-processes',
  /** Unix sockets in the Linux abstract namespace. */
  abstractSockets: 'abstract-sockets',
  /** TCP and UDP sockets to other hosts. */
  network: 'network',
  /**
   * `processes.spawnExecutable` runs any program with ipcx objects at chosen descriptor numbers.
   * Absent where objects are no OS descriptors (worker): there the call rejects with `ENOSYS`.
   */
  executables: 'executables',
} as const;

/** Name of a feature, e.g. `'host-interop'`. */
export type FeatureName = (typeof Feature)[keyof typeof Feature];

/** What a backend implements. The conformance kit runs the suites that these allow. */
export interface Capabilities {
  /** Primitives the backend implements. */
  readonly primitives: ReadonlySet<PrimitiveName>;
  /** Features the backend has. */
  readonly features: ReadonlySet<FeatureName>;
}

/** Builds a {@link Capabilities} value. */
export function capabilities(primitives: Iterable<PrimitiveName>, features: Iterable<FeatureName>): Capabilities {
  return { primitives: new Set(primitives), features: new Set(features) };
}
