{
  "targets": [
    {
      "target_name": "ipcx_native",
      "sources": [
        "native/addon.cc",
        "native/errors.cc",
        "native/blocking_wait.cc",
        "native/poller.cc",
        "native/descriptor.cc",
        "native/pipe.cc",
        "native/fifo.cc",
        "native/file_lock.cc",
        "native/socket.cc",
        "native/message_queue.cc",
        "native/posix_message_queue.cc",
        "native/semaphore.cc",
        "native/posix_semaphore.cc",
        "native/shared_memory.cc",
        "native/process.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=9", "_GNU_SOURCE"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "libraries": ["-lrt", "-lpthread"]
    }
  ]
}
