/*
 * Shared by the parts of the opencx UDP addon: io.c (the socket, its send queue and the libuv
 * callbacks that move datagrams), udp.c (the JS-facing module: options, methods, open) and
 * pacer.c (sendAt: datagrams sent at their due time by one native thread per process).
 */
#ifndef OPENCX_UDP_H
#define OPENCX_UDP_H
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SO_ATTACH_REUSEPORT_CBPF
#define SO_ATTACH_REUSEPORT_CBPF 51
#endif

/* datagrams per recvmmsg/sendmmsg call */
#define BATCH 64
/* one receive slot holds the largest UDP payload */
#define SLOT 65536
/* words of metadata per received datagram: offset, length, port, family, address (4 words) */
#define META_WORDS 8
/* full batches read per wakeup before other handles get their turn (the poll is level-triggered) */
#define MAX_ROUNDS 8
/* errors kept for the error callback between two deliveries; more are only counted */
#define MAX_PENDING_ERRORS 16
#define DEFAULT_QUEUE_LIMIT 4096
#define QUEUE_BYTES_LIMIT (8u * 1024u * 1024u)
#define MAX_DATAGRAM 65535u
#define DEFAULT_SCHEDULE_LIMIT 4096
/* the pacer thread wakes on this grain: datagrams due within one grain leave together, none early */
#define PACE_GRAIN_NS 1000000u

typedef struct udp_env udp_env;
typedef struct udp_sock udp_sock;
typedef struct io_thread io_thread;

typedef struct {
  struct sockaddr_storage addr;
  socklen_t addr_len;
  uint32_t off;
  uint32_t len;
} tx_entry;

typedef struct {
  int err;
  uint16_t port;
  char address[INET6_ADDRSTRLEN];
  const char *syscall;
} pending_error;

struct udp_env {
  napi_env env;
  uv_loop_t *loop;
  /* receive area shared by the sockets of this thread: a batch is handed to JS before the next is read */
  unsigned char *scratch;
  napi_ref scratch_ref;
  uint32_t *meta;
  napi_ref meta_ref;
  struct mmsghdr rx_msgs[BATCH];
  struct iovec rx_iov[BATCH];
  struct sockaddr_storage rx_addr[BATCH];
  napi_ref ctor;
  udp_sock *open_list;
  /* pacer (pacer.c): set on this thread's first sendAt; the async handle wakes this loop when the
     pacer thread has errors for one of its sockets, listed in pace_err_head (pacer send lock) */
  int pace_user;
  uv_async_t *pace_async;
  udp_sock *pace_err_head;
};

struct udp_sock {
  udp_env *e;
  int fd;
  int family;
  int closed;
  int refs;
  int batch_buffers;
  int poll_events;
  int prepare_active;
  /* calls into JS under way for this socket; close() from inside one defers freeing the JS side */
  int in_callback;
  int release_pending;
  uv_poll_t poll;
  uv_prepare_t prepare;
  napi_ref self_ref;
  napi_ref on_batch;
  napi_ref on_error;
  napi_async_context actx;
  /* send queue: entries[head .. head+count) with their bytes in arena */
  tx_entry *q;
  uint32_t q_head, q_count, q_cap, q_limit;
  unsigned char *arena;
  size_t arena_len, arena_cap;
  /* the last destination parsed, so a steady peer costs no inet_pton */
  char last_text[INET6_ADDRSTRLEN];
  size_t last_text_len;
  uint32_t last_port;
  struct sockaddr_storage last_sa;
  socklen_t last_sa_len;
  pending_error errors[MAX_PENDING_ERRORS];
  int error_count;
  uint64_t received, sent, send_errors, recv_errors, dropped;
  udp_sock *next, *prev;
  /* sendAt (pacer.c). pace_used and pace_limit belong to the socket's thread; pace_waiting is
     guarded by the pacer's queue lock; the rest by its send lock (the pacer thread writes them) */
  int pace_used;
  uint32_t pace_limit;
  uint32_t pace_waiting;
  uint64_t pace_sent, pace_send_errors, pace_dropped;
  pending_error pace_errors[MAX_PENDING_ERRORS];
  int pace_error_count;
  int pace_err_listed;
  udp_sock *pace_err_next;
  /* iothread.c: set when the socket has its own I/O thread; io_orphan is the stopped thread's
     struct, freed with the socket (its async handle closes after the thread is gone); the spare
     pair is the receive area the thread fills next */
  io_thread *io;
  io_thread *io_orphan;
  unsigned char *io_spare_data;
  size_t io_spare_data_cap;
  uint32_t *io_spare_meta;
  uint32_t io_spare_meta_cap;
};

/* io.c */
int parse_address(int family, const char *text, uint32_t port, struct sockaddr_storage *sa, socklen_t *len);
void format_address(const struct sockaddr_storage *sa, char *out, size_t out_len, uint16_t *port);
void init_rx_msgs(struct mmsghdr *msgs, struct iovec *iov, struct sockaddr_storage *addr, unsigned char *scratch);
void fill_meta(uint32_t *m, uint32_t off, uint32_t len, const struct sockaddr_storage *sa);
void fill_tx_msgs(struct mmsghdr *msgs, struct iovec *iov, tx_entry *q, unsigned char *arena, uint32_t n);
void sock_unref(udp_sock *s);
void on_handle_closed(uv_handle_t *h);
void note_error(udp_sock *s, int err, const struct sockaddr_storage *to, const char *syscall);
void record_error(pending_error *list, int *count, int err, const struct sockaddr_storage *to, const char *syscall);
void start_prepare(udp_sock *s);
void set_poll(udp_sock *s, int events);
int queue_reserve(udp_sock *s, uint32_t len);
void flush_queue(udp_sock *s);
void on_poll(uv_poll_t *h, int status, int events);
void on_prepare(uv_prepare_t *h);
void sock_shutdown(udp_sock *s);
void release_js_refs(udp_sock *s);
void deliver_batch(udp_sock *s, int count, const unsigned char *base);
void deliver_errors(udp_sock *s);

/* udp.c */
udp_sock *unwrap_sock(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv);
int take_datagram_args(napi_env env, udp_sock *s, napi_value *argv, void **data, size_t *length);

/* iothread.c */
int io_start(udp_sock *s);
int io_handoff(udp_sock *s);
void io_stop(udp_sock *s);
void io_counts(udp_sock *s, uint64_t *received, uint64_t *sent, uint64_t *send_errors, uint64_t *recv_errors, uint64_t *dropped, uint32_t *queued);

/* pacer.c */
napi_value m_send_at(napi_env env, napi_callback_info info);
napi_value m_cancel_scheduled(napi_env env, napi_callback_info info);
napi_value m_pacer_stats(napi_env env, napi_callback_info info);
void pacer_forget_sock(udp_sock *s);
void pacer_env_gone(udp_env *e);
void pacer_counts(udp_sock *s, uint64_t *sent, uint64_t *send_errors, uint64_t *dropped, uint32_t *waiting);

#endif
