// Shared by the addon's C files: includes, constants, and the small Node-API helpers (typed errors with errno,
// argument readers, number/undefined values, the export macro).
#ifndef AMBIENT_NETNS_COMMON_H
#define AMBIENT_NETNS_COMMON_H
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter_ipv4.h>
#include <linux/nsfs.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>

#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#define MAX_FDS 16

static inline const char *errno_name(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char *name = strerrorname_np(err);
  if (name) return name;
#endif
  static char buf[16];
  snprintf(buf, sizeof buf, "E%d", err);
  return buf;
}

static inline void set_str(napi_env env, napi_value obj, const char *key, const char *value) {
  napi_value v;
  napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, key, v);
}

static inline void set_int(napi_env env, napi_value obj, const char *key, int64_t value) {
  napi_value v;
  napi_create_int64(env, value, &v);
  napi_set_named_property(env, obj, key, v);
}

/** Throws { code, errno, errnoNumber, syscall, message } and returns NULL for the caller to return. */
static inline napi_value throw_errno(napi_env env, const char *code, const char *syscall, int err) {
  char message[256];
  snprintf(message, sizeof message, "%s failed: %s (%s)", syscall, strerror(err), errno_name(err));
  napi_value msg, error;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, NULL, msg, &error);
  set_str(env, error, "code", code);
  set_str(env, error, "errno", errno_name(err));
  set_int(env, error, "errnoNumber", err);
  set_str(env, error, "syscall", syscall);
  napi_throw(env, error);
  return NULL;
}

static inline napi_value throw_invalid(napi_env env, const char *message) {
  napi_value msg, error;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_type_error(env, NULL, msg, &error);
  set_str(env, error, "code", "INVALID_ARGUMENT");
  napi_throw(env, error);
  return NULL;
}

static inline napi_value make_int(napi_env env, int64_t value) {
  napi_value v;
  napi_create_int64(env, value, &v);
  return v;
}

static inline napi_value undefined(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

static inline int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    throw_invalid(env, "missing arguments");
    return 0;
  }
  return 1;
}

static inline int get_int(napi_env env, napi_value value, int32_t *out, const char *what) {
  if (napi_get_value_int32(env, value, out) != napi_ok) {
    char message[96];
    snprintf(message, sizeof message, "%s must be a number", what);
    throw_invalid(env, message);
    return 0;
  }
  return 1;
}

static inline int get_string(napi_env env, napi_value value, char *buf, size_t size, const char *what) {
  size_t len;
  if (napi_get_value_string_utf8(env, value, buf, size, &len) != napi_ok || len + 1 >= size) {
    char message[96];
    snprintf(message, sizeof message, "%s must be a string shorter than %zu bytes", what, size - 1);
    throw_invalid(env, message);
    return 0;
  }
  return 1;
}

#define EXPORT(name, fn)                                                   \
  do {                                                                     \
    napi_value f;                                                          \
    napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f);      \
    napi_set_named_property(env, exports, name, f);                        \
  } while (0)

#endif
