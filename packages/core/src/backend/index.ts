/**
 * `@ipcx/core/backend`: the kit for writing a backend, kept out of the public entry so that an
 * app's autocomplete shows only what it calls. Nothing here is needed to use a backend.
 */
export * from './cancellation.js';
export * from './wait-policy.js';
