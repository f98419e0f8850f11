/* Xenstore transactions: a private copy of the tree, a note of the
 * generation of every node touched, and a log of changes replayed on the
 * live tree at commit (firing watches then) unless a noted node changed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "sim_internal.h"

int sim_xs_tx_note(struct sim_tx *tx, const char *path, size_t len, const struct xs_node *n)
{
    for (unsigned i = 0; i < tx->nnotes; i++)
        if (strlen(tx->notes[i].path) == len && memcmp(tx->notes[i].path, path, len) == 0)
            return 0;   /* the first look is the one that counts */
    if (tx->nnotes == tx->notes_cap) {
        unsigned cap = tx->notes_cap ? tx->notes_cap * 2 : 16;
        struct xs_note *nn = realloc(tx->notes, cap * sizeof(*nn));
        if (!nn)
            return -ENOMEM;
        tx->notes = nn;
        tx->notes_cap = cap;
    }
    char *p = strndup(path, len);
    if (!p)
        return -ENOMEM;
    tx->notes[tx->nnotes++] = (struct xs_note){ .path = p, .gen = n ? n->gen : 0 };
    return 0;
}

int sim_xs_tx_log(struct sim_tx *tx, int kind, const char *path, const void *val, unsigned len,
              const struct xs_permissions *perms, unsigned nperms)
{
    if (tx->nops == tx->ops_cap) {
        unsigned cap = tx->ops_cap ? tx->ops_cap * 2 : 8;
        struct xs_op *no = realloc(tx->ops, cap * sizeof(*no));
        if (!no)
            return -ENOMEM;
        tx->ops = no;
        tx->ops_cap = cap;
    }
    struct xs_op op = { .kind = kind, .len = len, .nperms = nperms };
    op.path = strdup(path);
    op.val = malloc(len ? len : 1);
    op.perms = nperms ? malloc(nperms * sizeof(*perms)) : NULL;
    if (!op.path || !op.val || (nperms && !op.perms)) {
        free(op.path);
        free(op.val);
        free(op.perms);
        return -ENOMEM;
    }
    if (len)
        memcpy(op.val, val, len);
    if (nperms)
        memcpy(op.perms, perms, nperms * sizeof(*perms));
    tx->ops[tx->nops++] = op;
    return 0;
}

static void tx_free(struct sim_tx *tx)
{
    sim_xs_node_free(tx->root);
    for (unsigned i = 0; i < tx->nnotes; i++)
        free(tx->notes[i].path);
    for (unsigned i = 0; i < tx->nops; i++) {
        free(tx->ops[i].path);
        free(tx->ops[i].val);
        free(tx->ops[i].perms);
    }
    free(tx->notes);
    free(tx->ops);
    free(tx);
}

struct sim_tx *sim_xs_tx_find(struct sim_hv *h, xnv_xs_tx_t id)
{
    for (struct sim_tx *tx = h->txs; tx; tx = tx->next)
        if (tx->id == id)
            return tx;
    return NULL;
}

void sim_xs_tx_free_all(struct sim_hv *h)
{
    while (h->txs) {
        struct sim_tx *tx = h->txs;
        h->txs = tx->next;
        tx_free(tx);
    }
    h->ntx = 0;
}

int sim_xs_tx_start(struct xnv_hv *hv, xnv_xs_tx_t *id)
{
    struct sim_hv *h = sim_hv_of(hv);
    int rc = 0;
    sim_lock(h->sim);
    struct sim_tx *tx = NULL;
    h->dom->ctr.xs_requests += h->dom->alive;
    if (!h->dom->alive) {
        rc = -ESRCH;
    } else if (h->ntx >= SIM_XS_MAX_TX) {
        rc = -ENOSPC;
    } else if (!(tx = calloc(1, sizeof(*tx))) || !(tx->root = sim_xs_node_clone(h->sim->xs_root, NULL))) {
        free(tx);
        rc = -ENOMEM;
    } else {
        do
            tx->id = ++h->next_tx;
        while (tx->id == XNV_XS_NO_TX || sim_xs_tx_find(h, tx->id));
        tx->next = h->txs;
        h->txs = tx;
        h->ntx++;
        *id = tx->id;
    }
    sim_unlock(h->sim);
    return rc;
}

static bool conflicts(struct xnv_sim *sim, const struct sim_tx *tx)
{
    for (unsigned i = 0; i < tx->nnotes; i++) {
        const char *p = tx->notes[i].path;
        const struct xs_node *n = sim_xs_lookup(sim->xs_root, p, strlen(p));
        if ((n ? n->gen : 0) != tx->notes[i].gen)
            return true;
    }
    return false;
}

int sim_xs_tx_end(struct xnv_hv *hv, xnv_xs_tx_t id, bool abort)
{
    struct sim_hv *h = sim_hv_of(hv);
    int rc = 0;
    sim_lock(h->sim);
    struct sim_tx **pp = &h->txs;
    while (*pp && (*pp)->id != id)
        pp = &(*pp)->next;
    struct sim_tx *tx = *pp;
    h->dom->ctr.xs_requests += h->dom->alive;
    if (!h->dom->alive) {
        rc = -ESRCH;
    } else if (!tx) {
        rc = -ENOENT;
    } else {
        *pp = tx->next;
        h->ntx--;
        if (!abort && conflicts(h->sim, tx)) {
            rc = -EAGAIN;
        } else if (!abort) {
            /* Nothing the transaction saw has changed, so its changes
             * replay exactly as they went in its copy. */
            struct xs_ctx c = { .sim = h->sim, .root = h->sim->xs_root, .dom = h->dom->id };
            for (unsigned i = 0; i < tx->nops; i++) {
                const struct xs_op *op = &tx->ops[i];
                switch (op->kind) {
                case XS_OP_WRITE: sim_xs_do_write(&c, op->path, op->val, op->len); break;
                case XS_OP_MKDIR: sim_xs_do_mkdir(&c, op->path); break;
                case XS_OP_RM: sim_xs_do_rm(&c, op->path); break;
                default: sim_xs_do_set_perms(&c, op->path, op->perms, op->nperms); break;
                }
            }
        }
        tx_free(tx);
    }
    sim_unlock(h->sim);
    return rc;
}
