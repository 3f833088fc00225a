/*
 * A socket's own I/O thread (open({ ioThread: true })): recvmmsg and sendmmsg leave the JS thread.
 *
 * Why: a SIP server on one JS thread spends a fifth of that thread in the kernel at 12,000
 * REGISTER/s, most of it in sendmmsg, which on loopback also runs the receiver's side of the
 * stack. With this thread the JS thread only copies datagrams in and out of two queues; the
 * syscalls run on another core when one is free.
 *
 * The thread, per socket:
 *   - sends what JS handed over (tx, filled by io_handoff at the end of each loop turn);
 *   - reads batches into rx and wakes the JS loop (uv_async_send coalesces wake-ups);
 *   - sleeps in poll() on the socket and an eventfd. JS writes the eventfd only when the thread
 *     said it is about to sleep (`sleeping`), so a busy thread costs JS no syscall per turn.
 *
 * Backpressure: while rx holds more than RX_LIMIT bytes JS has not taken, the thread stops
 * reading and the kernel's receive buffer takes the excess (and counts its drops as usual).
 * When tx is a whole queue (queueLimit entries or QUEUE_BYTES_LIMIT) behind, io_handoff refuses
 * and JS sends inline, as the thread-less socket does.
 *
 * Locking: `mu` guards rx, tx, the counters and the error list. The thread never touches JS or
 * the udp_sock fields other than `fd` (closed only after the thread is joined); of libuv it
 * calls only uv_async_send, the one call libuv allows from another thread.
 */
#include "udp.h"
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/eventfd.h>

/* bytes received and not yet taken by JS before the thread stops reading */
#define RX_LIMIT (8u * 1024u * 1024u)

struct io_thread {
  pthread_t tid;
  int wake_fd;
  pthread_mutex_t mu;
  atomic_int sleeping;
  atomic_int stop;
  int rx_blocked;
  uv_async_t async;
  /* rx: datagrams back to back in rx_data; META_WORDS words each in rx_meta (offset into rx_data) */
  unsigned char *rx_data;
  size_t rx_len, rx_cap;
  uint32_t *rx_meta;
  uint32_t rx_count, rx_meta_cap;
  /* tx: entries handed over by JS, bytes in tx_arena */
  tx_entry *tx_q;
  uint32_t tx_count, tx_cap;
  unsigned char *tx_arena;
  size_t tx_len, tx_arena_cap;
  uint64_t received, sent, send_errors, recv_errors, dropped;
  pending_error errors[MAX_PENDING_ERRORS];
  int error_count;
  /* the thread's own receive area */
  unsigned char *scratch;
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_storage addr[BATCH];
};

static int grow(void **p, size_t *cap, size_t need, size_t unit) {
  if (need <= *cap) return 1;
  size_t c = *cap ? *cap : 64;
  while (c < need) c *= 2;
  void *n = realloc(*p, c * unit);
  if (n == NULL) return 0;
  *p = n;
  *cap = c;
  return 1;
}

static void io_note_error(io_thread *io, int err, const struct sockaddr_storage *to, const char *syscall) {
  record_error(io->errors, &io->error_count, err, to, syscall);
}

static void wake_thread(io_thread *io) {
  uint64_t one = 1;
  ssize_t r;
  do {
    r = write(io->wake_fd, &one, sizeof one);
  } while (r < 0 && errno == EINTR);
}

/* ---------------------------------------------------------------- the thread */

/* what the thread is sending: taken from tx in one piece, sent, and given back empty */
typedef struct {
  tx_entry *q;
  uint32_t head, count, cap;
  unsigned char *arena;
  size_t arena_cap;
} tx_batch;

static void swap_tx(io_thread *io, tx_batch *b) {
  tx_entry *q = io->tx_q;
  uint32_t cap = io->tx_cap;
  unsigned char *arena = io->tx_arena;
  size_t arena_cap = io->tx_arena_cap;
  io->tx_q = b->q;
  io->tx_cap = b->cap;
  io->tx_arena = b->arena;
  io->tx_arena_cap = b->arena_cap;
  b->q = q;
  b->cap = cap;
  b->arena = arena;
  b->arena_cap = arena_cap;
  b->head = 0;
  b->count = io->tx_count;
  io->tx_count = 0;
  io->tx_len = 0;
}

/* 1 when the socket would block (wait for POLLOUT) with entries left in b */
static int send_batch(io_thread *io, int fd, tx_batch *b) {
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  int blocked = 0;
  while (b->count > 0) {
    uint32_t n = b->count < BATCH ? b->count : BATCH;
    fill_tx_msgs(msgs, iov, &b->q[b->head], b->arena, n);
    /* counted before the call: the receiver (another thread, maybe this process) may see the
       datagrams before this thread would get to count them; corrected below for what did not leave */
    pthread_mutex_lock(&io->mu);
    io->sent += n;
    pthread_mutex_unlock(&io->mu);
    int r = sendmmsg(fd, msgs, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    uint32_t left = r > 0 ? n - (uint32_t)r : n;
    if (left > 0) {
      pthread_mutex_lock(&io->mu);
      io->sent -= left;
      pthread_mutex_unlock(&io->mu);
    }
    if (r > 0) {
      b->head += (uint32_t)r;
      b->count -= (uint32_t)r;
      continue;
    }
    int err = r < 0 ? errno : EIO;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      blocked = 1;
      break;
    }
    /* the first datagram was refused: count and report it, go on with the rest */
    pthread_mutex_lock(&io->mu);
    io->send_errors++;
    io_note_error(io, err, &b->q[b->head].addr, "sendmmsg");
    pthread_mutex_unlock(&io->mu);
    b->head++;
    b->count--;
  }
  return blocked;
}

/* read until the socket is empty or rx is full; 1 when JS has something new */
static int receive(io_thread *io, int fd) {
  int delivered = 0;
  for (;;) {
    pthread_mutex_lock(&io->mu);
    int full = io->rx_len >= RX_LIMIT;
    if (full) io->rx_blocked = 1;
    pthread_mutex_unlock(&io->mu);
    if (full) return delivered;
    for (int i = 0; i < BATCH; i++) {
      io->msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
      io->msgs[i].msg_hdr.msg_flags = 0;
      io->msgs[i].msg_hdr.msg_controllen = 0;
    }
    int r = recvmmsg(fd, io->msgs, BATCH, MSG_DONTWAIT, NULL);
    if (r < 0) {
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) return delivered;
      if (err == EINTR) continue;
      /* a queued ICMP error (ECONNREFUSED...) is reported once; reading goes on after the poll */
      pthread_mutex_lock(&io->mu);
      io->recv_errors++;
      io_note_error(io, err, NULL, "recvmmsg");
      pthread_mutex_unlock(&io->mu);
      return 1;
    }
    size_t bytes = 0;
    for (int i = 0; i < r; i++) bytes += io->msgs[i].msg_len;
    pthread_mutex_lock(&io->mu);
    size_t meta_cap = io->rx_meta_cap;
    int ok = grow((void **)&io->rx_data, &io->rx_cap, io->rx_len + bytes, 1) &&
             grow((void **)&io->rx_meta, &meta_cap, ((size_t)io->rx_count + (size_t)r) * META_WORDS, sizeof(uint32_t));
    io->rx_meta_cap = (uint32_t)meta_cap;
    for (int i = 0; i < r; i++) {
      struct msghdr *h = &io->msgs[i].msg_hdr;
      if (!ok || (h->msg_flags & MSG_TRUNC)) {
        io->dropped++;
        continue;
      }
      uint32_t len = io->msgs[i].msg_len;
      memcpy(io->rx_data + io->rx_len, io->scratch + (size_t)i * SLOT, len);
      fill_meta(&io->rx_meta[(size_t)io->rx_count * META_WORDS], (uint32_t)io->rx_len, len, &io->addr[i]);
      io->rx_len += len;
      io->rx_count++;
      io->received++;
    }
    pthread_mutex_unlock(&io->mu);
    delivered = 1;
    if (r < BATCH) return delivered;
  }
}

static void *io_main(void *arg) {
  udp_sock *s = (udp_sock *)arg;
  io_thread *io = s->io;
  int fd = s->fd;
  pthread_setname_np(pthread_self(), "opencx-udp-io");
  tx_batch b = {0};
  int blocked = 0;
  for (;;) {
    int stopping = atomic_load(&io->stop);
    /* what a full socket buffer held back leaves first, then what JS handed over since */
    if (!blocked && b.count > 0) blocked = send_batch(io, fd, &b);
    if (!blocked) {
      pthread_mutex_lock(&io->mu);
      int have = io->tx_count > 0;
      if (have) swap_tx(io, &b);
      pthread_mutex_unlock(&io->mu);
      if (have) blocked = send_batch(io, fd, &b);
    }
    if (stopping) break;
    if (receive(io, fd)) uv_async_send(&io->async);
    /* about to sleep: say so, then look once more for work handed over meanwhile */
    atomic_store(&io->sleeping, 1);
    pthread_mutex_lock(&io->mu);
    int errors = io->error_count > 0;
    int pending = (!blocked && io->tx_count > 0) || errors;
    int rx_blocked = io->rx_blocked;
    pthread_mutex_unlock(&io->mu);
    if (errors) uv_async_send(&io->async);
    if ((!blocked && pending && !errors) || atomic_load(&io->stop)) {
      atomic_store(&io->sleeping, 0);
      continue;
    }
    struct pollfd pfd[2];
    pfd[0].fd = fd;
    pfd[0].events = (short)((rx_blocked ? 0 : POLLIN) | (blocked ? POLLOUT : 0));
    pfd[0].revents = 0;
    pfd[1].fd = io->wake_fd;
    pfd[1].events = POLLIN;
    pfd[1].revents = 0;
    int r = poll(pfd, 2, -1);
    atomic_store(&io->sleeping, 0);
    if (r > 0 && (pfd[1].revents & POLLIN)) {
      uint64_t v;
      ssize_t n = read(io->wake_fd, &v, sizeof v);
      (void)n;
    }
    if (r > 0 && (pfd[0].revents & POLLOUT)) blocked = 0;
  }
  /* what could not leave before the stop is dropped */
  if (b.count > 0) {
    pthread_mutex_lock(&io->mu);
    io->dropped += b.count;
    pthread_mutex_unlock(&io->mu);
  }
  free(b.q);
  free(b.arena);
  return NULL;
}

/* ---------------------------------------------------------------- the JS thread's side */

/* rx handed to JS in batches of at most BATCH datagrams through the thread's shared area */
static void on_async(uv_async_t *h) {
  udp_sock *s = (udp_sock *)h->data;
  io_thread *io = s->io;
  if (s->closed || io == NULL) return;
  pthread_mutex_lock(&io->mu);
  unsigned char *data = io->rx_data;
  uint32_t *meta = io->rx_meta;
  uint32_t count = io->rx_count;
  size_t data_cap = io->rx_cap;
  uint32_t meta_cap = io->rx_meta_cap;
  /* the thread fills a fresh pair while JS reads this one */
  io->rx_data = s->io_spare_data;
  io->rx_cap = s->io_spare_data_cap;
  io->rx_meta = s->io_spare_meta;
  io->rx_meta_cap = s->io_spare_meta_cap;
  /* the spare pair is the thread's now; this one comes back as the spare once delivered */
  s->io_spare_data = NULL;
  s->io_spare_meta = NULL;
  s->io_spare_data_cap = 0;
  s->io_spare_meta_cap = 0;
  io->rx_len = 0;
  io->rx_count = 0;
  int was_blocked = io->rx_blocked;
  io->rx_blocked = 0;
  for (int i = 0; i < io->error_count && s->error_count < MAX_PENDING_ERRORS; i++) s->errors[s->error_count++] = io->errors[i];
  io->error_count = 0;
  pthread_mutex_unlock(&io->mu);
  if (was_blocked) wake_thread(io);

  udp_env *e = s->e;
  uint32_t done = 0;
  while (done < count && !s->closed) {
    uint32_t n = count - done < BATCH ? count - done : BATCH;
    memcpy(e->meta, &meta[(size_t)done * META_WORDS], (size_t)n * META_WORDS * sizeof(uint32_t));
    if (s->batch_buffers) {
      /* deliver_batch copies the bytes straight from the receive area into the batch's Buffer */
      deliver_batch(s, (int)n, data);
    } else {
      /* JS copies each datagram out of the shared scratch area: the bytes go there first */
      size_t off = 0;
      for (uint32_t i = 0; i < n; i++) {
        uint32_t *m = &e->meta[(size_t)i * META_WORDS];
        memcpy(e->scratch + off, data + m[0], m[1]);
        m[0] = (uint32_t)off;
        off += m[1];
      }
      deliver_batch(s, (int)n, e->scratch);
    }
    done += n;
  }
  if (s->io == NULL) {
    /* closed from a handler: the thread is gone, and with it the need for a spare */
    free(data);
    free(meta);
  } else {
    s->io_spare_data = data;
    s->io_spare_data_cap = data_cap;
    s->io_spare_meta = meta;
    s->io_spare_meta_cap = meta_cap;
  }
  deliver_errors(s);
}

int io_start(udp_sock *s) {
  io_thread *io = calloc(1, sizeof *io);
  if (io == NULL) return ENOMEM;
  io->scratch = malloc((size_t)BATCH * SLOT);
  if (io->scratch == NULL) {
    free(io);
    return ENOMEM;
  }
  init_rx_msgs(io->msgs, io->iov, io->addr, io->scratch);
  io->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (io->wake_fd < 0) {
    int err = errno;
    free(io->scratch);
    free(io);
    return err;
  }
  pthread_mutex_init(&io->mu, NULL);
  uv_async_init(s->e->loop, &io->async, on_async);
  io->async.data = s;
  s->refs++;
  s->io = io;
  /* signals stay with the JS thread: the I/O thread is created with all of them blocked */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int err = pthread_create(&io->tid, NULL, io_main, s);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (err != 0) {
    s->io = NULL;
    /* the handle is closed by the caller's shutdown path through io_async_handle() being NULL: close it here */
    uv_close((uv_handle_t *)&io->async, on_handle_closed);
    close(io->wake_fd);
    pthread_mutex_destroy(&io->mu);
    free(io->scratch);
    /* io itself is freed once the async handle has closed: it lives inside io */
    s->io_orphan = io;
    return err;
  }
  return 0;
}

/*
 * JS's send queue moves to the thread: called where the thread-less socket would flush. 0 when
 * the thread is already a whole queue behind: the caller then sends inline, as the thread-less
 * socket would, so a starved thread costs speed, never datagrams the kernel would have taken.
 */
int io_handoff(udp_sock *s) {
  io_thread *io = s->io;
  if (s->q_count == 0) return 1;
  uint32_t first = s->q[s->q_head].off;
  size_t bytes = s->arena_len - first;
  pthread_mutex_lock(&io->mu);
  size_t arena_cap = io->tx_arena_cap;
  size_t q_cap = io->tx_cap;
  int fits = io->tx_count + s->q_count <= s->q_limit && io->tx_len + bytes <= QUEUE_BYTES_LIMIT &&
             grow((void **)&io->tx_arena, &arena_cap, io->tx_len + bytes + 1, 1) &&
             grow((void **)&io->tx_q, &q_cap, (size_t)io->tx_count + s->q_count, sizeof(tx_entry));
  io->tx_arena_cap = arena_cap;
  io->tx_cap = (uint32_t)q_cap;
  if (fits) {
    memcpy(io->tx_arena + io->tx_len, s->arena + first, bytes);
    for (uint32_t i = 0; i < s->q_count; i++) {
      tx_entry *d = &io->tx_q[io->tx_count++];
      *d = s->q[s->q_head + i];
      d->off = (uint32_t)(io->tx_len + (d->off - first));
    }
    io->tx_len += bytes;
  }
  pthread_mutex_unlock(&io->mu);
  if (!fits) return 0;
  s->q_head = 0;
  s->q_count = 0;
  s->arena_len = 0;
  if (atomic_load(&io->sleeping)) wake_thread(io);
  return 1;
}

/* stops and joins the thread; the fd stays open for the caller to close */
void io_stop(udp_sock *s) {
  io_thread *io = s->io;
  if (io == NULL) return;
  atomic_store(&io->stop, 1);
  wake_thread(io);
  pthread_join(io->tid, NULL);
  close(io->wake_fd);
  pthread_mutex_destroy(&io->mu);
  s->received += io->received;
  s->sent += io->sent;
  s->send_errors += io->send_errors;
  s->recv_errors += io->recv_errors;
  /* received and not delivered, handed over and not sent: both dropped */
  s->dropped += io->dropped + io->rx_count + io->tx_count;
  free(io->scratch);
  free(io->rx_data);
  free(io->rx_meta);
  free(io->tx_q);
  free(io->tx_arena);
  free(s->io_spare_data);
  free(s->io_spare_meta);
  s->io_spare_data = NULL;
  s->io_spare_meta = NULL;
  s->io = NULL;
  /* io (which holds the async handle) is freed when the handle has closed */
  s->io_orphan = io;
  uv_close((uv_handle_t *)&io->async, on_handle_closed);
}

void io_counts(udp_sock *s, uint64_t *received, uint64_t *sent, uint64_t *send_errors, uint64_t *recv_errors, uint64_t *dropped, uint32_t *queued) {
  io_thread *io = s->io;
  *received = *sent = *send_errors = *recv_errors = *dropped = 0;
  *queued = 0;
  if (io == NULL) return;
  pthread_mutex_lock(&io->mu);
  *received = io->received;
  *sent = io->sent;
  *send_errors = io->send_errors;
  *recv_errors = io->recv_errors;
  *dropped = io->dropped;
  *queued = io->tx_count;
  pthread_mutex_unlock(&io->mu);
}
