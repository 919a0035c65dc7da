{
  "variables": {
    "kcrypto_sanitize%": "0"
  },
  "targets": [
    {
      "target_name": "kcrypto",
      "sources": [
        "native/addon.cc",
        "native/session_wrap.cc",
        "native/request_args.cc",
        "native/common/dispatcher.cc",
        "native/common/loopback_engine.cc",
        "native/openssl/openssl_engine.cc",
        "native/openssl/openssl_open.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        # An error thrown into an environment being torn down (a worker terminated mid-call)
        # is dropped, not thrown again as a C++ exception out of Node's callback (std::terminate).
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags": ["-Wall", "-Wextra", "-Werror", "-fvisibility=hidden"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Werror", "-Wno-missing-field-initializers"],
      "conditions": [
        ["OS=='linux'", {
          "sources": [
            "native/afalg/afalg_session.cc",
            "native/afalg/afalg_cipher.cc",
            "native/afalg/afalg_message.cc",
            "native/afalg/afalg_open.cc",
            "native/devcrypto/devcrypto_abi_linux.cc",
            "native/devcrypto/devcrypto_abi_freebsd.cc",
            "native/devcrypto/devcrypto_abi_netbsd.cc"
          ]
        }],
        ["OS=='freebsd'", {
          "sources": ["native/devcrypto/devcrypto_abi_freebsd.cc"]
        }],
        ["OS=='netbsd'", {
          "sources": ["native/devcrypto/devcrypto_abi_netbsd.cc"]
        }],
        ["OS=='linux' or OS=='freebsd' or OS=='netbsd'", {
          "sources": [
            "native/devcrypto/abi/system_check.cc",
            "native/devcrypto/devcrypto_abi.cc",
            "native/devcrypto/devcrypto_syscalls.cc",
            "native/devcrypto/devcrypto_session.cc",
            "native/devcrypto/devcrypto_stream.cc",
            "native/devcrypto/devcrypto_open.cc"
          ]
        }],
        ["kcrypto_sanitize==1", {
          "cflags": ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined"],
          "ldflags": ["-fsanitize=address,undefined"]
        }]
      ]
    }
  ]
}
