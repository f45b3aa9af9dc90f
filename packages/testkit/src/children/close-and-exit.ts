/** Child: closes every ipcx object it was given and returns. */
import { defineChild, type IpcObject } from '@ipcx/core';

export default defineChild<IpcObject[]>(async ({ args }) => {
  for (const object of args) await object.close();
});
