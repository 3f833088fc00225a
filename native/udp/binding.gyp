{
  "targets": [
    {
      "target_name": "opencx_udp",
      "sources": ["udp.c", "io.c", "pacer.c", "iothread.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_c": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-pthread"],
      "ldflags": ["-pthread"],
      "conditions": [
        ["OS!='linux'", { "type": "none", "sources!": ["udp.c", "io.c", "pacer.c", "iothread.c"] }]
      ]
    }
  ]
}
