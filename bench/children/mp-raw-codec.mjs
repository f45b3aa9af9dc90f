// A codec that passes bytes through untouched (the ring then copies each value once in, once out).
export const RAW_CODEC = { name: 'raw-bytes', encode: (value) => value, decode: (bytes) => bytes };
