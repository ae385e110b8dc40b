// @ambient-ts/netns native part: the few Linux socket calls Node.js cannot make. Plain C over Node-API
// (ABI-stable) plus one libuv poll watcher for SOCK_SEQPACKET readability. Every failing syscall throws a JS
// Error carrying `code` (ERRNO, SETNS_FAILED, NOT_A_NAMESPACE, INVALID_ARGUMENT), `errno` (the name, e.g.
// EBADF), `errnoNumber` and `syscall`; the JS layer turns it into a NetnsError.
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

static const char *errno_name(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char *name = strerrorname_np(err);
  if (name) return name;
#endif
  static char buf[16];
  snprintf(buf, sizeof buf, "E%d", err);
  return buf;
}

static void set_str(napi_env env, napi_value obj, const char *key, const char *value) {
  napi_value v;
  napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, key, v);
}

static void set_int(napi_env env, napi_value obj, const char *key, int64_t value) {
  napi_value v;
  napi_create_int64(env, value, &v);
  napi_set_named_property(env, obj, key, v);
}

/** Throws { code, errno, errnoNumber, syscall, message } and returns NULL for the caller to return. */
static napi_value throw_errno(napi_env env, const char *code, const char *syscall, int err) {
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

static napi_value throw_invalid(napi_env env, const char *message) {
  napi_value msg, error;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_type_error(env, NULL, msg, &error);
  set_str(env, error, "code", "INVALID_ARGUMENT");
  napi_throw(env, error);
  return NULL;
}

static napi_value make_int(napi_env env, int64_t value) {
  napi_value v;
  napi_create_int64(env, value, &v);
  return v;
}

static napi_value undefined(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    throw_invalid(env, "missing arguments");
    return 0;
  }
  return 1;
}

static int get_int(napi_env env, napi_value value, int32_t *out, const char *what) {
  if (napi_get_value_int32(env, value, out) != napi_ok) {
    char message[96];
    snprintf(message, sizeof message, "%s must be a number", what);
    throw_invalid(env, message);
    return 0;
  }
  return 1;
}

static int get_string(napi_env env, napi_value value, char *buf, size_t size, const char *what) {
  size_t len;
  if (napi_get_value_string_utf8(env, value, buf, size, &len) != napi_ok || len + 1 >= size) {
    char message[96];
    snprintf(message, sizeof message, "%s must be a string shorter than %zu bytes", what, size - 1);
    throw_invalid(env, message);
    return 0;
  }
  return 1;
}

/* ---------- addresses ---------- */

static napi_value address_object(napi_env env, const struct sockaddr_storage *ss, const char *via) {
  char text[INET6_ADDRSTRLEN] = "";
  int port = 0, family = 0;
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
    port = ntohs(sin->sin_port);
    family = 4;
  } else if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
    if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
      inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], text, sizeof text);
      family = 4;
    } else {
      inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
      family = 6;
    }
    port = ntohs(sin6->sin6_port);
  }
  napi_value obj;
  napi_create_object(env, &obj);
  set_str(env, obj, "address", text);
  set_int(env, obj, "port", port);
  set_int(env, obj, "family", family);
  if (via) set_str(env, obj, "via", via);
  return obj;
}

static int parse_address(const char *text, int port, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *sin = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    *len = sizeof *sin;
    return 1;
  }
  if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((uint16_t)port);
    *len = sizeof *sin6;
    return 1;
  }
  return 0;
}

static int socket_family(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return -1;
  return ss.ss_family;
}

/* ---------- namespaces ---------- */

/** namespaceId(fd) -> { dev, ino }; throws NOT_A_NAMESPACE unless fd is a network namespace. */
static napi_value namespace_id(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &fd, "fd")) return NULL;
  struct stat st;
  if (fstat(fd, &st) != 0) return throw_errno(env, "ERRNO", "fstat", errno);
  int type = ioctl(fd, NS_GET_NSTYPE);
  if (type < 0) return throw_errno(env, "NOT_A_NAMESPACE", "ioctl(NS_GET_NSTYPE)", errno);
  if (type != CLONE_NEWNET) return throw_errno(env, "NOT_A_NAMESPACE", "ioctl(NS_GET_NSTYPE)", EINVAL);
  napi_value obj;
  napi_create_object(env, &obj);
  set_int(env, obj, "dev", (int64_t)st.st_dev);
  set_int(env, obj, "ino", (int64_t)st.st_ino);
  return obj;
}

/**
 * socket(family 4|6, kind 'tcp'|'udp', netnsFd or -1) -> fd. With a namespace fd, the calling thread enters the
 * namespace only around socket(2) and always returns to its own: a socket keeps the namespace it was created
 * in, so everything after (options, bind, listen, connect) runs in the caller's namespace. If the thread
 * cannot get back, the process aborts rather than run its event loop inside a pod's namespace.
 */
static napi_value create_socket(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t family, netns;
  char kind[8];
  if (!get_args(env, info, 3, argv) || !get_int(env, argv[0], &family, "family") ||
      !get_string(env, argv[1], kind, sizeof kind, "kind") || !get_int(env, argv[2], &netns, "netns"))
    return NULL;
  if (family != 4 && family != 6) return throw_invalid(env, "family must be 4 or 6");
  int type = strcmp(kind, "udp") == 0 ? SOCK_DGRAM : strcmp(kind, "tcp") == 0 ? SOCK_STREAM : -1;
  if (type < 0) return throw_invalid(env, "kind must be 'tcp' or 'udp'");
  int domain = family == 4 ? AF_INET : AF_INET6;
  if (netns < 0) {
    int fd = socket(domain, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return throw_errno(env, "ERRNO", "socket", errno);
    return make_int(env, fd);
  }
  int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) return throw_errno(env, "SETNS_FAILED", "open(/proc/thread-self/ns/net)", errno);
  if (setns(netns, CLONE_NEWNET) != 0) {
    int err = errno;
    close(home);
    return throw_errno(env, "SETNS_FAILED", "setns", err);
  }
  int fd = socket(domain, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int err = errno;
  if (setns(home, CLONE_NEWNET) != 0) {
    napi_fatal_error("@ambient-ts/netns", NAPI_AUTO_LENGTH,
                     "cannot return the thread to its own network namespace after setns", NAPI_AUTO_LENGTH);
  }
  close(home);
  if (fd < 0) return throw_errno(env, "ERRNO", "socket", err);
  return make_int(env, fd);
}

/* ---------- socket options ---------- */

struct option_spec {
  int level;
  int name;
  const char *label;
};

static int option_for(int fd, const char *name, struct option_spec *spec) {
  int v6 = socket_family(fd) == AF_INET6;
  if (strcmp(name, "mark") == 0) *spec = (struct option_spec){SOL_SOCKET, SO_MARK, "setsockopt(SO_MARK)"};
  else if (strcmp(name, "reuseport") == 0)
    *spec = (struct option_spec){SOL_SOCKET, SO_REUSEPORT, "setsockopt(SO_REUSEPORT)"};
  else if (strcmp(name, "reuseaddr") == 0)
    *spec = (struct option_spec){SOL_SOCKET, SO_REUSEADDR, "setsockopt(SO_REUSEADDR)"};
  else if (strcmp(name, "transparent") == 0)
    *spec = v6 ? (struct option_spec){SOL_IPV6, IPV6_TRANSPARENT, "setsockopt(IPV6_TRANSPARENT)"}
               : (struct option_spec){SOL_IP, IP_TRANSPARENT, "setsockopt(IP_TRANSPARENT)"};
  else if (strcmp(name, "freebind") == 0)
    *spec = v6 ? (struct option_spec){SOL_IPV6, IPV6_FREEBIND, "setsockopt(IPV6_FREEBIND)"}
               : (struct option_spec){SOL_IP, IP_FREEBIND, "setsockopt(IP_FREEBIND)"};
  else if (strcmp(name, "v6only") == 0)
    *spec = (struct option_spec){SOL_IPV6, IPV6_V6ONLY, "setsockopt(IPV6_V6ONLY)"};
  else return 0;
  return 1;
}

/** setOption(fd, name, value): mark | reuseport | reuseaddr | transparent | freebind | v6only. */
static napi_value set_option(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd, value;
  char name[16];
  if (!get_args(env, info, 3, argv) || !get_int(env, argv[0], &fd, "fd") ||
      !get_string(env, argv[1], name, sizeof name, "option") || !get_int(env, argv[2], &value, "value"))
    return NULL;
  struct option_spec spec;
  if (!option_for(fd, name, &spec)) return throw_invalid(env, "unknown socket option");
  if (setsockopt(fd, spec.level, spec.name, &value, sizeof value) != 0)
    return throw_errno(env, "ERRNO", spec.label, errno);
  return undefined(env);
}

/** getOption(fd, name) -> number, read back with getsockopt. */
static napi_value get_option(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  char name[16];
  if (!get_args(env, info, 2, argv) || !get_int(env, argv[0], &fd, "fd") ||
      !get_string(env, argv[1], name, sizeof name, "option"))
    return NULL;
  struct option_spec spec;
  if (!option_for(fd, name, &spec)) return throw_invalid(env, "unknown socket option");
  int value = 0;
  socklen_t len = sizeof value;
  char label[48];
  snprintf(label, sizeof label, "get%s", spec.label + 3);
  if (getsockopt(fd, spec.level, spec.name, &value, &len) != 0) return throw_errno(env, "ERRNO", label, errno);
  return make_int(env, value);
}

/** bind(fd, address, port). */
static napi_value bind_socket(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd, port;
  char text[INET6_ADDRSTRLEN + 1];
  if (!get_args(env, info, 3, argv) || !get_int(env, argv[0], &fd, "fd") ||
      !get_string(env, argv[1], text, sizeof text, "address") || !get_int(env, argv[2], &port, "port"))
    return NULL;
  struct sockaddr_storage ss;
  socklen_t len;
  if (!parse_address(text, port, &ss, &len)) return throw_invalid(env, "address must be an IPv4 or IPv6 literal");
  if (bind(fd, (struct sockaddr *)&ss, len) != 0) return throw_errno(env, "ERRNO", "bind", errno);
  return undefined(env);
}

/** listen(fd, backlog). */
static napi_value listen_socket(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd, backlog;
  if (!get_args(env, info, 2, argv) || !get_int(env, argv[0], &fd, "fd") || !get_int(env, argv[1], &backlog, "backlog"))
    return NULL;
  if (listen(fd, backlog) != 0) return throw_errno(env, "ERRNO", "listen", errno);
  return undefined(env);
}

/** localAddress(fd) -> { address, port, family }. */
static napi_value local_address(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &fd, "fd")) return NULL;
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return throw_errno(env, "ERRNO", "getsockname", errno);
  return address_object(env, &ss, NULL);
}

/**
 * originalDestination(fd) -> { address, port, family, via }: SO_ORIGINAL_DST (iptables REDIRECT/DNAT of IPv4,
 * also on a dual-stack socket), then IP6T_SO_ORIGINAL_DST, then the local address (TPROXY keeps the original
 * destination as the local address), as Istio's ztunnel does. `via` names which one answered.
 */
static napi_value original_destination(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &fd, "fd")) return NULL;
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return throw_errno(env, "ERRNO", "getsockname", errno);
  struct sockaddr_storage orig;
  memset(&orig, 0, sizeof orig);
  socklen_t olen = sizeof(struct sockaddr_in);
  if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &orig, &olen) == 0 && orig.ss_family == AF_INET)
    return address_object(env, &orig, "SO_ORIGINAL_DST");
  if (ss.ss_family == AF_INET6) {
    memset(&orig, 0, sizeof orig);
    olen = sizeof(struct sockaddr_in6);
    if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &orig, &olen) == 0 && orig.ss_family == AF_INET6)
      return address_object(env, &orig, "IP6T_SO_ORIGINAL_DST");
  }
  return address_object(env, &ss, "local");
}

/** close(fd). */
static napi_value close_fd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &fd, "fd")) return NULL;
  if (close(fd) != 0) return throw_errno(env, "ERRNO", "close", errno);
  return undefined(env);
}

/* ---------- SOCK_SEQPACKET unix sockets with SCM_RIGHTS ---------- */

static int unix_address(napi_env env, napi_value value, struct sockaddr_un *sun) {
  memset(sun, 0, sizeof *sun);
  sun->sun_family = AF_UNIX;
  return get_string(env, value, sun->sun_path, sizeof sun->sun_path, "path");
}

/** seqpacketPair() -> [fd, fd]. */
static napi_value seqpacket_pair(napi_env env, napi_callback_info info) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) != 0)
    return throw_errno(env, "ERRNO", "socketpair", errno);
  napi_value array;
  napi_create_array_with_length(env, 2, &array);
  napi_set_element(env, array, 0, make_int(env, fds[0]));
  napi_set_element(env, array, 1, make_int(env, fds[1]));
  return array;
}

/** seqpacketConnect(path) -> fd (a local unix connect completes at once or fails). */
static napi_value seqpacket_connect(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  struct sockaddr_un sun;
  if (!get_args(env, info, 1, argv) || !unix_address(env, argv[0], &sun)) return NULL;
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "ERRNO", "socket", errno);
  if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "ERRNO", "connect", err);
  }
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  return make_int(env, fd);
}

/** seqpacketListen(path, backlog) -> fd. */
static napi_value seqpacket_listen(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  struct sockaddr_un sun;
  int32_t backlog;
  if (!get_args(env, info, 2, argv) || !unix_address(env, argv[0], &sun) ||
      !get_int(env, argv[1], &backlog, "backlog"))
    return NULL;
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return throw_errno(env, "ERRNO", "socket", errno);
  if (bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0 || listen(fd, backlog) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "ERRNO", "bind/listen", err);
  }
  return make_int(env, fd);
}

/** seqpacketAccept(fd) -> fd, or null when nobody is waiting (EAGAIN). */
static napi_value seqpacket_accept(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &fd, "fd")) return NULL;
  int client = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (client < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      napi_value null;
      napi_get_null(env, &null);
      return null;
    }
    return throw_errno(env, "ERRNO", "accept4", errno);
  }
  return make_int(env, client);
}

/** sendWithFds(fd, data: Uint8Array, fds: number[]) -> bytes sent; one packet, the fds as SCM_RIGHTS. */
static napi_value send_with_fds(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd;
  if (!get_args(env, info, 3, argv) || !get_int(env, argv[0], &fd, "fd")) return NULL;
  void *data;
  size_t length;
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, argv[1], &type, &length, &data, &buffer, &offset) != napi_ok ||
      type != napi_uint8_array)
    return throw_invalid(env, "data must be a Uint8Array");
  uint32_t count;
  if (napi_get_array_length(env, argv[2], &count) != napi_ok || count > MAX_FDS)
    return throw_invalid(env, "fds must be an array of at most 16 file descriptors");
  int fds[MAX_FDS];
  for (uint32_t i = 0; i < count; i++) {
    napi_value element;
    napi_get_element(env, argv[2], i, &element);
    if (!get_int(env, element, &fds[i], "fds[i]")) return NULL;
  }
  struct iovec iov = {.iov_base = data, .iov_len = length};
  union {
    char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  if (count > 0) {
    msg.msg_control = control.buf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * count);
    memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * count);
  }
  ssize_t sent = sendmsg(fd, &msg, MSG_NOSIGNAL);
  if (sent < 0) return throw_errno(env, "ERRNO", "sendmsg", errno);
  return make_int(env, sent);
}

/**
 * recvWithFds(fd, maxBytes) -> { data: Buffer, fds: number[], truncated, controlTruncated } or null (EAGAIN).
 * Received fds are close-on-exec; a packet longer than maxBytes is cut and flagged (MSG_TRUNC). An empty
 * `data` with no fds is the peer closing.
 */
static napi_value recv_with_fds(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd, max_bytes;
  if (!get_args(env, info, 2, argv) || !get_int(env, argv[0], &fd, "fd") ||
      !get_int(env, argv[1], &max_bytes, "maxBytes"))
    return NULL;
  if (max_bytes < 1 || max_bytes > 1 << 20) return throw_invalid(env, "maxBytes must be between 1 and 1 MiB");
  char *data = malloc((size_t)max_bytes);
  if (!data) return throw_errno(env, "ERRNO", "malloc", ENOMEM);
  struct iovec iov = {.iov_base = data, .iov_len = (size_t)max_bytes};
  union {
    char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
    struct cmsghdr align;
  } control;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf};
  ssize_t got = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  if (got < 0) {
    int err = errno;
    free(data);
    if (err == EAGAIN || err == EWOULDBLOCK) {
      napi_value null;
      napi_get_null(env, &null);
      return null;
    }
    return throw_errno(env, "ERRNO", "recvmsg", err);
  }
  napi_value fds;
  napi_create_array(env, &fds);
  uint32_t n = 0;
  for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int *received = (int *)CMSG_DATA(cmsg);
    for (size_t i = 0; i < count; i++) napi_set_element(env, fds, n++, make_int(env, received[i]));
  }
  napi_value result, bytes, flag;
  void *copy;
  napi_create_buffer_copy(env, (size_t)got, data, &copy, &bytes);
  free(data);
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "data", bytes);
  napi_set_named_property(env, result, "fds", fds);
  napi_get_boolean(env, (msg.msg_flags & MSG_TRUNC) != 0, &flag);
  napi_set_named_property(env, result, "truncated", flag);
  napi_get_boolean(env, (msg.msg_flags & MSG_CTRUNC) != 0, &flag);
  napi_set_named_property(env, result, "controlTruncated", flag);
  return result;
}

/* ---------- readability watcher (libuv poll on the Node event loop) ---------- */

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  int stopped;
  int owners; /* the uv handle and the JS external: freed when both are done */
} watcher_t;

static void watcher_release(watcher_t *w) {
  if (--w->owners == 0) free(w);
}

static void watcher_closed(uv_handle_t *handle) { watcher_release(handle->data); }

static void watcher_stop(watcher_t *w) {
  if (w->stopped) return;
  w->stopped = 1;
  napi_delete_reference(w->env, w->callback);
  napi_async_destroy(w->env, w->context);
  uv_poll_stop(&w->poll);
  uv_close((uv_handle_t *)&w->poll, watcher_closed);
}

static void watcher_fired(uv_poll_t *poll, int status, int events) {
  watcher_t *w = poll->data;
  if (w->stopped) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value callback, global, args[1], ignored;
  napi_get_reference_value(env, w->callback, &callback);
  napi_get_global(env, &global);
  napi_create_int32(env, status, &args[0]);
  napi_make_callback(env, w->context, global, callback, 1, args, &ignored);
  napi_close_handle_scope(env, scope);
}

static void watcher_finalize(napi_env env, void *data, void *hint) {
  watcher_t *w = data;
  watcher_stop(w);
  watcher_release(w);
}

/** watchReadable(fd, callback(status)) -> handle; callback runs on the event loop whenever fd is readable. */
static napi_value watch_readable(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  if (!get_args(env, info, 2, argv) || !get_int(env, argv[0], &fd, "fd")) return NULL;
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return throw_invalid(env, "no event loop");
  watcher_t *w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, "ERRNO", "calloc", ENOMEM);
  int err = uv_poll_init(loop, &w->poll, fd);
  if (err != 0) {
    free(w);
    return throw_errno(env, "ERRNO", "uv_poll_init", -err);
  }
  w->poll.data = w;
  w->env = env;
  w->owners = 2;
  napi_create_reference(env, argv[1], 1, &w->callback);
  napi_value name;
  napi_create_string_utf8(env, "NetnsSeqpacketWatch", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &w->context);
  uv_poll_start(&w->poll, UV_READABLE | UV_DISCONNECT, watcher_fired);
  napi_value handle;
  napi_create_external(env, w, watcher_finalize, NULL, &handle);
  return handle;
}

/** unwatch(handle): stop a watcher (idempotent); the fd stays open. */
static napi_value unwatch(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  void *data;
  if (napi_get_value_external(env, argv[0], &data) != napi_ok) return throw_invalid(env, "not a watch handle");
  watcher_stop(data);
  return undefined(env);
}

#define EXPORT(name, fn)                                                   \
  do {                                                                     \
    napi_value f;                                                          \
    napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f);      \
    napi_set_named_property(env, exports, name, f);                        \
  } while (0)

static napi_value init(napi_env env, napi_value exports) {
  EXPORT("namespaceId", namespace_id);
  EXPORT("socket", create_socket);
  EXPORT("setOption", set_option);
  EXPORT("getOption", get_option);
  EXPORT("bind", bind_socket);
  EXPORT("listen", listen_socket);
  EXPORT("localAddress", local_address);
  EXPORT("originalDestination", original_destination);
  EXPORT("close", close_fd);
  EXPORT("seqpacketPair", seqpacket_pair);
  EXPORT("seqpacketConnect", seqpacket_connect);
  EXPORT("seqpacketListen", seqpacket_listen);
  EXPORT("seqpacketAccept", seqpacket_accept);
  EXPORT("sendWithFds", send_with_fds);
  EXPORT("recvWithFds", recv_with_fds);
  EXPORT("watchReadable", watch_readable);
  EXPORT("unwatch", unwatch);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
