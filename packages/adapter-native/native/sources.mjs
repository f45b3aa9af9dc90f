// Prints the addon's C++ sources, one per line, for binding.gyp's `sources` (`<!@(node
// native/sources.mjs)`, run by gyp in the package directory): addon.cc and native/<file>.cc for
// every line of native/modules.def, the list addon.cc's Init calls come from too.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const files = ['addon'];
for (const [index, line] of readFileSync(path.join(here, 'modules.def'), 'utf8').split('\n').entries()) {
  if (line === '' || line.startsWith('//')) continue;
  const match = /^IPCX_(?:MACHINERY|PRIMITIVE|SOURCE)\((\w+)(?:, \w+)?\)$/.exec(line);
  if (!match) throw new Error(`native/modules.def:${index + 1}: not an IPCX_* line: ${line}`);
  if (!existsSync(path.join(here, `${match[1]}.cc`))) throw new Error(`native/modules.def:${index + 1}: no native/${match[1]}.cc`);
  files.push(match[1]);
}
console.log(files.map((file) => `native/${file}.cc`).join('\n'));
