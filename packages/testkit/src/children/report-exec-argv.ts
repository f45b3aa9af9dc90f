/** Child: writes its `process.execArgv` (the Node options it was started with) to `report` as JSON. */
import { defineChild, type ByteWriter } from '@ipcx/core';

export default defineChild<[ByteWriter]>(async ({ args: [report] }) => {
  await report.write(JSON.stringify(process.execArgv));
  await report.close();
});
