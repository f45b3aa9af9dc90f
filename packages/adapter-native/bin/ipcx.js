#!/usr/bin/env node
// The `ipcx` command's launcher. It is committed (not built) so that package managers can link
// it at install time, before `dist/` exists in a fresh workspace clone; the command itself is
// src/cli.ts, compiled to dist/cli.js.
import '../dist/cli.js';
