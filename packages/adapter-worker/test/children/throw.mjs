// Child: its main function throws, so the worker exits with code 1.
import { defineChild } from '@ipcx/core';

export default defineChild(async () => {
  throw new Error('thrown on purpose by a test child');
});
