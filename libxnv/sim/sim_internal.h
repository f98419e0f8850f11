/* Private to the simulated hypervisor (libxnv/sim/sim_*.c).
 *
 * One mutex (xnv_sim.lock) guards every table below: domains, grant tables,
 * event channels and the xenstore.  The only work done outside it is moving
 * data in xnv_gnt_copy(), on grants pinned beforehand, and the copy hook.
 *
 * Domains are never removed from xnv_sim.doms (domids are not reused), so a
 * struct sim_dom stays valid until the whole simulation is freed; a destroyed
 * domain only drops its memory file once no other domain holds its pages. */
#ifndef XNV_SIM_INTERNAL_H
#define XNV_SIM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>
#include "../hv/hv_impl.h"
#include "xnv/sim.h"

#define SIM_MAX_DOMID           0x7FEFu  /* DOMID_FIRST_RESERVED - 1 */
#define SIM_DOM_MAX_PAGES       32768u   /* size of each domain's memory file */
#define SIM_GNT_FRAME_ENTRIES   512u     /* v1 entries in one grant-table frame */
#define SIM_GNT_MAX_ENTRIES     32768u   /* 64 frames, Xen's default maximum */
#define SIM_GNT_RESERVED        8u       /* refs 0-7 belong to the toolstack */
#define SIM_GNT_CONSOLE         0u       /* GNTTAB_RESERVED_CONSOLE */
#define SIM_GNT_XENSTORE        1u       /* GNTTAB_RESERVED_XENSTORE */
#define SIM_DEFAULT_SHARE_LIMIT 1024u    /* gntalloc's default `limit` */
#define SIM_EVTCHN_MAX_PORTS    4096u    /* 2-level event channel ABI */
#define SIM_XS_MAX_EVENTS       65536u   /* queued watch events per handle; more are dropped */
#define SIM_XS_MAX_TX           10u      /* open transactions per handle */
#define SIM_XS_MAX_WATCHES      128u     /* per handle, unprivileged domains */
#define SIM_XS_MAX_PERMS        256u

/* Grant-copy status codes, as Xen's acquire_grant_for_copy() reports them:
 * a ref beyond the table is bad_gntref, while a ref inside the table that is
 * not granted (never, or no longer), granted to another domain, or read-only
 * when written, is general_error. */
#define SIM_GNTST_NOT_GRANTED   GNTST_general_error
#define SIM_GNTST_WRONG_DOMAIN  GNTST_general_error
#define SIM_GNTST_READ_ONLY     GNTST_general_error

/* ---- grants ------------------------------------------------------------ */

enum { GNT_FREE = 0, GNT_ACTIVE, GNT_ENDED };

struct sim_grant {
    uint8_t state;
    bool readonly;
    bool shared;            /* still inside the owner's xnv_gnt_share() region */
    xnv_domid_t grantee;
    uint32_t page;          /* page index in the owner's memory file */
    uint32_t maps;          /* pages mapped by the grantee */
    uint32_t pins;          /* copies in flight */
};

enum { REGION_SHARE = 1, REGION_MAP };

/* A contiguous mapping handed to a caller by share or map. */
struct sim_region {
    struct sim_region *next;
    int kind;
    char *addr;
    unsigned n;
    bool detached;          /* domain destroyed: now private anonymous memory */
    xnv_domid_t peer;       /* grantee (share) or granting domain (map) */
    xnv_gref_t refs[];
};

/* ---- event channels ---------------------------------------------------- */

enum { PORT_FREE = 0, PORT_UNBOUND, PORT_INTERDOMAIN };

struct sim_evtchn;

struct sim_port {
    uint8_t state;
    bool pending;           /* latched while masked */
    bool masked;            /* returned by pending(), awaiting unmask */
    bool queued;            /* in the owner's ready queue */
    xnv_domid_t remote_dom;
    xnv_port_t remote_port;
    struct sim_evtchn *owner;
    xnv_port_t qnext;       /* next port of the ready queue, 0 = last */
};

struct sim_evtchn {
    struct xnv_evtchn base;
    struct xnv_sim *sim;
    struct sim_dom *dom;
    int efd;                /* eventfd, readable while the queue is non-empty */
    xnv_port_t qhead, qtail;
    unsigned incarnation;   /* of its domain when opened */
    char name[24];          /* "evtchn:<opening thread's name>", as Linux names its interrupts */
};

/* ---- domains ----------------------------------------------------------- */

struct sim_dom {
    xnv_domid_t id;
    bool alive;
    bool shutdown;          /* xnv_sim_domain_shutdown, until a resume */
    unsigned shutdown_reason;
    struct xnv_sim_counters ctr;

    /* memory: a sparse memfd and one mapping of all of it for copies */
    int memfd;
    char *mem;
    uint32_t next_page;
    uint32_t *free_pages;
    uint32_t nfree_pages, free_pages_cap;
    uint32_t live_pages;    /* allocated and not yet freed */
    uint32_t shared_pages;  /* inside share regions: what the limit counts */
    uint32_t share_limit;

    /* grant table */
    struct sim_grant *gnt;
    uint32_t gnt_cap, gnt_next;
    uint32_t *free_refs;
    uint32_t nfree_refs, free_refs_cap;

    struct sim_region *regions;

    /* event channels, indexed by port (0 is never used) */
    struct sim_port *ports;
    uint32_t nports;
    unsigned incarnation;   /* resumes so far (xnv_sim_domain_resume) */
};

/* ---- xenstore ---------------------------------------------------------- */

struct xs_node {
    char *name;
    struct xs_node *parent;
    struct xs_node **kids;
    unsigned nkids, kids_cap;
    char *value;
    unsigned vlen;
    struct xs_permissions *perms;
    unsigned nperms;
    uint64_t gen;           /* store generation of the last change */
};

struct sim_watch {
    struct sim_watch *next;
    uint64_t id;
    char *path;             /* absolute, or @special */
    char *given;            /* as registered (relative paths stay relative) */
    char *token;
    bool relative;
};

struct sim_wevent {
    struct sim_wevent *next;
    uint64_t watch_id;
    char **vec;             /* the block handed to the caller */
};

/* A transaction works on its own copy of the whole tree.  It notes the
 * generation of every node it touched (0 = absent) and logs its changes;
 * commit replays the log on the live tree if none of the noted nodes moved. */
struct xs_note {
    char *path;
    uint64_t gen;
};

enum { XS_OP_WRITE = 1, XS_OP_MKDIR, XS_OP_RM, XS_OP_PERMS };

struct xs_op {
    int kind;
    char *path;
    char *val;
    unsigned len;
    struct xs_permissions *perms;
    unsigned nperms;
};

struct sim_tx {
    struct sim_tx *next;
    xnv_xs_tx_t id;
    struct xs_node *root;
    struct xs_note *notes;
    unsigned nnotes, notes_cap;
    struct xs_op *ops;
    unsigned nops, ops_cap;
};

/* Where an operation applies: the live tree (tx NULL: changes bump
 * generations and fire watches) or a transaction's copy. */
struct xs_ctx {
    struct xnv_sim *sim;
    struct xs_node *root;
    struct sim_tx *tx;
    xnv_domid_t dom;
};

/* ---- handles and the simulation --------------------------------------- */

struct sim_hv {
    struct xnv_hv base;
    struct xnv_sim *sim;
    struct sim_dom *dom;
    struct sim_hv *prev, *next;     /* xnv_sim.handles */
    int watch_efd;
    struct sim_watch *watches;
    unsigned nwatches;
    struct sim_wevent *evq_head, *evq_tail;
    unsigned nevents;
    struct sim_tx *txs;
    unsigned ntx;
    xnv_xs_tx_t next_tx;
};

struct xnv_sim {
    pthread_mutex_t lock;
    unsigned refs;          /* 1 for the creator + one per open handle */
    struct sim_dom **doms;  /* indexed by domid, ndoms == next domid */
    unsigned ndoms, doms_cap;
    struct sim_hv *handles;
    xnv_sim_copy_hook hook;
    void *hook_arg;
    struct xs_node *xs_root;
    uint64_t xs_gen;
    uint64_t next_watch_id;
};

extern const struct xnv_hv_ops sim_hv_ops;

/* An eventfd used as a level: readable while something is queued. */
static inline void sim_efd_raise(int fd)
{
    uint64_t one = 1;
    ssize_t r = write(fd, &one, sizeof(one));
    (void)r;
}
static inline void sim_efd_clear(int fd)
{
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof(v));
    (void)r;
}

static inline struct sim_hv *sim_hv_of(struct xnv_hv *hv) { return (struct sim_hv *)hv; }
static inline struct sim_evtchn *sim_ch_of(struct xnv_evtchn *ch) { return (struct sim_evtchn *)ch; }

/* sim_core.c */
void sim_lock(struct xnv_sim *sim);
void sim_unlock(struct xnv_sim *sim);
/* Drops one reference; the last one frees the simulation.  Lock not held. */
void sim_put(struct xnv_sim *sim);
struct sim_dom *sim_dom_get(struct xnv_sim *sim, xnv_domid_t id);       /* any state */
struct sim_dom *sim_dom_alive(struct xnv_sim *sim, xnv_domid_t id);     /* live only */
void sim_hv_close(struct xnv_hv *hv);
int sim_dom_info(struct xnv_hv *hv, xnv_domid_t dom, struct xnv_dominfo *out);
int sim_dom_list(struct xnv_hv *hv, struct xnv_dominfo *out, unsigned max);

/* sim_mem.c: the domain memory file, page and grant-ref allocation */
int sim_mem_init(struct sim_dom *d);
void sim_mem_release(struct sim_dom *d);        /* frees memory file and tables */
int sim_page_alloc(struct sim_dom *d, uint32_t *page);
int sim_ref_alloc(struct sim_dom *d, xnv_gref_t *ref);
/* What libxl's xc_dom_gnttab_seed() leaves in a new guest's grant table:
 * its console ring (ref 0) and xenstore ring (ref 1), granted writable to
 * domain 0, where xenconsoled and xenstored run. */
int sim_seed_toolstack_grants(struct sim_dom *d);
/* Frees grant ref (and its page) once nobody holds it any more. */
void sim_grant_maybe_free(struct sim_dom *d, xnv_gref_t ref);
struct sim_grant *sim_grant_lookup(struct sim_dom *d, xnv_gref_t ref);  /* NULL if beyond table */

/* sim_grant.c */
void *sim_gnt_share(struct xnv_hv *hv, xnv_domid_t dom, unsigned n, xnv_gref_t *refs, bool writable);
int sim_gnt_unshare(struct xnv_hv *hv, void *addr, unsigned n);
void *sim_gnt_map(struct xnv_hv *hv, xnv_domid_t dom, const xnv_gref_t *refs, unsigned n, bool writable);
int sim_gnt_unmap(struct xnv_hv *hv, void *addr, unsigned n);
void sim_grant_domain_destroyed(struct xnv_sim *sim, struct sim_dom *d);
void sim_regions_free_all(struct sim_dom *d);   /* final teardown */

/* sim_gnt_copy.c */
int sim_gnt_copy(struct xnv_hv *hv, xengnttab_grant_copy_segment_t *segs, unsigned n);

/* sim_evtchn.c */
struct xnv_evtchn *sim_evtchn_open(struct xnv_hv *hv);
void sim_evtchn_close(struct xnv_evtchn *ch);
int sim_evtchn_fd(const struct xnv_evtchn *ch);
int sim_evtchn_bind_unbound(struct xnv_evtchn *ch, xnv_domid_t remote);
int sim_evtchn_bind_interdomain(struct xnv_evtchn *ch, xnv_domid_t remote, xnv_port_t rport);
int sim_evtchn_unbind(struct xnv_evtchn *ch, xnv_port_t port);
int sim_evtchn_notify(struct xnv_evtchn *ch, xnv_port_t port);
int sim_evtchn_pending(struct xnv_evtchn *ch);
int sim_evtchn_unmask(struct xnv_evtchn *ch, xnv_port_t port);
bool sim_evtchn_stale(struct xnv_evtchn *ch);
void sim_evtchn_domain_destroyed(struct xnv_sim *sim, struct sim_dom *d);
void sim_evtchn_domain_resumed(struct xnv_sim *sim, struct sim_dom *d);

/* sim_xs_tree.c: nodes, paths and permissions */
struct xs_node *sim_xs_node_new(const char *name, size_t len, struct xs_node *parent,
                            const struct xs_permissions *perms, unsigned nperms);
void sim_xs_node_free(struct xs_node *n);
struct xs_node *sim_xs_node_clone(const struct xs_node *n, struct xs_node *parent);
struct xs_node *sim_xs_lookup(const struct xs_node *root, const char *path, size_t len);
void sim_xs_node_unlink(struct xs_node *n);
unsigned sim_xs_access(const struct xs_node *n, xnv_domid_t dom);
int sim_xs_canon(xnv_domid_t dom, const char *path, bool allow_special, char **out, bool *relative);
bool sim_xs_is_under(const char *path, const char *top);    /* path at or below top */

/* sim_xs_watch.c */
void sim_xs_fire(struct xnv_sim *sim, const char *path, const struct xs_node *n, bool removed);
int sim_xs_watch(struct xnv_hv *hv, const char *path, const char *token);
int sim_xs_unwatch(struct xnv_hv *hv, const char *path, const char *token);
int sim_xs_watch_fd(struct xnv_hv *hv);
char **sim_xs_read_watch(struct xnv_hv *hv);
void sim_xs_watches_drop(struct sim_hv *h);

/* sim_xenstore.c: operations (live or inside a transaction) */
int sim_xs_init(struct xnv_sim *sim);
int sim_xs_sys_write(struct xnv_sim *sim, const char *path, const char *val);
int sim_xs_sys_rm(struct xnv_sim *sim, const char *path);
int sim_xs_sys_set_perms(struct xnv_sim *sim, const char *path, const struct xs_permissions *p, unsigned n);
char *sim_xs_read(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path, unsigned *len);
int sim_xs_write(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path, const void *val, unsigned len);
int sim_xs_mkdir(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path);
int sim_xs_rm(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path);
char **sim_xs_directory(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path, unsigned *num);
struct xs_permissions *sim_xs_get_perms(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path, unsigned *num);
int sim_xs_set_perms(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path,
                     const struct xs_permissions *perms, unsigned num);
char *sim_xs_domain_path(struct xnv_hv *hv, xnv_domid_t dom);

int sim_xs_do_write(struct xs_ctx *c, const char *path, const void *val, unsigned len);
int sim_xs_do_mkdir(struct xs_ctx *c, const char *path);
int sim_xs_do_rm(struct xs_ctx *c, const char *path);
int sim_xs_do_set_perms(struct xs_ctx *c, const char *path, const struct xs_permissions *p, unsigned n);

/* sim_xs_tx.c */
int sim_xs_tx_note(struct sim_tx *tx, const char *path, size_t len, const struct xs_node *n);
int sim_xs_tx_log(struct sim_tx *tx, int kind, const char *path, const void *val, unsigned len,
              const struct xs_permissions *perms, unsigned nperms);
struct sim_tx *sim_xs_tx_find(struct sim_hv *h, xnv_xs_tx_t id);
int sim_xs_tx_start(struct xnv_hv *hv, xnv_xs_tx_t *tx);
int sim_xs_tx_end(struct xnv_hv *hv, xnv_xs_tx_t tx, bool abort);
void sim_xs_tx_free_all(struct sim_hv *h);

#endif
