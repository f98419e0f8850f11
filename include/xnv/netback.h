/* The netback engine behind xnv-netbackd: serves every backend/vif device
 * the toolstack creates in this domain, one data-path thread per queue.
 *
 * The control plane (xenstore watches, the xenbus state machine) runs in the
 * caller's thread through xnv_netback_process(); it never blocks on a guest. */
#ifndef XNV_NETBACK_H
#define XNV_NETBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "xnv/hv.h"
#include "xnv/port.h"

struct xnv_netback;

/* Opens the host-side port of a vif named ifname (a TAP by default): creates
 * it, or attaches to it again when it exists (a persistent one left by a
 * previous run). */
typedef struct xnv_port *(*xnv_port_factory)(void *arg, const char *ifname,
                                             char *err, size_t errlen);

struct xnv_netback_config {
    unsigned max_queues;          /* multi-queue-max-queues advertised (1..16) */
    unsigned stall_timeout_ms;    /* guest posts no RX buffers: carrier off after this */
    unsigned rx_queue_frames;     /* frames held per queue while the guest has no buffers */
    /* How often the control plane looks at one guest's device once it has
     * used a burst of 32 looks (a connect takes under ten): a guest that
     * writes its state in a loop, or breaks the protocol and reconnects at
     * once, gets its looks spread out at this rate instead of costing dom0
     * (xenstored and this service) what it asks.  0: no limit. */
    unsigned device_looks_per_s;
    /* A vif closed with an error (a protocol violation, keys refused at
     * connect) offers InitWait again no sooner than this after: a frontend
     * that breaks the protocol and starts over in a loop makes dom0 map,
     * bind and start threads for it at most this often.  0: at once. */
    unsigned fail_hold_ms;
    /* Bridges (comma-separated) on which frames between two vifs served here
     * go guest to guest by one grant copy, bypassing the bridge and so its
     * filtering (ebtables/nftables bridge rules do not see them).  NULL: none. */
    const char *fastpath_bridges;
    /* Bridges (comma-separated) on which guests that ask for direct channels
     * (device/vif/N/request-xnv-channels = 1) learn which other such guests
     * they may reach directly: backend/vif/<dom>/<dev>/xnv-peers/<domid> =
     * <mac>.  Frames on those channels bypass the bridge too.  NULL: none. */
    const char *channel_bridges;
    /* Offer split event channels (one per ring)?  Off by default: one
     * thread serves both rings of a queue, so one channel lets a pass that
     * answered both notify once (one hypercall, one guest interrupt); on
     * the rig that cut the notifications per frame by 40-45 % both ways. */
    bool split_event_channels;
    /* Move a busy queue's buffers to pages this domain grants to itself, so
     * that copies to and from guests pin no local page (gntalloc needed;
     * netback/arena.c).  On by default; off: local pages, pinned per copy. */
    bool self_granted_arenas;
    xnv_port_factory open_port;   /* NULL: TAP devices */
    void *port_arg;
    /* Whether the host has an interface of that name (to find a TAP that the
     * hotplug script renamed to the vif's vifname).  NULL: the host's
     * interfaces with TAP devices, none with an open_port of its own. */
    bool (*port_exists)(void *arg, const char *ifname);
    /* Called for every log line (level as syslog's LOG_*), mostly from the
     * control thread, rarely from a queue's data-path thread; NULL: stderr. */
    void (*log)(void *arg, int level, const char *msg);
    void *log_arg;
};
void xnv_netback_config_default(struct xnv_netback_config *cfg);

/* Start serving: watches backend/vif under this domain's home. */
struct xnv_netback *xnv_netback_new(struct xnv_hv *hv, const struct xnv_netback_config *cfg,
                                    char *err, size_t errlen);
/* Readable when the control plane has work (xenstore watch events). */
int xnv_netback_fd(struct xnv_netback *nb);
/* Handle every pending event; never blocks.  Returns the number handled. */
int xnv_netback_process(struct xnv_netback *nb);
/* Stop serving and free.  Devices are closed properly: data paths stopped,
 * grants unmapped, event channels unbound, interfaces removed; and, when
 * close_guests is set, frontends see the backend go Closed.  Without it the
 * xenstore state and the interfaces are left as they are so that a restarted
 * service resumes every live guest where it stood (its rings included). */
void xnv_netback_shutdown(struct xnv_netback *nb, bool close_guests);
/* Same as xnv_netback_shutdown(nb, true). */
void xnv_netback_free(struct xnv_netback *nb);
/* Free the engine as the kernel frees a process killed by SIGKILL: the
 * queue threads end (after the batch in hand), grant mappings, event
 * channels and watches go, ports are closed as they are (a persistent TAP
 * stays), and nothing at all is written to xenstore.  For tests of what a
 * restarted service finds after a crash. */
void xnv_netback_abandon(struct xnv_netback *nb);

/* ---- observation (control socket, tests) -------------------------------- */

struct xnv_queue_stats {
    uint64_t tx_packets, tx_bytes, tx_drops, tx_errors;   /* guest -> host */
    uint64_t rx_packets, rx_bytes, rx_drops, rx_errors;   /* host -> guest */
    uint64_t notify_sent, notify_recv;
    uint64_t copy_calls, copy_segments;
    uint64_t stalls;
    uint64_t fastpath_packets;    /* sent guest to guest by the switch fast path */
    uint64_t idle_loops;          /* passes of the queue's thread that found no work
                                   * (a count racing ahead of the traffic: a busy-wait) */
    uint64_t copy_granted;        /* copy segments whose local side was a self-granted
                                   * page (nothing pinned) */
    uint64_t rx_ahead;            /* frames to the guest placed while an older frame for
                                   * the same queue still waited (small frames of idle
                                   * flows, rx_order.c) */
    uint64_t port_empty_reads;    /* reads of the host interface that found nothing */
    uint64_t port_reads_skipped;  /* reads left out: the interface's count said it
                                   * was empty (a TAP's doorbell, xnv/port.h) */
};

struct xnv_vif_info {
    xnv_domid_t domid;
    unsigned devid;
    char ifname[16];
    int state;                    /* backend xenbus state */
    unsigned queues;
    uint32_t features;            /* negotiated XNV_F_* */
    bool carrier;
    bool broken;                  /* disconnected after a protocol violation */
    uint8_t mac[6];
};

/* Number of vifs; fills up to max infos. */
unsigned xnv_netback_list(struct xnv_netback *nb, struct xnv_vif_info *out, unsigned max);
/* Sum over the vif's queues (queue == -1) or one queue; 0 or -ENOENT. */
int xnv_netback_stats(struct xnv_netback *nb, xnv_domid_t domid, unsigned devid, int queue,
                      struct xnv_queue_stats *out);

/* ---- the local control socket (xnvctl) ------------------------------------ */

#define XNV_CONTROL_DEFAULT "/run/xnv/netbackd.sock"
/* Listening socket at path (its directory is created); fd or -errno. */
int xnv_netback_control_listen(const char *path);

/* One service per domain: a second one would take the first one's control
 * socket and, finding the guests' devices connected, attach a second data
 * path to their rings.  Take the lock at path for the life of the process:
 * its descriptor (kept open), or -1 with the reason in err when another
 * service holds it after wait_ms (one that is still exiting gets that long
 * to let go), or -2 with the reason when the lock file cannot be opened at
 * all, so that nothing can be told either way (netback/instance_lock.c). */
#define XNV_NETBACK_LOCK_PATH "/run/xnv/netbackd.lock"
int xnv_netback_instance_lock(const char *path, unsigned wait_ms, char *err, size_t errlen);
/* Accept and answer one client: "list" (JSON: every vif with its state,
 * queues, features and statistics), "text list", "text stats" (tables). */
void xnv_netback_control_serve(int lfd, struct xnv_netback *nb);

#endif
