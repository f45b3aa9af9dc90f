/** Child: fails, so that its exit status says so. */
import { defineChild } from '@ipcx/core';

export default defineChild(async () => {
  throw new Error('this child fails on purpose');
});
