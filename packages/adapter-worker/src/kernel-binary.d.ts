// Types of dist/kernel-binary.js, which scripts/build-kernel.mjs generates from assembly/*.ts.
/** The kernel's wasm module, base64-encoded. */
declare const kernelBinary: string;
export default kernelBinary;
