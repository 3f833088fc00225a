/*
 * The moving parts of a socket: the send queue and its sendmmsg flush, the recvmmsg batches and
 * their hand-over to JS, the libuv poll/prepare callbacks, and shutdown. See udp.c for the why.
 */
#include "udp.h"

int parse_address(int family, const char *text, uint32_t port, struct sockaddr_storage *sa, socklen_t *len) {
  memset(sa, 0, sizeof *sa);
  if (family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)sa;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, text, &a->sin_addr) != 1) return 0;
    *len = sizeof *a;
    return 1;
  }
  struct sockaddr_in6 *a = (struct sockaddr_in6 *)sa;
  a->sin6_family = AF_INET6;
  a->sin6_port = htons((uint16_t)port);
  if (inet_pton(AF_INET6, text, &a->sin6_addr) != 1) return 0;
  *len = sizeof *a;
  return 1;
}

void format_address(const struct sockaddr_storage *sa, char *out, size_t out_len, uint16_t *port) {
  out[0] = '\0';
  *port = 0;
  if (sa->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
    inet_ntop(AF_INET, &a->sin_addr, out, (socklen_t)out_len);
    *port = ntohs(a->sin_port);
  } else if (sa->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
    inet_ntop(AF_INET6, &a->sin6_addr, out, (socklen_t)out_len);
    *port = ntohs(a->sin6_port);
  }
}

/* the receive headers of BATCH slots of SLOT bytes each in `scratch`, addresses in `addr` */
void init_rx_msgs(struct mmsghdr *msgs, struct iovec *iov, struct sockaddr_storage *addr, unsigned char *scratch) {
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = scratch + (size_t)i * SLOT;
    iov[i].iov_len = SLOT;
    memset(&msgs[i], 0, sizeof msgs[i]);
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &addr[i];
  }
}

/* one datagram's META_WORDS words for JS: offset, length, port, family, address (4 words) */
void fill_meta(uint32_t *m, uint32_t off, uint32_t len, const struct sockaddr_storage *sa) {
  m[0] = off;
  m[1] = len;
  if (sa->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
    m[2] = ntohs(a->sin_port);
    m[3] = 4;
    m[4] = ntohl(a->sin_addr.s_addr);
    m[5] = m[6] = m[7] = 0;
  } else {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
    uint32_t w[4];
    memcpy(w, &a->sin6_addr, 16);
    m[2] = ntohs(a->sin6_port);
    m[3] = 6;
    m[4] = ntohl(w[0]);
    m[5] = ntohl(w[1]);
    m[6] = ntohl(w[2]);
    m[7] = ntohl(w[3]);
  }
}

/* the sendmmsg headers of n queued entries whose bytes are in arena */
void fill_tx_msgs(struct mmsghdr *msgs, struct iovec *iov, tx_entry *q, unsigned char *arena, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    tx_entry *t = &q[i];
    iov[i].iov_base = arena + t->off;
    iov[i].iov_len = t->len;
    memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
    msgs[i].msg_hdr.msg_name = &t->addr;
    msgs[i].msg_hdr.msg_namelen = t->addr_len;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
}

void sock_unref(udp_sock *s) {
  if (--s->refs > 0) return;
  free(s->q);
  free(s->arena);
  free(s->io_orphan);
  free(s);
}

void on_handle_closed(uv_handle_t *h) {
  sock_unref((udp_sock *)h->data);
}

void note_error(udp_sock *s, int err, const struct sockaddr_storage *to, const char *syscall) {
  record_error(s->errors, &s->error_count, err, to, syscall);
}

/* an error for the error callback, in a list of MAX_PENDING_ERRORS (more are only counted by the caller) */
void record_error(pending_error *list, int *count, int err, const struct sockaddr_storage *to, const char *syscall) {
  if (*count >= MAX_PENDING_ERRORS) return;
  pending_error *pe = &list[(*count)++];
  pe->err = err;
  pe->syscall = syscall;
  if (to != NULL) {
    format_address(to, pe->address, sizeof pe->address, &pe->port);
  } else {
    pe->address[0] = '\0';
    pe->port = 0;
  }
}

void on_prepare(uv_prepare_t *h);

void start_prepare(udp_sock *s) {
  if (s->prepare_active || s->closed) return;
  uv_prepare_start(&s->prepare, on_prepare);
  s->prepare_active = 1;
}

void set_poll(udp_sock *s, int events);

/* ---------------------------------------------------------------- send queue */

static void queue_pop(udp_sock *s, uint32_t n) {
  s->q_head += n;
  s->q_count -= n;
  if (s->q_count == 0) {
    s->q_head = 0;
    s->arena_len = 0;
  }
}

/* move the live entries and their bytes to the front of their arrays */
static void queue_compact(udp_sock *s) {
  if (s->q_head == 0) return;
  uint32_t base = s->q[s->q_head].off;
  memmove(s->arena, s->arena + base, s->arena_len - base);
  s->arena_len -= base;
  memmove(s->q, s->q + s->q_head, (size_t)s->q_count * sizeof(tx_entry));
  s->q_head = 0;
  for (uint32_t i = 0; i < s->q_count; i++) s->q[i].off -= base;
}

/* room for one more entry of `len` bytes; 0 when the queue is at its bounds */
int queue_reserve(udp_sock *s, uint32_t len) {
  if (s->q_count >= s->q_limit || s->arena_len - (s->q_count ? s->q[s->q_head].off : 0) + len > QUEUE_BYTES_LIMIT) return 0;
  if (s->q_head + s->q_count >= s->q_cap || s->arena_len + len > s->arena_cap) queue_compact(s);
  if (s->q_count >= s->q_cap) {
    uint32_t cap = s->q_cap ? s->q_cap * 2 : 16;
    if (cap > s->q_limit) cap = s->q_limit;
    tx_entry *q = realloc(s->q, (size_t)cap * sizeof(tx_entry));
    if (q == NULL) return 0;
    s->q = q;
    s->q_cap = cap;
  }
  if (s->arena_len + len > s->arena_cap) {
    size_t cap = s->arena_cap ? s->arena_cap : 2048;
    while (cap < s->arena_len + len) cap *= 2;
    unsigned char *a = realloc(s->arena, cap);
    if (a == NULL) return 0;
    s->arena = a;
    s->arena_cap = cap;
  }
  return 1;
}

/* send what is queued; stops at EAGAIN (then waits for POLLOUT) and drops datagrams the kernel refuses */
void flush_queue(udp_sock *s) {
  if (s->io != NULL && io_handoff(s)) return;
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  while (s->q_count > 0 && !s->closed) {
    uint32_t n = s->q_count < BATCH ? s->q_count : BATCH;
    fill_tx_msgs(msgs, iov, &s->q[s->q_head], s->arena, n);
    int r = sendmmsg(s->fd, msgs, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r > 0) {
      s->sent += (uint64_t)r;
      queue_pop(s, (uint32_t)r);
      continue;
    }
    int err = r < 0 ? errno : EIO;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      if (s->io != NULL) {
        /* the thread reads this socket, so no poll waits here: the kernel's full buffer drops the rest */
        s->dropped += s->q_count;
        queue_pop(s, s->q_count);
        return;
      }
      set_poll(s, UV_READABLE | UV_WRITABLE);
      return;
    }
    /* the first datagram of the batch was refused: count it, report it, go on with the rest */
    s->send_errors++;
    note_error(s, err, &s->q[s->q_head].addr, "sendmmsg");
    queue_pop(s, 1);
  }
  if (s->q_count == 0 && (s->poll_events & UV_WRITABLE)) set_poll(s, UV_READABLE);
}

/* ---------------------------------------------------------------- calls into JS */

void release_js_refs(udp_sock *s);

static void call_js(udp_sock *s, napi_value recv, napi_value fn, size_t argc, napi_value *argv) {
  napi_env env = s->e->env;
  napi_value result;
  s->in_callback++;
  napi_status st = napi_make_callback(env, s->actx, recv, fn, argc, argv, &result);
  s->in_callback--;
  if (st == napi_pending_exception) {
    napi_value ex;
    napi_get_and_clear_last_exception(env, &ex);
    napi_fatal_exception(env, ex);
  }
  if (s->in_callback == 0 && s->release_pending) release_js_refs(s);
}

void deliver_errors(udp_sock *s) {
  if (s->error_count == 0 || s->on_error == NULL || s->closed) {
    s->error_count = 0;
    return;
  }
  napi_env env = s->e->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv;
  int count = s->error_count;
  s->error_count = 0;
  pending_error copy[MAX_PENDING_ERRORS];
  memcpy(copy, s->errors, (size_t)count * sizeof(pending_error));
  if (napi_get_reference_value(env, s->on_error, &fn) == napi_ok && napi_get_reference_value(env, s->self_ref, &recv) == napi_ok) {
    for (int i = 0; i < count && !s->closed; i++) {
      napi_value argv[4];
      napi_create_int32(env, copy[i].err, &argv[0]);
      napi_create_string_utf8(env, copy[i].syscall, NAPI_AUTO_LENGTH, &argv[1]);
      napi_create_string_utf8(env, copy[i].address, NAPI_AUTO_LENGTH, &argv[2]);
      napi_create_uint32(env, copy[i].port, &argv[3]);
      call_js(s, recv, fn, 4, argv);
    }
  }
  napi_close_handle_scope(env, scope);
}

/* `count` datagrams described in e->meta, their bytes at `base` + each offset (e->scratch for
   the poll loop, the I/O thread's receive area for iothread.c) */
void deliver_batch(udp_sock *s, int count, const unsigned char *base) {
  udp_env *e = s->e;
  napi_env env = e->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value argv[2];
  if (s->batch_buffers) {
    /* one Buffer per batch, datagrams back to back: JS hands out views into it, which stay valid */
    size_t total = 0;
    for (int i = 0; i < count; i++) total += e->meta[i * META_WORDS + 1];
    void *data = NULL;
    if (napi_create_buffer(env, total ? total : 1, &data, &argv[0]) != napi_ok) {
      s->dropped += (uint64_t)count;
      napi_close_handle_scope(env, scope);
      return;
    }
    size_t off = 0;
    for (int i = 0; i < count; i++) {
      uint32_t *m = &e->meta[i * META_WORDS];
      memcpy((unsigned char *)data + off, base + m[0], m[1]);
      m[0] = (uint32_t)off;
      off += m[1];
    }
  } else {
    /* JS copies each datagram out of the shared scratch area */
    napi_get_undefined(env, &argv[0]);
  }
  napi_create_int32(env, count, &argv[1]);
  napi_value fn, recv;
  if (napi_get_reference_value(env, s->on_batch, &fn) == napi_ok && napi_get_reference_value(env, s->self_ref, &recv) == napi_ok) {
    call_js(s, recv, fn, 2, argv);
  }
  napi_close_handle_scope(env, scope);
}

/* ---------------------------------------------------------------- libuv callbacks */

static void receive_batches(udp_sock *s) {
  udp_env *e = s->e;
  for (int round = 0; round < MAX_ROUNDS && !s->closed; round++) {
    for (int i = 0; i < BATCH; i++) {
      e->rx_msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
      e->rx_msgs[i].msg_hdr.msg_flags = 0;
      e->rx_msgs[i].msg_hdr.msg_controllen = 0;
    }
    int r = recvmmsg(s->fd, e->rx_msgs, BATCH, MSG_DONTWAIT, NULL);
    if (r < 0) {
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) return;
      if (err == EINTR) continue;
      /* a queued ICMP error (ECONNREFUSED...) is reported once by the kernel, then reading goes on */
      s->recv_errors++;
      note_error(s, err, NULL, "recvmmsg");
      continue;
    }
    int kept = 0;
    for (int i = 0; i < r; i++) {
      struct msghdr *h = &e->rx_msgs[i].msg_hdr;
      if (h->msg_flags & MSG_TRUNC) {
        s->dropped++;
        continue;
      }
      uint32_t *m = &e->meta[kept * META_WORDS];
      fill_meta(m, (uint32_t)i * SLOT, e->rx_msgs[i].msg_len, &e->rx_addr[i]);
      kept++;
    }
    s->received += (uint64_t)kept;
    if (kept > 0) deliver_batch(s, kept, e->scratch);
    if (r < BATCH) return;
  }
}

void on_poll(uv_poll_t *h, int status, int events) {
  udp_sock *s = (udp_sock *)h->data;
  if (s->closed) return;
  if (status < 0) {
    s->recv_errors++;
    note_error(s, -status, NULL, "poll");
  } else {
    if (events & UV_WRITABLE) flush_queue(s);
    if (events & UV_READABLE) receive_batches(s);
  }
  deliver_errors(s);
}

void on_prepare(uv_prepare_t *h) {
  udp_sock *s = (udp_sock *)h->data;
  if (s->closed) return;
  /* while blocked on EAGAIN the poll's POLLOUT drives the flush */
  if (!(s->poll_events & UV_WRITABLE)) flush_queue(s);
  if (s->q_count == 0 || (s->poll_events & UV_WRITABLE)) {
    uv_prepare_stop(&s->prepare);
    s->prepare_active = 0;
  }
  deliver_errors(s);
}

void set_poll(udp_sock *s, int events) {
  if (s->closed || s->poll_events == events) return;
  s->poll_events = events;
  uv_poll_start(&s->poll, events, on_poll);
}

/* ---------------------------------------------------------------- close and teardown */

static void list_remove(udp_sock *s) {
  if (s->prev) s->prev->next = s->next;
  else if (s->e->open_list == s) s->e->open_list = s->next;
  if (s->next) s->next->prev = s->prev;
  s->next = s->prev = NULL;
}

/* stop the handles before the fd goes away (libuv requires the poll closed first) */
void sock_shutdown(udp_sock *s) {
  if (s->closed) return;
  /* first take this socket's scheduled datagrams away from the pacer thread, so it never sends on the fd once closed */
  pacer_forget_sock(s);
  s->closed = 1;
  list_remove(s);
  /* the I/O thread goes before the fd it reads */
  io_stop(s);
  uv_poll_stop(&s->poll);
  uv_prepare_stop(&s->prepare);
  uv_close((uv_handle_t *)&s->poll, on_handle_closed);
  uv_close((uv_handle_t *)&s->prepare, on_handle_closed);
  close(s->fd);
  s->fd = -1;
  s->dropped += s->q_count;
  s->q_count = 0;
  s->q_head = 0;
  s->arena_len = 0;
}

void release_js_refs(udp_sock *s) {
  napi_env env = s->e->env;
  s->release_pending = 0;
  if (s->on_batch) napi_delete_reference(env, s->on_batch);
  if (s->on_error) napi_delete_reference(env, s->on_error);
  if (s->self_ref) napi_delete_reference(env, s->self_ref);
  if (s->actx) napi_async_destroy(env, s->actx);
  s->on_batch = s->on_error = s->self_ref = NULL;
  s->actx = NULL;
}

/* the thread's environment is going away: close what is still open; node-api frees the references */
