/* The xenbus state machine of the frontend, kept apart from the data path.
 *
 * Every watch event (on our device directory and on the backend's) leads
 * to one evaluation: read our state, the backend path and the backend's
 * state, and take the step the pair calls for.  Evaluations are idempotent,
 * so a flood of events costs one evaluation per batch.
 *
 * Without rings (NF_IDLE) the frontend walks the backend towards InitWait
 * the way Linux's netback expects: a backend still Connected to an earlier
 * instance is sent Closing, then Closed, then Initialising; at InitWait the
 * handshake runs.  With rings, a backend that leaves (Closing, Closed, gone)
 * makes the frontend revoke everything and start over; one that restarts
 * (InitWait again) is first sent Closing, so that it lets go of the rings it
 * may have attached to; a toolstack that rewrites our state (xl restore,
 * re-attach) also means starting over. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include "nf.h"

static const char *const xb_names[] = {
    "Unknown", "Initialising", "InitWait", "Initialised", "Connected", "Closing", "Closed",
    "Reconfiguring", "Reconfigured",
};

static const char *xb_name(int s)
{
    return s >= 0 && s < (int)(sizeof xb_names / sizeof xb_names[0]) ? xb_names[s] : "invalid";
}

static bool rings_up(const struct xnv_netfront *nf)
{
    return nf->phase == NF_WAIT_BACK || nf->phase == NF_CONNECTED || nf->phase == NF_CLOSING;
}

void nf_set_phase(struct xnv_netfront *nf, enum nf_phase p)
{
    nf->phase = p;
    int pub = p == NF_CONNECTED ? XNV_NF_CONNECTED
            : p == NF_BROKEN    ? XNV_NF_BROKEN
            : p == NF_REMOVED   ? XNV_NF_REMOVED : XNV_NF_CONNECTING;
    if (p != NF_CONNECTED)
        atomic_store(&nf->carrier, false);
    if (atomic_exchange(&nf->pub_state, pub) != pub)
        for (unsigned i = 0; i < nf->nq_want; i++)
            nf_queue_kick(&nf->q[i]);
}

static void arm_timer(struct xnv_netfront *nf, unsigned ms)
{
    struct itimerspec its = { .it_value = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L } };
    timerfd_settime(nf->ctrl_timerfd, 0, &its, NULL);
}

int nf_start_closing(struct xnv_netfront *nf, bool broken)
{
    nf->closing_broken = broken;
    nf->close_timed_out = false;
    nf_set_phase(nf, NF_CLOSING);
    arm_timer(nf, NF_CLOSE_WAIT_MS);
    return nf_xs_write_state(nf, XenbusStateClosing);
}

static void finish_closing(struct xnv_netfront *nf)
{
    arm_timer(nf, 0);
    nf_teardown(nf);
    nf_xs_write_state(nf, XenbusStateClosed);
    nf_set_phase(nf, nf->closing_broken ? NF_BROKEN : NF_IDLE);
}

static void note_failure(struct xnv_netfront *nf)
{
    if (++nf->fail_streak < NF_RETRY_FREE)
        return;
    unsigned shift = nf->fail_streak - NF_RETRY_FREE;
    uint64_t ms = shift >= 15 ? NF_RETRY_MAX_MS : 1000ull << shift;
    if (ms > NF_RETRY_MAX_MS)
        ms = NF_RETRY_MAX_MS;
    nf->retry_at_ns = xnv_now_ns() + ms * 1000000u;
}

/* After repeated failures: not yet (the timer wakes the control plane). */
static bool must_wait(struct xnv_netfront *nf)
{
    uint64_t now = xnv_now_ns();
    if (nf->fail_streak < NF_RETRY_FREE || now >= nf->retry_at_ns)
        return false;
    arm_timer(nf, (unsigned)((nf->retry_at_ns - now) / 1000000u) + 1);
    return true;
}

/* The backend left (or moved): revoke everything, tell it we are Closed. */
static void drop_connection(struct xnv_netfront *nf, bool write_closed)
{
    if (nf->phase == NF_WAIT_BACK)
        note_failure(nf);
    arm_timer(nf, 0);
    nf_teardown(nf);
    if (write_closed)
        nf_xs_write_state(nf, XenbusStateClosed);
    nf_set_phase(nf, NF_IDLE);
}

static void unwatch_backend(struct xnv_netfront *nf)
{
    if (nf->be_watched)
        xnv_xs_unwatch(nf->hv, nf->be_path, nf->tok_back);
    nf->be_watched = false;
    nf->be_path[0] = '\0';
}

/* Follow our `backend` / `backend-id` keys.  false when there is none. */
static bool follow_backend(struct xnv_netfront *nf)
{
    char *p = xnv_xs_read_key(nf->hv, XNV_XS_NO_TX, nf->dir, "backend", NULL);
    uint64_t id;
    bool ok = p && p[0] == '/' && strlen(p) < sizeof nf->be_path &&
              xnv_xs_read_uint(nf->hv, XNV_XS_NO_TX, nf->dir, "backend-id", DOMID_FIRST_RESERVED - 1,
                               &id) == 0;
    if (!ok) {
        if (p)
            nf_error(nf, "%s: unusable backend or backend-id key", nf->dir);
        free(p);
        if (rings_up(nf))
            drop_connection(nf, true);
        unwatch_backend(nf);
        return false;
    }
    if (strcmp(p, nf->be_path) != 0 || id != nf->be_dom) {
        if (rings_up(nf)) {
            xnv_nf_log(nf, LOG_NOTICE, "backend moved to %s: reconnecting", p);
            drop_connection(nf, true);
        }
        unwatch_backend(nf);
        snprintf(nf->be_path, sizeof nf->be_path, "%s", p);
        nf->be_dom = (xnv_domid_t)id;
        int rc = xnv_xs_watch(nf->hv, nf->be_path, nf->tok_back);
        nf->be_watched = rc == 0;
        if (rc < 0)
            nf_error(nf, "cannot watch %s: %s", nf->be_path, strerror(-rc));
    }
    free(p);
    return true;
}

static bool backend_flag(struct xnv_netfront *nf, const char *key, bool absent)
{
    uint64_t v;
    int rc = xnv_xs_read_uint(nf->hv, XNV_XS_NO_TX, nf->be_path, key, 1, &v);
    return rc == -ENOENT ? absent : rc == 0 && v == 1;
}

static const char *broken_queue(struct xnv_netfront *nf, unsigned *qi)
{
    for (unsigned i = 0; i < atomic_load(&nf->nq); i++) {
        if (atomic_load(&nf->q[i].broken)) {
            *qi = i;
            return nf->q[i].broken_why ? nf->q[i].broken_why : "protocol violation";
        }
    }
    return NULL;
}

/* No rings: lead the backend towards InitWait, connect there. */
static bool step_idle(struct xnv_netfront *nf, int bs)
{
    switch (bs) {
    case XenbusStateInitWait:
        if (must_wait(nf))
            return false;
        if (nf->my_state != XenbusStateInitialising &&
            nf_xs_write_state(nf, XenbusStateInitialising) < 0)
            return false;
        if (nf_connect(nf) < 0) {
            note_failure(nf);
            return false;
        }
        if (nf_xs_write_state(nf, XenbusStateConnected) < 0) {
            drop_connection(nf, false);
            return true;
        }
        nf_set_phase(nf, NF_WAIT_BACK);
        return true;
    case XenbusStateInitialising:
        if (nf->my_state != XenbusStateInitialising)
            nf_xs_write_state(nf, XenbusStateInitialising);
        return false;
    case XenbusStateConnected:          /* still attached to an earlier instance */
        if (nf->my_state != XenbusStateClosing)
            nf_xs_write_state(nf, XenbusStateClosing);
        return false;
    case XenbusStateClosing:
        if (nf->my_state != XenbusStateClosed)
            nf_xs_write_state(nf, XenbusStateClosed);
        return false;
    case XenbusStateClosed:
        /* online=0: the toolstack is removing the device; else ask again. */
        if (nf->my_state != XenbusStateInitialising && backend_flag(nf, "online", false) &&
            !must_wait(nf))
            nf_xs_write_state(nf, XenbusStateInitialising);
        return false;
    default:
        return false;
    }
}

/* Rings shared. */
static bool step_connected(struct xnv_netfront *nf, int bs)
{
    unsigned qi;
    const char *why = broken_queue(nf, &qi);
    if (why) {
        xnv_nf_log(nf, LOG_ERR, "queue %u: the backend broke the protocol (%s): disconnecting", qi, why);
        nf_start_closing(nf, true);
        return true;
    }
    switch (bs) {
    case XenbusStateConnected:
        if (nf->phase == NF_WAIT_BACK) {
            nf->fail_streak = 0;
            nf_set_phase(nf, NF_CONNECTED);
            xnv_nf_log(nf, LOG_INFO, "connected to %s", nf->be_path);
        }
        atomic_store(&nf->carrier, backend_flag(nf, "carrier", true));
        return false;
    case XenbusStateInitWait:
        if (nf->phase == NF_WAIT_BACK)
            return false;               /* it has not seen our Connected yet */
        /* A new backend instance.  It may have attached to our rings
         * already: close the way it understands, then start over. */
        xnv_nf_log(nf, LOG_NOTICE, "backend %s is in InitWait again (restarted?): reconnecting", nf->be_path);
        nf_start_closing(nf, false);
        return true;
    case XenbusStateUnknown:
    case XenbusStateInitialising:
    case XenbusStateClosing:
    case XenbusStateClosed:
        xnv_nf_log(nf, LOG_NOTICE, "backend %s went to %s: disconnecting", nf->be_path, xb_name(bs));
        drop_connection(nf, true);
        return true;
    default:
        return false;
    }
}

/* One step; true when another may follow at once. */
static bool step(struct xnv_netfront *nf)
{
    uint64_t fs;
    int rc = xnv_xs_read_uint(nf->hv, XNV_XS_NO_TX, nf->dir, "state", 255, &fs);
    if (rc < 0 && !xnv_xs_exists(nf->hv, XNV_XS_NO_TX, nf->dir, NULL)) {
        if (nf->phase != NF_REMOVED) {
            xnv_nf_log(nf, LOG_NOTICE, "%s was removed", nf->dir);
            arm_timer(nf, 0);
            nf_teardown(nf);
            unwatch_backend(nf);
            nf->my_state = XenbusStateUnknown;
            nf_set_phase(nf, NF_REMOVED);
        }
        return false;
    }
    if (nf->phase == NF_REMOVED) {
        xnv_nf_log(nf, LOG_NOTICE, "%s is back", nf->dir);
        nf->my_state = XenbusStateUnknown;
        nf_set_phase(nf, NF_IDLE);
    }
    int front = rc == 0 ? (int)fs : XenbusStateUnknown;
    if (nf->my_state != XenbusStateUnknown && front != nf->my_state) {
        /* Not our write: the toolstack reset the device (restore, re-attach). */
        xnv_nf_log(nf, LOG_NOTICE, "%s/state was set to %s from outside: starting over", nf->dir,
               xb_name(front));
        if (rings_up(nf))
            drop_connection(nf, false);
        nf->my_state = front;
        nf_set_phase(nf, NF_IDLE);
        return true;
    }
    nf->my_state = front;
    if (nf->shutdown && nf->phase != NF_CLOSING)
        return false;
    if (!follow_backend(nf))
        return false;
    int bs = nf_xs_backend_state(nf);
    nf->be_state = bs;
    switch (nf->phase) {
    case NF_IDLE:
        return step_idle(nf, bs);
    case NF_WAIT_BACK:
    case NF_CONNECTED:
        return step_connected(nf, bs);
    case NF_CLOSING:
        /* Wait until the backend has let go of the rings (Closing, Closed,
         * gone) or, at worst, the timeout. */
        if (bs == XenbusStateClosing || bs == XenbusStateClosed || bs == XenbusStateUnknown ||
            bs == XenbusStateInitialising || nf->close_timed_out) {
            if (nf->close_timed_out)
                xnv_nf_log(nf, LOG_WARNING, "backend %s did not answer our Closing in time (it is %s): "
                       "revoking anyway", nf->be_path, xb_name(bs));
            finish_closing(nf);
            return !nf->shutdown;
        }
        return false;
    default:
        return false;
    }
}

void nf_evaluate(struct xnv_netfront *nf)
{
    /* Each step either waits for the other side or moves on: a handful
     * of steps covers any sequence (e.g. IDLE -> connect). */
    for (int i = 0; i < 8 && step(nf); i++)
        ;
}
