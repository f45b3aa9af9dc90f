/** Child: keeps the objects it was given open until killed (or for `ms` milliseconds). */
import { defineChild } from '@ipcx/core';

export default defineChild<[number, ...unknown[]]>(async ({ args: [ms] }) => {
  await new Promise((resolve) => setTimeout(resolve, ms));
});
