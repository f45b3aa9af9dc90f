{
  "targets": [
    {
      "target_name": "ipcx_native",
      # addon.cc + every file of native/modules.def (the list addon.cc's Init calls come from too)
      "sources": ["<!@(node native/sources.mjs)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=9", "_GNU_SOURCE", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2", "-include", "<(module_root_dir)/native/glibc_compat.h"],
      "ldflags": [
        "-static-libstdc++",
        "-Wl,--wrap=fstat64,--wrap=fstat,--wrap=arc4random",
        "-Wl,--wrap=pthread_key_create,--wrap=__pthread_key_create,--wrap=pthread_key_delete",
        "-Wl,--wrap=pthread_getspecific,--wrap=pthread_setspecific,--wrap=pthread_once",
        "-Wl,--no-as-needed", "-l:libpthread.so.0", "-l:librt.so.1", "-l:libdl.so.2", "-Wl,--as-needed"
      ],
      "libraries": []
    }
  ]
}
