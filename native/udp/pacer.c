/*
 * sendAt(): datagrams that leave at a given time, sent by one native thread per process.
 *
 * Why: prompt audio goes out as one RTP packet per call every 20 ms. When the JS thread sends
 * them from a timer, any stall of that thread (GC, call setup) is a gap the caller hears. The
 * media engine instead hands each packet over some way ahead with its due time, and this
 * thread sends it then, whatever the JS thread is doing.
 *
 * Shape: one min-heap of entries ordered by (due time, call order) for all the sockets of all
 * threads of the process; the thread sleeps on a CLOCK_MONOTONIC condition variable until the
 * earliest entry is due, rounded up to PACE_GRAIN_NS so that many calls whose packets are due a
 * few microseconds apart cost one wakeup, not one each. Entries are never sent early.
 *
 * Two locks, always taken in this order when both are needed:
 *   send_mu: held by the pacer thread from taking a due batch off the heap until it has been
 *            sent, and by cancel/close/teardown while they remove a socket's entries. So once
 *            close has its entries out, nothing sends on that fd again (it may be closed and its
 *            number reused). It also guards what the pacer thread writes into a socket (counts,
 *            errors) and the per-thread lists of sockets with errors.
 *   mu:      the heap, the free list, the per-socket waiting counts. Enqueueing takes only this
 *            one, so a JS thread never waits for a batch of sends to finish.
 * The pacer thread never calls into JS: a refused send is written into the socket's
 * pace_errors, the socket is listed on its thread's udp_env, and that thread's uv_async_t is
 * signalled; the async callback (on the socket's own thread) moves the errors into the usual
 * pending-error path, and the prepare handle hands them to JS on the next loop turn.
 *
 * Lifetime: the thread starts with the first sendAt of the first JS thread that uses it, and
 * is stopped and joined when the last such thread's environment is torn down (its sockets are
 * closed first, so the heap is empty by then).
 */
#include "udp.h"
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>

/* entries with at most this many bytes are kept on a free list for reuse; larger ones are malloc'd each time */
#define PACE_SMALL 512
#define PACE_FREE_MAX 4096
/* how much nicer than the process the JS threads are than the pacer thread, where allowed */
#define PACE_NICE_BOOST 10
/* a datagram sent this late or later is counted (pacerStats) */
#define PACE_LATE_NS 20000000u
/* a delay beyond this (about 24.8 days, as for setTimeout) is refused */
#define PACE_MAX_DELAY_MS 2147483647.0

typedef struct pace_entry {
  udp_sock *s;
  struct pace_entry *next_free;
  union {
    struct sockaddr sa;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
  } to;
  socklen_t to_len;
  uint32_t len;
  int small;
  unsigned char bytes[];
} pace_entry;

/* the heap holds the ordering key next to the pointer, so sifting reads no entry */
typedef struct {
  uint64_t due;
  uint64_t seq;
  pace_entry *pe;
} pace_slot;

static struct {
  /* taken only to start or stop the thread (first sendAt of a JS thread, teardown of one) */
  pthread_mutex_t life;
  pthread_mutex_t send_mu;
  pthread_mutex_t mu;
  pthread_cond_t cond;
  int cond_ready;
  pthread_t thread;
  int running;
  int stop;
  int users;
  /* heap[0] is the earliest entry */
  pace_slot *heap;
  size_t n, cap;
  uint64_t seq;
  pace_entry *free_list;
  size_t free_count;
  /* what the thread sent and how late (under mu) */
  uint64_t sent_total, late_count;
  uint64_t late_max_ns;
  int boosted;
} P = {
  .life = PTHREAD_MUTEX_INITIALIZER,
  .send_mu = PTHREAD_MUTEX_INITIALIZER,
  .mu = PTHREAD_MUTEX_INITIALIZER,
};

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- entries and the heap (under mu) */

static void entry_release(pace_entry *pe) {
  if (pe->small && P.free_count < PACE_FREE_MAX) {
    pe->next_free = P.free_list;
    P.free_list = pe;
    P.free_count++;
  } else {
    free(pe);
  }
}

static pace_entry *small_entry_take(void) {
  pace_entry *pe = P.free_list;
  if (pe != NULL) {
    P.free_list = pe->next_free;
    P.free_count--;
    return pe;
  }
  pe = malloc(sizeof *pe + PACE_SMALL);
  if (pe != NULL) pe->small = 1;
  return pe;
}

static int earlier(const pace_slot *a, const pace_slot *b) {
  return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void sift_up(size_t i) {
  pace_slot slot = P.heap[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!earlier(&slot, &P.heap[parent])) break;
    P.heap[i] = P.heap[parent];
    i = parent;
  }
  P.heap[i] = slot;
}

static void sift_down(size_t i) {
  pace_slot slot = P.heap[i];
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= P.n) break;
    if (child + 1 < P.n && earlier(&P.heap[child + 1], &P.heap[child])) child++;
    if (!earlier(&P.heap[child], &slot)) break;
    P.heap[i] = P.heap[child];
    i = child;
  }
  P.heap[i] = slot;
}

static pace_entry *heap_pop(void) {
  pace_entry *top = P.heap[0].pe;
  P.n--;
  if (P.n > 0) {
    P.heap[0] = P.heap[P.n];
    sift_down(0);
  }
  return top;
}

/* take every waiting entry of `s` out of the heap (send_mu and mu held); returns how many */
static uint32_t remove_sock_entries(udp_sock *s) {
  if (s->pace_waiting == 0) return 0;
  size_t kept = 0;
  uint32_t removed = 0;
  for (size_t i = 0; i < P.n; i++) {
    if (P.heap[i].pe->s == s) {
      entry_release(P.heap[i].pe);
      removed++;
    } else {
      P.heap[kept++] = P.heap[i];
    }
  }
  P.n = kept;
  for (size_t i = P.n / 2; i-- > 0;) sift_down(i);
  s->pace_waiting = 0;
  return removed;
}

/* ---------------------------------------------------------------- the pacer thread */

/* a refused datagram: keep the error for the socket's thread and list the socket there (send_mu held) */
static void note_pace_error(udp_sock *s, int err, const pace_entry *pe) {
  s->pace_send_errors++;
  if (s->pace_error_count < MAX_PENDING_ERRORS) {
    pending_error *e = &s->pace_errors[s->pace_error_count++];
    struct sockaddr_storage to;
    memset(&to, 0, sizeof to);
    memcpy(&to, &pe->to, pe->to_len);
    e->err = err;
    e->syscall = "sendmmsg";
    format_address(&to, e->address, sizeof e->address, &e->port);
  }
  if (!s->pace_err_listed) {
    s->pace_err_listed = 1;
    s->pace_err_next = s->e->pace_err_head;
    s->e->pace_err_head = s;
  }
}

/* send a run of entries of one socket with as few sendmmsg calls as the kernel allows (send_mu held) */
static void send_run(pace_entry **run, unsigned n) {
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  udp_sock *s = run[0]->s;
  for (unsigned i = 0; i < n; i++) {
    iov[i].iov_base = run[i]->bytes;
    iov[i].iov_len = run[i]->len;
    memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
    msgs[i].msg_hdr.msg_name = &run[i]->to;
    msgs[i].msg_hdr.msg_namelen = run[i]->to_len;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  unsigned off = 0;
  while (off < n) {
    int r = sendmmsg(s->fd, msgs + off, n - off, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r > 0) {
      s->pace_sent += (uint64_t)r;
      off += (unsigned)r;
      continue;
    }
    int err = r < 0 ? errno : EIO;
    if (err == EINTR) continue;
    /* the first datagram left was not taken: a full socket buffer drops it (this is real-time
       traffic: late is as bad as lost), anything else is a send error for the handler */
    if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) s->pace_dropped++;
    else note_pace_error(s, err, run[off]);
    off++;
  }
}

static void send_batch(pace_entry **batch, unsigned k) {
  udp_env *signal_envs[BATCH];
  unsigned n_envs = 0;
  for (unsigned i = 0; i < k;) {
    unsigned j = i + 1;
    while (j < k && batch[j]->s == batch[i]->s) j++;
    udp_sock *s = batch[i]->s;
    int had = s->pace_err_listed;
    send_run(batch + i, j - i);
    if (!had && s->pace_err_listed) {
      unsigned e = 0;
      while (e < n_envs && signal_envs[e] != s->e) e++;
      if (e == n_envs) signal_envs[n_envs++] = s->e;
    }
    i = j;
  }
  /* still under send_mu: the env's teardown takes it before closing the async handle */
  for (unsigned e = 0; e < n_envs; e++) {
    if (signal_envs[e]->pace_async != NULL) uv_async_send(signal_envs[e]->pace_async);
  }
}

static void *pacer_main(void *arg) {
  (void)arg;
  pace_entry *batch[BATCH];
  /* shows in top -H and /proc/PID/task/TID/comm */
  pthread_setname_np(pthread_self(), "opencx-pacer");
  /* best effort: run ahead of this process's busy JS threads when the CPU is short (going below
     the process's own nice needs CAP_SYS_NICE; without it the thread keeps the process's nice) */
  int boosted = 0;
  /* first choice: the lowest real-time priority. A sleeping SCHED_FIFO thread preempts every
     normal thread the moment it wakes (a nice value only weighs it against them, and in the
     kernel's per-session groups against its own process only); it sleeps most of the time, and
     the kernel's real-time throttling caps it at 95 % of a CPU should it ever spin. */
  struct sched_param rt = {.sched_priority = 1};
  if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &rt) == 0) {
    boosted = 2;
  } else {
    errno = 0;
    int base = getpriority(PRIO_PROCESS, 0);
    if (errno == 0) {
      int want = base - PACE_NICE_BOOST < -20 ? -20 : base - PACE_NICE_BOOST;
      boosted = setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), want) == 0 && want < base;
    }
  }
  pthread_mutex_lock(&P.mu);
  P.boosted = boosted;
  while (!P.stop) {
    if (P.n == 0) {
      pthread_cond_wait(&P.cond, &P.mu);
      continue;
    }
    uint64_t due = P.heap[0].due;
    if (due > mono_ns()) {
      uint64_t wake = (due + PACE_GRAIN_NS - 1) / PACE_GRAIN_NS * PACE_GRAIN_NS;
      struct timespec ts = {.tv_sec = (time_t)(wake / 1000000000u), .tv_nsec = (long)(wake % 1000000000u)};
      pthread_cond_timedwait(&P.cond, &P.mu, &ts);
      continue;
    }
    /* lock order: send_mu before mu; the heap may have changed while mu was let go */
    pthread_mutex_unlock(&P.mu);
    pthread_mutex_lock(&P.send_mu);
    pthread_mutex_lock(&P.mu);
    uint64_t now = mono_ns();
    unsigned k = 0;
    while (k < BATCH && P.n > 0 && P.heap[0].due <= now) {
      uint64_t late = now - P.heap[0].due;
      if (late > P.late_max_ns) P.late_max_ns = late;
      if (late >= PACE_LATE_NS) P.late_count++;
      P.sent_total++;
      pace_entry *pe = heap_pop();
      pe->s->pace_waiting--;
      batch[k++] = pe;
    }
    pthread_mutex_unlock(&P.mu);
    if (k > 0) send_batch(batch, k);
    pthread_mutex_unlock(&P.send_mu);
    pthread_mutex_lock(&P.mu);
    for (unsigned i = 0; i < k; i++) entry_release(batch[i]);
  }
  pthread_mutex_unlock(&P.mu);
  return NULL;
}

/* ---------------------------------------------------------------- per JS thread */

static void on_pace_async(uv_async_t *h) {
  udp_env *e = (udp_env *)h->data;
  pthread_mutex_lock(&P.send_mu);
  while (e->pace_err_head != NULL) {
    udp_sock *s = e->pace_err_head;
    e->pace_err_head = s->pace_err_next;
    s->pace_err_next = NULL;
    s->pace_err_listed = 0;
    for (int i = 0; i < s->pace_error_count && s->error_count < MAX_PENDING_ERRORS; i++) s->errors[s->error_count++] = s->pace_errors[i];
    s->pace_error_count = 0;
    /* listed sockets are open: closing one unlists it under send_mu */
    start_prepare(s);
  }
  pthread_mutex_unlock(&P.send_mu);
}

static void free_handle(uv_handle_t *h) {
  free(h);
}

/* the first sendAt of this JS thread: its async handle, and the thread if it is not running */
static int pacer_join_env(udp_env *e) {
  uv_async_t *a = malloc(sizeof *a);
  if (a == NULL) return ENOMEM;
  if (uv_async_init(e->loop, a, on_pace_async) != 0) {
    free(a);
    return EAGAIN;
  }
  a->data = e;
  /* errors to deliver must not keep the loop alive by themselves (the open socket does) */
  uv_unref((uv_handle_t *)a);
  int err = 0;
  pthread_mutex_lock(&P.life);
  if (!P.cond_ready) {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&P.cond, &attr);
    pthread_condattr_destroy(&attr);
    P.cond_ready = 1;
  }
  if (!P.running) {
    /* the thread takes no signals: they stay with Node's threads */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    P.stop = 0;
    err = pthread_create(&P.thread, NULL, pacer_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err == 0) P.running = 1;
  }
  if (err == 0) P.users++;
  pthread_mutex_unlock(&P.life);
  if (err != 0) {
    uv_close((uv_handle_t *)a, free_handle);
    return err;
  }
  e->pace_async = a;
  e->pace_user = 1;
  return 0;
}

/* this thread's environment is going away and its sockets are closed (their entries gone) */
void pacer_env_gone(udp_env *e) {
  if (!e->pace_user) return;
  e->pace_user = 0;
  pthread_mutex_lock(&P.send_mu);
  e->pace_err_head = NULL;
  uv_async_t *a = e->pace_async;
  e->pace_async = NULL;
  pthread_mutex_unlock(&P.send_mu);
  uv_close((uv_handle_t *)a, free_handle);
  pthread_mutex_lock(&P.life);
  if (--P.users == 0 && P.running) {
    pthread_mutex_lock(&P.mu);
    P.stop = 1;
    pthread_cond_signal(&P.cond);
    pthread_mutex_unlock(&P.mu);
    pthread_join(P.thread, NULL);
    P.running = 0;
    pthread_mutex_lock(&P.mu);
    while (P.free_list != NULL) {
      pace_entry *pe = P.free_list;
      P.free_list = pe->next_free;
      free(pe);
    }
    P.free_count = 0;
    if (P.n == 0) {
      free(P.heap);
      P.heap = NULL;
      P.cap = 0;
    }
    pthread_mutex_unlock(&P.mu);
  }
  pthread_mutex_unlock(&P.life);
}

/* close or teardown of a socket: its waiting datagrams are dropped, its undelivered errors forgotten */
void pacer_forget_sock(udp_sock *s) {
  if (!s->pace_used) return;
  pthread_mutex_lock(&P.send_mu);
  pthread_mutex_lock(&P.mu);
  uint32_t removed = remove_sock_entries(s);
  pthread_mutex_unlock(&P.mu);
  if (s->pace_err_listed) {
    udp_sock **link = &s->e->pace_err_head;
    while (*link != NULL && *link != s) link = &(*link)->pace_err_next;
    if (*link == s) *link = s->pace_err_next;
    s->pace_err_next = NULL;
    s->pace_err_listed = 0;
  }
  s->pace_error_count = 0;
  pthread_mutex_unlock(&P.send_mu);
  s->dropped += removed;
}

void pacer_counts(udp_sock *s, uint64_t *sent, uint64_t *send_errors, uint64_t *dropped, uint32_t *waiting) {
  *sent = *send_errors = *dropped = 0;
  *waiting = 0;
  if (!s->pace_used) return;
  pthread_mutex_lock(&P.send_mu);
  pthread_mutex_lock(&P.mu);
  *sent = s->pace_sent;
  *send_errors = s->pace_send_errors;
  *dropped = s->pace_dropped;
  *waiting = s->pace_waiting;
  pthread_mutex_unlock(&P.mu);
  pthread_mutex_unlock(&P.send_mu);
}

/* ---------------------------------------------------------------- methods */

static napi_value boolean(napi_env env, bool b) {
  napi_value r;
  napi_get_boolean(env, b, &r);
  return r;
}

/* sendAt(data, port, address, delayMs): boolean (false = dropped: closed, over the limit, no memory); throws on bad arguments */
napi_value m_send_at(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  udp_sock *s = unwrap_sock(env, info, &argc, argv);
  if (s == NULL) return NULL;
  if (argc < 4) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "sendAt(data, port, address, delayMs)");
    return NULL;
  }
  double delay;
  napi_valuetype t;
  if (napi_typeof(env, argv[3], &t) != napi_ok || t != napi_number || napi_get_value_double(env, argv[3], &delay) != napi_ok ||
      !__builtin_isfinite(delay) || delay > PACE_MAX_DELAY_MS) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "delayMs must be a finite number of milliseconds, at most 2147483647");
    return NULL;
  }
  void *data = NULL;
  size_t length = 0;
  int ok = take_datagram_args(env, s, argv, &data, &length);
  if (ok < 0) return NULL;
  if (ok == 0) {
    s->dropped++;
    return boolean(env, false);
  }
  if (!s->e->pace_user) {
    int err = pacer_join_env(s->e);
    if (err != 0) {
      char msg[128];
      snprintf(msg, sizeof msg, "cannot start the send pacer thread: %s", strerror(err));
      napi_throw_error(env, "EUDP", msg);
      return NULL;
    }
  }
  s->pace_used = 1;
  uint64_t due = mono_ns();
  if (delay > 0) {
    /* rounded up: never before the time asked for */
    double ns = delay * 1e6;
    uint64_t whole = (uint64_t)ns;
    due += whole + ((double)whole < ns ? 1 : 0);
  }
  /* a large datagram is copied before the lock is taken; a small one goes into a reused entry */
  pace_entry *big = NULL;
  if (length > PACE_SMALL) {
    big = malloc(sizeof *big + length);
    if (big == NULL) {
      s->dropped++;
      return boolean(env, false);
    }
    big->small = 0;
    memcpy(big->bytes, data, length);
  }
  pthread_mutex_lock(&P.mu);
  pace_entry *pe = NULL;
  if (s->pace_waiting < s->pace_limit) {
    if (P.n == P.cap) {
      size_t cap = P.cap ? P.cap * 2 : 256;
      pace_slot *h = realloc(P.heap, cap * sizeof *h);
      if (h != NULL) {
        P.heap = h;
        P.cap = cap;
      }
    }
    if (P.n < P.cap) pe = big != NULL ? big : small_entry_take();
  }
  if (pe == NULL) {
    pthread_mutex_unlock(&P.mu);
    free(big);
    s->dropped++;
    return boolean(env, false);
  }
  if (big == NULL && length > 0) memcpy(pe->bytes, data, length);
  pe->s = s;
  pe->len = (uint32_t)length;
  memcpy(&pe->to, &s->last_sa, s->last_sa_len);
  pe->to_len = s->last_sa_len;
  P.heap[P.n++] = (pace_slot){.due = due, .seq = P.seq++, .pe = pe};
  sift_up(P.n - 1);
  s->pace_waiting++;
  /* the thread sleeps until the earliest entry; only a new earliest one changes that */
  if (P.heap[0].pe == pe) pthread_cond_signal(&P.cond);
  pthread_mutex_unlock(&P.mu);
  return boolean(env, true);
}

/* cancelScheduled(): number of this socket's datagrams taken back before they left */
napi_value m_cancel_scheduled(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  udp_sock *s = unwrap_sock(env, info, &argc, NULL);
  if (s == NULL) return NULL;
  uint32_t removed = 0;
  if (s->pace_used) {
    pthread_mutex_lock(&P.send_mu);
    pthread_mutex_lock(&P.mu);
    removed = remove_sock_entries(s);
    pthread_mutex_unlock(&P.mu);
    pthread_mutex_unlock(&P.send_mu);
  }
  napi_value r;
  napi_create_uint32(env, removed, &r);
  return r;
}

/* pacerStats(): what the process's pacer thread has sent, how many went 20 ms or more after their time, the latest one (ms), and how its priority was raised ('realtime', 'nice' or 'none') */
napi_value m_pacer_stats(napi_env env, napi_callback_info info) {
  (void)info;
  pthread_mutex_lock(&P.mu);
  double sent = (double)P.sent_total, late = (double)P.late_count, max_ms = (double)P.late_max_ns / 1e6;
  int boosted = P.boosted;
  pthread_mutex_unlock(&P.mu);
  napi_value o, v;
  napi_create_object(env, &o);
  napi_create_double(env, sent, &v);
  napi_set_named_property(env, o, "sent", v);
  napi_create_double(env, late, &v);
  napi_set_named_property(env, o, "late", v);
  napi_create_double(env, max_ms, &v);
  napi_set_named_property(env, o, "maxLateMs", v);
  napi_create_string_utf8(env, boosted == 2 ? "realtime" : boosted == 1 ? "nice" : "none", NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, o, "priority", v);
  return o;
}
