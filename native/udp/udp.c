/*
 * opencx native UDP socket: batched receive (recvmmsg) and batched send (sendmmsg) for the SIP
 * and RTP hot paths, driven by the libuv loop of the calling thread.
 *
 * Why: node:dgram pays per datagram for a libuv wrapper, a 64 KiB allocation, a JS callback, a
 * `rinfo` object and a lookup tick on send. Here one poll wakeup reads up to BATCH datagrams with
 * one syscall and hands them to JS in one call; sends are copied into a per-socket queue and
 * leave with one sendmmsg per loop turn (a prepare handle runs just before the loop blocks).
 *
 * Lifetime: a socket struct is shared by the JS object that wraps it and by its two libuv
 * handles. `refs` counts those owners; the struct is freed when the last one lets go (the wrap
 * finalizer, or the close callback of the last handle), so neither a late GC nor an env
 * teardown can touch freed memory. Nothing here throws into the loop: errors seen from libuv
 * callbacks are handed to the socket's error callback.
 *
 * A socket opened with ioThread runs its syscalls on a thread of its own instead (iothread.c):
 * the same queue and the same batch hand-over to JS, with the poll handle left stopped.
 *
 * Linux only (recvmmsg, sendmmsg, SO_ATTACH_REUSEPORT_CBPF).
 */
#include "udp.h"

/* ---------------------------------------------------------------- helpers */

static void throw_errno(napi_env env, int err, const char *what) {
  char msg[256];
  const char *code = NULL;
  switch (err) {
    case EADDRINUSE: code = "EADDRINUSE"; break;
    case EADDRNOTAVAIL: code = "EADDRNOTAVAIL"; break;
    case EACCES: code = "EACCES"; break;
    case EINVAL: code = "EINVAL"; break;
    case EMFILE: code = "EMFILE"; break;
    case ENFILE: code = "ENFILE"; break;
    case EAFNOSUPPORT: code = "EAFNOSUPPORT"; break;
    case EPERM: code = "EPERM"; break;
    default: code = "EUDP"; break;
  }
  snprintf(msg, sizeof msg, "%s: %s (%s)", what, strerror(err), code);
  napi_throw_error(env, code, msg);
}

#define CHECK_NAPI(env, call, fail)                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      bool pending_ = false;                                          \
      napi_is_exception_pending((env), &pending_);                    \
      if (!pending_) napi_throw_error((env), "EUDP", "node-api call failed: " #call); \
      return (fail);                                                  \
    }                                                                 \
  } while (0)

static int get_prop(napi_env env, napi_value obj, const char *name, napi_value *out, napi_valuetype *type) {
  bool has = false;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has) return 0;
  if (napi_get_named_property(env, obj, name, out) != napi_ok) return -1;
  if (napi_typeof(env, *out, type) != napi_ok) return -1;
  if (*type == napi_undefined) return 0;
  return 1;
}

/* a whole number in [min, max] from an optional property; 0 = absent, 1 = set, -1 = thrown */
static int get_int_prop(napi_env env, napi_value obj, const char *name, double min, double max, double *out) {
  napi_value v;
  napi_valuetype t;
  int r = get_prop(env, obj, name, &v, &t);
  if (r <= 0) {
    if (r < 0) napi_throw_error(env, "EINVAL", "cannot read an option");
    return r;
  }
  double d;
  if (t != napi_number || napi_get_value_double(env, v, &d) != napi_ok || d != d || d < min || d > max || d != (double)(int64_t)d) {
    char msg[128];
    snprintf(msg, sizeof msg, "option %s must be a whole number from %.0f to %.0f", name, min, max);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
    return -1;
  }
  *out = d;
  return 1;
}

static void env_cleanup(void *arg) {
  udp_env *e = (udp_env *)arg;
  while (e->open_list != NULL) {
    udp_sock *s = e->open_list;
    s->on_batch = s->on_error = s->self_ref = NULL;
    s->actx = NULL;
    sock_shutdown(s);
  }
  pacer_env_gone(e);
}

static void finalize_sock(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  sock_unref((udp_sock *)data);
}

static void finalize_env(napi_env env, void *data, void *hint) {
  (void)hint;
  udp_env *e = (udp_env *)data;
  napi_remove_env_cleanup_hook(env, env_cleanup, e);
  env_cleanup(e);
  free(e);
}

/* ---------------------------------------------------------------- methods */

udp_sock *unwrap_sock(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  void *p = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, self, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_THIS", "not an opencx UDP socket");
    return NULL;
  }
  return (udp_sock *)p;
}

/* the (port, address) arguments of send() and sendAt(): 1 = valid, with the destination in
 * s->last_sa; 0 = the socket is closed (the caller drops the datagram); -1 = a JS error was thrown */
static int take_destination(napi_env env, udp_sock *s, napi_value port_v, napi_value address_v) {
  double port_d;
  napi_valuetype t;
  if (napi_typeof(env, port_v, &t) != napi_ok || t != napi_number || napi_get_value_double(env, port_v, &port_d) != napi_ok ||
      !(port_d >= 1 && port_d <= 65535) || port_d != (double)(uint32_t)port_d) {
    napi_throw_range_error(env, "ERR_SOCKET_BAD_PORT", "port must be a whole number from 1 to 65535");
    return -1;
  }
  uint32_t port = (uint32_t)port_d;
  char text[INET6_ADDRSTRLEN + 8];
  size_t text_len = 0;
  if (napi_get_value_string_latin1(env, address_v, text, sizeof text, &text_len) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "address must be a string");
    return -1;
  }
  if (s->closed) return 0;
  if (text_len != s->last_text_len || port != s->last_port || memcmp(text, s->last_text, text_len) != 0) {
    if (text_len >= INET6_ADDRSTRLEN || !parse_address(s->family, text, port, &s->last_sa, &s->last_sa_len)) {
      s->last_text_len = 0;
      char msg[128];
      snprintf(msg, sizeof msg, "not an IPv%d address literal: %.*s", s->family == AF_INET ? 4 : 6, (int)(text_len > 64 ? 64 : text_len), text);
      napi_throw_error(env, "ERR_INVALID_ADDRESS", msg);
      return -1;
    }
    memcpy(s->last_text, text, text_len);
    s->last_text_len = text_len;
    s->last_port = port;
  }
  return 1;
}

/* the (data, port, address) arguments of send() and sendAt(), data a Uint8Array: as take_destination */
int take_datagram_args(napi_env env, udp_sock *s, napi_value *argv, void **data, size_t *length) {
  bool is_ta = false;
  napi_typedarray_type ta_type;
  if (napi_is_typedarray(env, argv[0], &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, argv[0], &ta_type, length, data, NULL, NULL) != napi_ok ||
      (ta_type != napi_uint8_array && ta_type != napi_int8_array && ta_type != napi_uint8_clamped_array)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "data must be a Uint8Array or Buffer");
    return -1;
  }
  if (*length > MAX_DATAGRAM) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "a UDP datagram holds at most 65535 bytes");
    return -1;
  }
  return take_destination(env, s, argv[1], argv[2]);
}

/* the entry for the `length` bytes just written at the end of the arena (queue_reserve made room) */
static void enqueue_written(udp_sock *s, size_t length) {
  tx_entry *te = &s->q[s->q_head + s->q_count];
  te->addr = s->last_sa;
  te->addr_len = s->last_sa_len;
  te->off = (uint32_t)s->arena_len;
  te->len = (uint32_t)length;
  s->arena_len += length;
  s->q_count++;
  if (s->q_count >= BATCH && !(s->poll_events & UV_WRITABLE)) flush_queue(s);
  if (s->q_count > 0 || s->error_count > 0) start_prepare(s);
}

/* send(data: Uint8Array | string, port: number, address: string): boolean (false = dropped, queue
 * full). A string is written into the send queue as UTF-8 straight from the JS heap: a SIP message
 * serialized as text needs no Buffer of its own on the way out. */
static napi_value m_send(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  udp_sock *s = unwrap_sock(env, info, &argc, argv);
  if (s == NULL) return NULL;
  if (argc < 3) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "send(data, port, address)");
    return NULL;
  }
  napi_value result;
  napi_valuetype data_type = napi_undefined;
  if (napi_typeof(env, argv[0], &data_type) == napi_ok && data_type == napi_string) {
    size_t length = 0;
    if (napi_get_value_string_utf8(env, argv[0], NULL, 0, &length) != napi_ok) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "data must be a string, a Uint8Array or a Buffer");
      return NULL;
    }
    if (length > MAX_DATAGRAM) {
      napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "a UDP datagram holds at most 65535 bytes");
      return NULL;
    }
    int ok = take_destination(env, s, argv[1], argv[2]);
    if (ok < 0) return NULL;
    /* one byte more: napi writes a terminating NUL, which the next entry overwrites */
    if (ok == 0 || !queue_reserve(s, (uint32_t)length + 1)) {
      s->dropped++;
      napi_get_boolean(env, false, &result);
      return result;
    }
    size_t written = 0;
    napi_get_value_string_utf8(env, argv[0], (char *)(s->arena + s->arena_len), length + 1, &written);
    enqueue_written(s, written);
    napi_get_boolean(env, true, &result);
    return result;
  }
  void *data = NULL;
  size_t length = 0;
  int ok = take_datagram_args(env, s, argv, &data, &length);
  if (ok < 0) return NULL;
  if (ok == 0 || !queue_reserve(s, (uint32_t)length)) {
    s->dropped++;
    napi_get_boolean(env, false, &result);
    return result;
  }
  if (length) memcpy(s->arena + s->arena_len, data, length);
  enqueue_written(s, length);
  napi_get_boolean(env, true, &result);
  return result;
}

static napi_value m_flush(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  udp_sock *s = unwrap_sock(env, info, &argc, NULL);
  if (s == NULL) return NULL;
  if (!s->closed && !(s->poll_events & UV_WRITABLE)) flush_queue(s);
  /* errors seen here reach JS from the next loop turn, never from inside this call */
  if (s->error_count > 0) start_prepare(s);
  return NULL;
}

static napi_value m_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  udp_sock *s = unwrap_sock(env, info, &argc, NULL);
  if (s == NULL || s->closed) return NULL;
  /* one last non-blocking attempt for what is queued; what the kernel will not take is dropped */
  if (!(s->poll_events & UV_WRITABLE)) flush_queue(s);
  s->error_count = 0;
  sock_shutdown(s);
  /* the async context and callbacks may be the ones running right now: let go once they return */
  if (s->in_callback > 0) s->release_pending = 1;
  else release_js_refs(s);
  return NULL;
}

static void set_stat(napi_env env, napi_value obj, const char *name, uint64_t v) {
  napi_value n;
  napi_create_double(env, (double)v, &n);
  napi_set_named_property(env, obj, name, n);
}

static napi_value m_stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  udp_sock *s = unwrap_sock(env, info, &argc, NULL);
  if (s == NULL) return NULL;
  napi_value o;
  CHECK_NAPI(env, napi_create_object(env, &o), NULL);
  uint64_t pace_sent, pace_errors, pace_dropped;
  uint32_t waiting;
  pacer_counts(s, &pace_sent, &pace_errors, &pace_dropped, &waiting);
  uint64_t io_received, io_sent, io_send_errors, io_recv_errors, io_dropped;
  uint32_t io_queued;
  io_counts(s, &io_received, &io_sent, &io_send_errors, &io_recv_errors, &io_dropped, &io_queued);
  set_stat(env, o, "received", s->received + io_received);
  set_stat(env, o, "sent", s->sent + pace_sent + io_sent);
  set_stat(env, o, "sendErrors", s->send_errors + pace_errors + io_send_errors);
  set_stat(env, o, "recvErrors", s->recv_errors + io_recv_errors);
  set_stat(env, o, "dropped", s->dropped + pace_dropped + io_dropped);
  set_stat(env, o, "queued", s->q_count + io_queued);
  set_stat(env, o, "scheduled", waiting);
  return o;
}

/* the open socket a method without arguments was called on; NULL with an exception pending otherwise */
static udp_sock *open_sock_of(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  udp_sock *s = unwrap_sock(env, info, &argc, NULL);
  if (s == NULL) return NULL;
  if (s->closed) {
    napi_throw_error(env, "ERR_SOCKET_DGRAM_NOT_RUNNING", "socket is closed");
    return NULL;
  }
  return s;
}

/* bufferSizes(): { recv, send } as granted (the kernel reports twice the usable size) */
static napi_value m_buffer_sizes(napi_env env, napi_callback_info info) {
  udp_sock *s = open_sock_of(env, info);
  if (s == NULL) return NULL;
  int rcv = 0, snd = 0;
  socklen_t len = sizeof rcv;
  if (getsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcv, &len) != 0) {
    throw_errno(env, errno, "getsockopt");
    return NULL;
  }
  len = sizeof snd;
  if (getsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &snd, &len) != 0) {
    throw_errno(env, errno, "getsockopt");
    return NULL;
  }
  napi_value o;
  CHECK_NAPI(env, napi_create_object(env, &o), NULL);
  set_stat(env, o, "recv", (uint64_t)(rcv / 2));
  set_stat(env, o, "send", (uint64_t)(snd / 2));
  return o;
}

static napi_value m_local(napi_env env, napi_callback_info info) {
  udp_sock *s = open_sock_of(env, info);
  if (s == NULL) return NULL;
  struct sockaddr_storage sa;
  socklen_t len = sizeof sa;
  if (getsockname(s->fd, (struct sockaddr *)&sa, &len) != 0) {
    throw_errno(env, errno, "getsockname");
    return NULL;
  }
  char text[INET6_ADDRSTRLEN];
  uint16_t port;
  format_address(&sa, text, sizeof text, &port);
  napi_value o, a, p;
  CHECK_NAPI(env, napi_create_object(env, &o), NULL);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &a);
  napi_create_uint32(env, port, &p);
  napi_set_named_property(env, o, "address", a);
  napi_set_named_property(env, o, "port", p);
  return o;
}

/* the constructor is internal: sockets come from open() */
static napi_value m_ctor(napi_env env, napi_callback_info info) {
  napi_value self;
  napi_get_cb_info(env, info, NULL, NULL, &self, NULL);
  return self;
}

/* ---------------------------------------------------------------- open */

/*
 * A socket buffer of `bytes`: SO_RCVBUF / SO_SNDBUF stop at net.core.rmem_max / wmem_max (4 MB
 * or less on most hosts), so when the kernel granted less than asked, the FORCE variant is tried:
 * it passes the cap for a process with CAP_NET_ADMIN (root in a host's network namespace), and
 * fails harmlessly (EPERM) otherwise, leaving what the plain option gave. The kernel doubles the
 * value for its bookkeeping, so the comparison is against 2 x bytes.
 */
static int set_buffer(int fd, int opt, int force_opt, int bytes) {
  if (setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof bytes) != 0) return -1;
  int got = 0;
  socklen_t len = sizeof got;
  if (getsockopt(fd, SOL_SOCKET, opt, &got, &len) == 0 && got / 2 < bytes) {
    (void)setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof bytes);
  }
  return 0;
}

static int attach_spread_program(int fd, uint32_t n) {
  /* pick a member of the reuseport group at random: A = random; A %= n; return A */
  struct sock_filter code[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_RANDOM)),
    BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, n),
    BPF_STMT(BPF_RET | BPF_A, 0),
  };
  struct sock_fprog prog;
  /* zeroed first: the padding after `len` goes to the kernel too */
  memset(&prog, 0, sizeof prog);
  prog.len = sizeof code / sizeof code[0];
  prog.filter = code;
  return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog);
}

/* open({ family, address, port, recvBufferSize?, sendBufferSize?, reusePort?, spreadOver?,
 *        queueLimit?, scheduleLimit?, batchBuffers?, ioThread?, onBatch, onError }) -> socket */
static napi_value m_open(napi_env env, napi_callback_info info) {
  udp_env *e = NULL;
  CHECK_NAPI(env, napi_get_instance_data(env, (void **)&e), NULL);
  size_t argc = 1;
  napi_value opts;
  CHECK_NAPI(env, napi_get_cb_info(env, info, &argc, &opts, NULL, NULL), NULL);
  napi_valuetype t;
  if (argc < 1 || napi_typeof(env, opts, &t) != napi_ok || t != napi_object) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "open() takes an options object");
    return NULL;
  }
  double family_d = 0, port_d = 0, rcvbuf = 0, sndbuf = 0, spread = 0, qlimit = DEFAULT_QUEUE_LIMIT, slimit = DEFAULT_SCHEDULE_LIMIT;
  if (get_int_prop(env, opts, "family", 4, 6, &family_d) != 1 || (family_d != 4 && family_d != 6)) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "option family must be 4 or 6");
    return NULL;
  }
  if (get_int_prop(env, opts, "port", 0, 65535, &port_d) < 0) return NULL;
  if (get_int_prop(env, opts, "recvBufferSize", 0, 1 << 30, &rcvbuf) < 0) return NULL;
  if (get_int_prop(env, opts, "sendBufferSize", 0, 1 << 30, &sndbuf) < 0) return NULL;
  if (get_int_prop(env, opts, "spreadOver", 0, 4096, &spread) < 0) return NULL;
  if (get_int_prop(env, opts, "queueLimit", 1, 1 << 20, &qlimit) < 0) return NULL;
  if (get_int_prop(env, opts, "scheduleLimit", 1, 1 << 20, &slimit) < 0) return NULL;

  napi_value v;
  char address[INET6_ADDRSTRLEN + 8];
  size_t address_len = 0;
  if (get_prop(env, opts, "address", &v, &t) != 1 || t != napi_string ||
      napi_get_value_string_latin1(env, v, address, sizeof address, &address_len) != napi_ok || address_len >= INET6_ADDRSTRLEN) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "option address must be an IP address literal");
    return NULL;
  }
  bool reuse_port = false, batch_buffers = false, io_thread_on = false;
  if (get_prop(env, opts, "reusePort", &v, &t) == 1) napi_get_value_bool(env, v, &reuse_port);
  if (get_prop(env, opts, "ioThread", &v, &t) == 1) napi_get_value_bool(env, v, &io_thread_on);
  if (get_prop(env, opts, "batchBuffers", &v, &t) == 1) napi_get_value_bool(env, v, &batch_buffers);
  napi_value on_batch, on_error;
  if (get_prop(env, opts, "onBatch", &on_batch, &t) != 1 || t != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "option onBatch must be a function");
    return NULL;
  }
  if (get_prop(env, opts, "onError", &on_error, &t) != 1 || t != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "option onError must be a function");
    return NULL;
  }
  if (spread > 1 && !reuse_port) {
    napi_throw_error(env, "EINVAL", "spreadOver needs reusePort");
    return NULL;
  }

  int family = family_d == 6 ? AF_INET6 : AF_INET;
  struct sockaddr_storage bind_sa;
  socklen_t bind_len;
  if (!parse_address(family, address, (uint32_t)port_d, &bind_sa, &bind_len)) {
    napi_throw_error(env, "EINVAL", "option address is not an address literal of the given family");
    return NULL;
  }
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw_errno(env, errno, "socket");
    return NULL;
  }
  int one = 1;
  if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) goto fail_errno;
  if (rcvbuf > 0 && set_buffer(fd, SO_RCVBUF, SO_RCVBUFFORCE, (int)rcvbuf) != 0) goto fail_errno;
  if (sndbuf > 0 && set_buffer(fd, SO_SNDBUF, SO_SNDBUFFORCE, (int)sndbuf) != 0) goto fail_errno;
  if (bind(fd, (struct sockaddr *)&bind_sa, bind_len) != 0) {
    int err = errno;
    close(fd);
    char what[128];
    snprintf(what, sizeof what, "bind %s:%u", address, (unsigned)port_d);
    throw_errno(env, err, what);
    return NULL;
  }
  if (spread > 1 && attach_spread_program(fd, (uint32_t)spread) != 0) goto fail_errno;

  udp_sock *s = calloc(1, sizeof *s);
  if (s == NULL) {
    close(fd);
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  s->e = e;
  s->fd = fd;
  s->family = family;
  s->batch_buffers = batch_buffers;
  s->q_limit = (uint32_t)qlimit;
  s->pace_limit = (uint32_t)slimit;
  s->refs = 1;

  napi_value ctor, self, name;
  if (napi_get_reference_value(env, e->ctor, &ctor) != napi_ok || napi_new_instance(env, ctor, 0, NULL, &self) != napi_ok ||
      napi_wrap(env, self, s, finalize_sock, NULL, NULL) != napi_ok) {
    close(fd);
    free(s);
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) napi_throw_error(env, "EUDP", "cannot create the socket object");
    return NULL;
  }
  /* from here on the wrap owns one reference; the handles take theirs */
  napi_create_reference(env, self, 1, &s->self_ref);
  napi_create_reference(env, on_batch, 1, &s->on_batch);
  napi_create_reference(env, on_error, 1, &s->on_error);
  napi_create_string_utf8(env, "opencx:udp", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &s->actx);

  uv_poll_init(e->loop, &s->poll, fd);
  s->poll.data = s;
  s->refs++;
  uv_prepare_init(e->loop, &s->prepare);
  s->prepare.data = s;
  s->refs++;
  /* flushing the queue must not keep the loop alive by itself */
  uv_unref((uv_handle_t *)&s->prepare);
  s->next = e->open_list;
  if (e->open_list) e->open_list->prev = s;
  e->open_list = s;
  if (io_thread_on) {
    /* the thread reads and sends; the poll handle stays stopped */
    int err = io_start(s);
    if (err != 0) {
      sock_shutdown(s);
      release_js_refs(s);
      throw_errno(env, err, "I/O thread");
      return NULL;
    }
  } else {
    s->poll_events = UV_READABLE;
    uv_poll_start(&s->poll, UV_READABLE, on_poll);
  }
  return self;

fail_errno: {
  int err = errno;
  close(fd);
  throw_errno(env, err, "setsockopt");
  return NULL;
}
}

/* buffers(): { scratch: ArrayBuffer, meta: Uint32Array } shared by the sockets of this thread */
static napi_value m_buffers(napi_env env, napi_callback_info info) {
  (void)info;
  udp_env *e = NULL;
  CHECK_NAPI(env, napi_get_instance_data(env, (void **)&e), NULL);
  napi_value o, scratch, meta;
  CHECK_NAPI(env, napi_get_reference_value(env, e->scratch_ref, &scratch), NULL);
  CHECK_NAPI(env, napi_get_reference_value(env, e->meta_ref, &meta), NULL);
  CHECK_NAPI(env, napi_create_object(env, &o), NULL);
  napi_set_named_property(env, o, "scratch", scratch);
  napi_set_named_property(env, o, "meta", meta);
  return o;
}

NAPI_MODULE_INIT() {
  udp_env *e = calloc(1, sizeof *e);
  if (e == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  e->env = env;
  if (napi_get_uv_event_loop(env, &e->loop) != napi_ok) {
    free(e);
    napi_throw_error(env, "EUDP", "no libuv loop on this thread");
    return NULL;
  }
  napi_value scratch, meta_ab, meta;
  void *p = NULL;
  if (napi_create_arraybuffer(env, (size_t)BATCH * SLOT, &p, &scratch) != napi_ok) {
    free(e);
    return NULL;
  }
  e->scratch = p;
  napi_create_reference(env, scratch, 1, &e->scratch_ref);
  napi_create_arraybuffer(env, (size_t)BATCH * META_WORDS * 4, &p, &meta_ab);
  e->meta = p;
  napi_create_typedarray(env, napi_uint32_array, (size_t)BATCH * META_WORDS, meta_ab, 0, &meta);
  napi_create_reference(env, meta, 1, &e->meta_ref);
  init_rx_msgs(e->rx_msgs, e->rx_iov, e->rx_addr, e->scratch);

  napi_property_descriptor methods[] = {
    {"send", NULL, m_send, NULL, NULL, NULL, napi_default_method, NULL},
    {"flush", NULL, m_flush, NULL, NULL, NULL, napi_default_method, NULL},
    {"sendAt", NULL, m_send_at, NULL, NULL, NULL, napi_default_method, NULL},
    {"cancelScheduled", NULL, m_cancel_scheduled, NULL, NULL, NULL, napi_default_method, NULL},
    {"close", NULL, m_close, NULL, NULL, NULL, napi_default_method, NULL},
    {"stats", NULL, m_stats, NULL, NULL, NULL, napi_default_method, NULL},
    {"local", NULL, m_local, NULL, NULL, NULL, napi_default_method, NULL},
    {"bufferSizes", NULL, m_buffer_sizes, NULL, NULL, NULL, napi_default_method, NULL},
  };
  napi_value ctor;
  napi_define_class(env, "NativeUdpSocket", NAPI_AUTO_LENGTH, m_ctor, NULL, sizeof methods / sizeof methods[0], methods, &ctor);
  napi_create_reference(env, ctor, 1, &e->ctor);
  napi_set_instance_data(env, e, finalize_env, NULL);
  napi_add_env_cleanup_hook(env, env_cleanup, e);

  napi_value fn;
  napi_create_function(env, "open", NAPI_AUTO_LENGTH, m_open, NULL, &fn);
  napi_set_named_property(env, exports, "open", fn);
  napi_create_function(env, "buffers", NAPI_AUTO_LENGTH, m_buffers, NULL, &fn);
  napi_set_named_property(env, exports, "buffers", fn);
  napi_create_function(env, "pacerStats", NAPI_AUTO_LENGTH, m_pacer_stats, NULL, &fn);
  napi_set_named_property(env, exports, "pacerStats", fn);
  napi_value consts;
  napi_create_object(env, &consts);
  napi_value n;
  napi_create_uint32(env, BATCH, &n);
  napi_set_named_property(env, consts, "batch", n);
  napi_create_uint32(env, META_WORDS, &n);
  napi_set_named_property(env, consts, "metaWords", n);
  napi_set_named_property(env, exports, "constants", consts);
  return exports;
}
