/* The guest agent's bridge (agent/): a host-side port (the agent's TAP)
 * joined to a netfront's queues, and, when the guest has them, to its
 * direct channels.  The one piece of code that combines the netfront
 * (xnv/netfront.h), the channels (xnv/idc.h) and a port (xnv/port.h). */
#ifndef XNV_NF_BRIDGE_H
#define XNV_NF_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

struct xnv_idc;
struct xnv_netfront;
struct xnv_port;

/* One thread per queue moving frames port <-> rings with virtio-net
 * headers.  The port gets one queue per netfront queue. */
struct xnv_nf_bridge;
struct xnv_nf_bridge *xnv_nf_bridge_start(struct xnv_netfront *nf, struct xnv_port *port,
                                          char *err, size_t errlen);
/* After xnv_nf_ctrl_process(): carry carrier and the backend's offloads over
 * to the port. */
void xnv_nf_bridge_sync(struct xnv_nf_bridge *b);
struct xnv_nf_bridge_stats {
    uint64_t to_port, to_port_dropped;     /* frames from the rings */
    uint64_t from_port, from_port_dropped; /* frames from the port */
};
void xnv_nf_bridge_stats(const struct xnv_nf_bridge *b, struct xnv_nf_bridge_stats *out);
/* Direct channels (xnv/idc.h): frames for a peer with a live channel take
 * it; what the channels receive goes to the port (queue 0), from a thread
 * of the bridge that also runs the channels' control plane.  Once, after
 * start; the set must outlive the bridge.  0 or -errno (err). */
int xnv_nf_bridge_set_channels(struct xnv_nf_bridge *b, struct xnv_idc *idc, char *err, size_t errlen);
/* Frames each queue holds for peers whose ring is full while it goes on
 * with other destinations (default and most XNV_NF_BRIDGE_MAX_HOLD); with
 * 0 the port is not read while a frame waits for a channel. */
#define XNV_NF_BRIDGE_MAX_HOLD 48u
void xnv_nf_bridge_set_hold(struct xnv_nf_bridge *b, unsigned frames);
/* The nice value of the bridge's threads, those running and those to come
 * (default XNV_DATA_PATH_NICE of xnv/thread.h: ahead of the guest's
 * processes, as its kernel's network drivers run); a value the process may
 * not take leaves the threads as they are. */
void xnv_nf_bridge_set_nice(struct xnv_nf_bridge *b, int nice_value);
void xnv_nf_bridge_stop(struct xnv_nf_bridge *b);

#endif
