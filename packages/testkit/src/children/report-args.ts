/**
 * Child: writes what it received to `report` as JSON: the plain-data args (Uint8Arrays as
 * `{ bytes: [...] }`), whether it runs as a child, and its backend's name.
 */
import { childContext, defineChild, isChild, type ByteWriter } from '@ipcx/core';

export default defineChild<[ByteWriter, ...unknown[]]>(async (context) => {
  const [report, ...data] = context.args;
  const plain = JSON.stringify(data, (_key, value: unknown) => (value instanceof Uint8Array ? { bytes: [...value] } : value));
  const summary = { data: JSON.parse(plain) as unknown, isChild: isChild(), backend: context.backend.name, sameContext: childContext() === context };
  await report.write(JSON.stringify(summary));
});
