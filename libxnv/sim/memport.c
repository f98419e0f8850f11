/* An in-memory port (see port.h): per-queue bounded frame queues in both
 * directions, with an eventfd per queue signalling frames for recv(). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "xnv/port.h"

struct frame {
    struct virtio_net_hdr vh;
    uint32_t len;
    uint8_t *data;
};

struct fifo {
    struct frame *f;
    unsigned head, count;
};

struct mq {
    struct fifo to_host, to_guest;
    int efd;                 /* readable while to_guest has frames */
};

struct memport {
    struct xnv_port port;
    pthread_mutex_t lock;
    unsigned depth;
    struct mq q[XNV_PORT_MAX_QUEUES];
    bool sink;
    bool counted, blind;
    struct frame source;
    uint64_t source_left;
    struct xnv_memport_stats st;
};

static int fifo_push(struct fifo *ff, unsigned depth, const struct virtio_net_hdr *vh,
                     const struct iovec *iov, unsigned iovcnt)
{
    if (ff->count == depth)
        return -EAGAIN;
    size_t len = 0;
    for (unsigned i = 0; i < iovcnt; i++)
        len += iov[i].iov_len;
    struct frame *fr = &ff->f[(ff->head + ff->count) % depth];
    uint8_t *d = realloc(fr->data, len ? len : 1);
    if (!d)
        return -ENOMEM;
    fr->data = d;
    for (unsigned i = 0; i < iovcnt; i++) {
        memcpy(d, iov[i].iov_base, iov[i].iov_len);
        d += iov[i].iov_len;
    }
    fr->vh = *vh;
    fr->len = (uint32_t)len;
    ff->count++;
    return 0;
}

static int fifo_pop(struct fifo *ff, unsigned depth, struct virtio_net_hdr *vh,
                    uint8_t *buf, uint32_t cap)
{
    if (ff->count == 0)
        return -EAGAIN;
    struct frame *fr = &ff->f[ff->head];
    if (fr->len > cap)
        return -EMSGSIZE;
    *vh = fr->vh;
    memcpy(buf, fr->data, fr->len);
    ff->head = (ff->head + 1) % depth;
    ff->count--;
    return (int)fr->len;
}

static void signal_fd(int fd, bool readable)
{
    uint64_t v;
    if (readable) {
        v = 1;
        if (write(fd, &v, sizeof v) < 0) { /* counter saturation only */ }
    } else if (read(fd, &v, sizeof v) < 0) { /* already clear */ }
}

static int mp_send(struct xnv_port *p, unsigned q, const struct virtio_net_hdr *vh,
                   const struct iovec *iov, unsigned iovcnt)
{
    struct memport *m = (struct memport *)p;
    int rc = 0;
    if (iovcnt > XNV_PORT_MAX_IOV)     /* what the TAP port takes */
        return -EINVAL;
    pthread_mutex_lock(&m->lock);
    if (m->sink) {
        for (unsigned i = 0; i < iovcnt; i++)
            m->st.sent_bytes += iov[i].iov_len;
        m->st.sent++;
    } else if ((rc = fifo_push(&m->q[q].to_host, m->depth, vh, iov, iovcnt)) == 0) {
        for (unsigned i = 0; i < iovcnt; i++)
            m->st.sent_bytes += iov[i].iov_len;
        m->st.sent++;
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static int mp_recv(struct xnv_port *p, unsigned q, struct virtio_net_hdr *vh,
                   uint8_t *buf, uint32_t cap)
{
    struct memport *m = (struct memport *)p;
    int rc;
    pthread_mutex_lock(&m->lock);
    if (m->source_left) {
        rc = m->source.len <= cap ? (int)m->source.len : -EMSGSIZE;
        if (rc > 0) {
            *vh = m->source.vh;
            memcpy(buf, m->source.data, m->source.len);
            m->source_left--;
        }
    } else {
        rc = fifo_pop(&m->q[q].to_guest, m->depth, vh, buf, cap);
        if (m->q[q].to_guest.count == 0)
            signal_fd(m->q[q].efd, false);
    }
    if (rc > 0)
        m->st.received++;
    else if (rc == -EAGAIN)
        m->st.empty_reads++;
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static int mp_fd(struct xnv_port *p, unsigned q) { return ((struct memport *)p)->q[q].efd; }

static int mp_backlog(struct xnv_port *p, unsigned q)
{
    struct memport *m = (struct memport *)p;
    pthread_mutex_lock(&m->lock);
    int n = !m->counted ? -1
          : m->blind ? 0
          : m->source_left ? (int)(m->source_left > 0x7fffffff ? 0x7fffffff : m->source_left)
          : (int)m->q[q].to_guest.count;
    pthread_mutex_unlock(&m->lock);
    return n;
}

static int mp_set_queues(struct xnv_port *p, unsigned n)
{
    if (n < 1 || n > XNV_PORT_MAX_QUEUES)
        return -EINVAL;
    p->nqueues = n;
    return 0;
}

static int mp_set_offload(struct xnv_port *p, uint32_t f)
{
    struct memport *m = (struct memport *)p;
    pthread_mutex_lock(&m->lock);
    m->st.offload = f;
    pthread_mutex_unlock(&m->lock);
    return 0;
}

static int mp_set_carrier(struct xnv_port *p, bool up)
{
    struct memport *m = (struct memport *)p;
    pthread_mutex_lock(&m->lock);
    m->st.carrier = up;
    pthread_mutex_unlock(&m->lock);
    return 0;
}

static int mp_set_persist(struct xnv_port *p, bool on)
{
    (void)p;
    (void)on;
    return 0;
}

static void mp_close(struct xnv_port *p)
{
    struct memport *m = (struct memport *)p;
    for (unsigned q = 0; q < XNV_PORT_MAX_QUEUES; q++) {
        for (unsigned i = 0; i < m->depth; i++) {
            free(m->q[q].to_host.f[i].data);
            free(m->q[q].to_guest.f[i].data);
        }
        free(m->q[q].to_host.f);
        free(m->q[q].to_guest.f);
        close(m->q[q].efd);
    }
    free(m->source.data);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static const struct xnv_port_ops memport_ops = {
    .send = mp_send, .recv = mp_recv, .fd = mp_fd, .set_queues = mp_set_queues,
    .set_offload = mp_set_offload, .set_carrier = mp_set_carrier, .set_persist = mp_set_persist,
    .close = mp_close, .backlog = mp_backlog,
};

struct xnv_port *xnv_memport_open(const char *name, unsigned depth)
{
    struct memport *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->port.ops = &memport_ops;
    snprintf(m->port.name, sizeof m->port.name, "%s", name);
    m->port.nqueues = 1;
    m->depth = depth ? depth : 1;
    m->st.carrier = true;
    pthread_mutex_init(&m->lock, NULL);
    for (unsigned q = 0; q < XNV_PORT_MAX_QUEUES; q++) {
        m->q[q].to_host.f = calloc(m->depth, sizeof(struct frame));
        m->q[q].to_guest.f = calloc(m->depth, sizeof(struct frame));
        m->q[q].efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (!m->q[q].to_host.f || !m->q[q].to_guest.f || m->q[q].efd < 0) {
            for (unsigned k = q + 1; k < XNV_PORT_MAX_QUEUES; k++)
                m->q[k].efd = -1;
            mp_close(&m->port);
            return NULL;
        }
    }
    return &m->port;
}

int xnv_memport_inject(struct xnv_port *p, unsigned q, const struct virtio_net_hdr *vh,
                       const uint8_t *frame, uint32_t len)
{
    struct memport *m = (struct memport *)p;
    struct iovec v = { (void *)frame, len };
    pthread_mutex_lock(&m->lock);
    int rc = fifo_push(&m->q[q].to_guest, m->depth, vh, &v, 1);
    if (rc == 0)
        signal_fd(m->q[q].efd, true);
    pthread_mutex_unlock(&m->lock);
    return rc;
}

int xnv_memport_take(struct xnv_port *p, unsigned q, struct virtio_net_hdr *vh,
                     uint8_t *buf, uint32_t cap)
{
    struct memport *m = (struct memport *)p;
    pthread_mutex_lock(&m->lock);
    int rc = fifo_pop(&m->q[q].to_host, m->depth, vh, buf, cap);
    pthread_mutex_unlock(&m->lock);
    return rc;
}

void xnv_memport_set_counted(struct xnv_port *p, bool counted, bool blind)
{
    struct memport *m = (struct memport *)p;
    pthread_mutex_lock(&m->lock);
    m->counted = counted;
    m->blind = blind;
    pthread_mutex_unlock(&m->lock);
}

void xnv_memport_set_sink(struct xnv_port *p, bool sink)
{
    struct memport *m = (struct memport *)p;
    pthread_mutex_lock(&m->lock);
    m->sink = sink;
    pthread_mutex_unlock(&m->lock);
}

void xnv_memport_set_source(struct xnv_port *p, const struct virtio_net_hdr *vh,
                            const uint8_t *frame, uint32_t len, uint64_t count)
{
    struct memport *m = (struct memport *)p;
    pthread_mutex_lock(&m->lock);
    uint8_t *d = realloc(m->source.data, len ? len : 1);
    if (d) {
        memcpy(d, frame, len);
        m->source = (struct frame){ .vh = *vh, .len = len, .data = d };
        m->source_left = count;
        for (unsigned q = 0; q < XNV_PORT_MAX_QUEUES; q++)
            signal_fd(m->q[q].efd, count > 0);
    }
    pthread_mutex_unlock(&m->lock);
}

void xnv_memport_stats(struct xnv_port *p, struct xnv_memport_stats *out)
{
    struct memport *m = (struct memport *)p;
    pthread_mutex_lock(&m->lock);
    *out = m->st;
    pthread_mutex_unlock(&m->lock);
}
