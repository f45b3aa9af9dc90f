// A small static server (node:http) for the pages that run ipcx in a browser: the example page
// (`npm run demo -- --browser`), the browser bench (`npm run bench -- --browser`) and their tests.
//
// - Every response carries `Cross-Origin-Opener-Policy: same-origin` and
//   `Cross-Origin-Embedder-Policy: require-corp` (plus `Cross-Origin-Resource-Policy: same-origin`):
//   the page is then cross-origin isolated, the only way SharedArrayBuffer and shared WebAssembly
//   memory exist in a browser.
// - It serves the repository root read-only (built packages under packages/*/dist).
// - Web Workers do not see a page's import map, and ipcx children are module Web Workers that
//   import `@ipcx/core`. So in JavaScript it serves (and inline scripts of its HTML), the server resolves the workspace's bare
//   specifiers itself (`@ipcx/core` -> /packages/core/dist/index.js, `@ipcx/adapter-worker` -> its
//   browser entry), as a bundler would. Nothing else is rewritten.
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Bare specifiers of the workspace and the file each resolves to in a browser. */
export const browserModules = {
  '@ipcx/core': '/packages/core/dist/index.js',
  '@ipcx/core/backend': '/packages/core/dist/backend/index.js',
  '@ipcx/adapter-worker': '/packages/adapter-worker/dist/browser.js',
};

const bare = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(@ipcx\/[a-z-]+(?:\/[a-z-]+)?)\2/g;

/** `code` with the workspace's bare specifiers resolved to URLs on this server. */
export function resolveBareSpecifiers(code) {
  return code.replace(bare, (match, keyword, quote, specifier) => {
    const target = browserModules[specifier];
    return target === undefined ? match : `${keyword}${quote}${target}${quote}`;
  });
}

/**
 * Starts the server on 127.0.0.1 (`port` 0: any free one). Resolves with its `url` and `close()`.
 * `/` redirects to `index` (a path under the repository, e.g. `/examples/browser/index.html`).
 * `isolate: false` serves without COOP/COEP (to show the error a page that is not isolated gets).
 */
export function startBrowserServer({ port = 0, index = '/examples/browser/index.html', isolate = true } = {}) {
  const server = http.createServer(async (request, response) => {
    // `isolate: false` leaves COOP/COEP out: how a page that forgot them behaves (tests).
    const headers = isolate
      ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin', 'Cache-Control': 'no-store' }
      : { 'Cache-Control': 'no-store' };
    try {
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (url.pathname === '/') {
        response.writeHead(302, { ...headers, Location: index });
        response.end();
        return;
      }
      const file = path.resolve(root, '.' + decodeURIComponent(url.pathname));
      if (!file.startsWith(root + path.sep) || !(await stat(file)).isFile()) throw Object.assign(new Error('not found'), { code: 'ENOENT' });
      const type = types[path.extname(file)] ?? 'application/octet-stream';
      let body = await readFile(file);
      if (type.startsWith('text/javascript') || type.startsWith('text/html')) body = Buffer.from(resolveBareSpecifiers(body.toString('utf8')));
      response.writeHead(200, { ...headers, 'Content-Type': type, 'Content-Length': body.length });
      response.end(request.method === 'HEAD' ? undefined : body);
    } catch (error) {
      const missing = error?.code === 'ENOENT' || error?.code === 'ENOTDIR';
      response.writeHead(missing ? 404 : 500, { ...headers, 'Content-Type': 'text/plain' });
      response.end(missing ? 'not found' : String(error));
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: actual } = server.address();
      resolve({
        url: `http://127.0.0.1:${actual}`,
        close: () => new Promise((done) => server.close(() => done())),
        server,
      });
    });
  });
}
