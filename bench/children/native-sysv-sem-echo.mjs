// System V semaphore echo (ipcx child, any backend): waits on semaphore 0 of `set`, posts
// semaphore 1, until the set is removed (the wait then fails with EIDRM, a later call with EINVAL).
export default async function ({ args: [set] }) {
  try {
    for (;;) {
      await set.wait(0);
      set.post(1);
    }
  } catch (error) {
    if (error?.code !== 'EIDRM' && error?.code !== 'EINVAL') throw error;
  }
}
