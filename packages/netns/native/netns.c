// @ambient-ts/netns native part: the few Linux socket calls Node.js cannot make — sockets created inside a network
// namespace, socket options, original destination — in plain C over Node-API (ABI-stable); SOCK_SEQPACKET fd
// passing is in seqpacket.c, shared helpers in common.h. Every failing syscall throws a JS
// Error carrying `code` (ERRNO, SETNS_FAILED, NOT_A_NAMESPACE, INVALID_ARGUMENT), `errno` (the name, e.g.
// EBADF), `errnoNumber` and `syscall`; the JS layer turns it into a NetnsError.
#include "common.h"

void register_seqpacket(napi_env env, napi_value exports);

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
  register_seqpacket(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
