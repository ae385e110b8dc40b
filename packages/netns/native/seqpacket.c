// @ambient-ts/netns native part: SOCK_SEQPACKET unix sockets with SCM_RIGHTS (how the CNI agent hands ztunnel
// pod namespaces over ZDS) and a libuv poll watcher that tells JavaScript when one is readable.
#include "common.h"

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

void register_seqpacket(napi_env env, napi_value exports) {
  EXPORT("seqpacketPair", seqpacket_pair);
  EXPORT("seqpacketConnect", seqpacket_connect);
  EXPORT("seqpacketListen", seqpacket_listen);
  EXPORT("seqpacketAccept", seqpacket_accept);
  EXPORT("sendWithFds", send_with_fds);
  EXPORT("recvWithFds", recv_with_fds);
  EXPORT("watchReadable", watch_readable);
  EXPORT("unwatch", unwatch);
}
