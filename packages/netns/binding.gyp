{
  "targets": [
    {
      "target_name": "netns",
      "sources": ["native/netns.c", "native/seqpacket.c"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
