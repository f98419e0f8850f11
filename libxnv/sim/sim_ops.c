/* The simulated hypervisor's dispatch table (see hv_impl.h). */
#include "sim_internal.h"

const struct xnv_hv_ops sim_hv_ops = {
    .kind = "sim",
    .close = sim_hv_close,
    .gnt_copy = sim_gnt_copy,
    .gnt_map = sim_gnt_map,
    .gnt_unmap = sim_gnt_unmap,
    .gnt_share = sim_gnt_share,
    .gnt_unshare = sim_gnt_unshare,

    .evtchn_open = sim_evtchn_open,
    .evtchn_close = sim_evtchn_close,
    .evtchn_fd = sim_evtchn_fd,
    .evtchn_bind_unbound = sim_evtchn_bind_unbound,
    .evtchn_bind_interdomain = sim_evtchn_bind_interdomain,
    .evtchn_unbind = sim_evtchn_unbind,
    .evtchn_notify = sim_evtchn_notify,
    .evtchn_pending = sim_evtchn_pending,
    .evtchn_unmask = sim_evtchn_unmask,
    .evtchn_stale = sim_evtchn_stale,

    .xs_read = sim_xs_read,
    .xs_write = sim_xs_write,
    .xs_mkdir = sim_xs_mkdir,
    .xs_rm = sim_xs_rm,
    .xs_directory = sim_xs_directory,
    .xs_get_perms = sim_xs_get_perms,
    .xs_set_perms = sim_xs_set_perms,
    .xs_watch = sim_xs_watch,
    .xs_unwatch = sim_xs_unwatch,
    .xs_watch_fd = sim_xs_watch_fd,
    .xs_read_watch = sim_xs_read_watch,
    .xs_tx_start = sim_xs_tx_start,
    .xs_tx_end = sim_xs_tx_end,
    .xs_domain_path = sim_xs_domain_path,

    .dom_info = sim_dom_info,
    .dom_list = sim_dom_list,
};
