/* Xenstore operations, on the live tree or inside a transaction.
 *
 * Rules follow xenstored: read needs READ, write/mkdir/rm need WRITE on the
 * node or, when creating, on the nearest existing ancestor; a node created
 * by an unprivileged domain inherits its parent's permissions with the
 * creator as owner; only the owner (or domain 0) sets permissions, and an
 * unprivileged owner cannot give the node away; rm of a missing node whose
 * parent exists succeeds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim_internal.h"

/* Length of the parent of path[0..len) ("/" for top-level nodes). */
static size_t parent_len(const char *path, size_t len)
{
    while (len > 1 && path[len - 1] != '/')
        len--;
    return len > 1 ? len - 1 : 1;
}

/* Lookup that a transaction notes for its conflict check. */
static struct xs_node *get(struct xs_ctx *c, const char *path, size_t len, int *err)
{
    struct xs_node *n = sim_xs_lookup(c->root, path, len);
    if (c->tx && sim_xs_tx_note(c->tx, path, len, n) < 0)
        *err = -ENOMEM;
    return n;
}

static void touch(struct xs_ctx *c, struct xs_node *n)
{
    if (!c->tx)
        n->gen = ++c->sim->xs_gen;
}

static int note_subtree(struct sim_tx *tx, const struct xs_node *n, char *buf, size_t len)
{
    int rc = sim_xs_tx_note(tx, buf, len, n);
    for (unsigned i = 0; i < n->nkids && rc == 0; i++) {
        size_t nl = strlen(n->kids[i]->name);
        if (len + 1 + nl > XENSTORE_ABS_PATH_MAX)
            continue;
        size_t at = len == 1 ? 1 : len + 1;
        if (len > 1)
            buf[len] = '/';
        memcpy(buf + at, n->kids[i]->name, nl);
        rc = note_subtree(tx, n->kids[i], buf, at + nl);
    }
    return rc;
}

static int set_value(struct xs_node *n, const void *val, unsigned len)
{
    char *v = NULL;
    if (len) {
        if (!(v = malloc(len)))
            return -ENOMEM;
        memcpy(v, val, len);
    }
    free(n->value);
    n->value = v;
    n->vlen = len;
    return 0;
}

/* Creates the missing nodes of path below its existing ancestor a, whose
 * path is path[0..alen). */
static struct xs_node *create(struct xs_ctx *c, struct xs_node *a, const char *path, size_t alen)
{
    size_t plen = strlen(path), pos = alen == 1 ? 1 : alen + 1;
    while (pos < plen) {
        const char *slash = strchr(path + pos, '/');
        size_t end = slash ? (size_t)(slash - path) : plen;
        struct xs_permissions perms[SIM_XS_MAX_PERMS];
        memcpy(perms, a->perms, a->nperms * sizeof(perms[0]));
        if (c->dom != 0)
            perms[0].id = c->dom;
        struct xs_node *k = sim_xs_node_new(path + pos, end - pos, a, perms, a->nperms);
        if (!k)
            return NULL;
        touch(c, k);
        touch(c, a);
        a = k;
        pos = end + 1;
    }
    return a;
}

static int write_node(struct xs_ctx *c, const char *path, const void *val, unsigned len, bool mkdir)
{
    int err = 0;
    size_t plen = strlen(path);
    struct xs_node *n = get(c, path, plen, &err);
    if (err)
        return err;
    if (n) {
        if (!(sim_xs_access(n, c->dom) & XS_PERM_WRITE))
            return -EACCES;
        if (mkdir)
            return 0;
        if ((err = set_value(n, val, len)) < 0)
            return err;
        touch(c, n);
    } else {
        size_t alen = plen;
        struct xs_node *a;
        do {
            alen = parent_len(path, alen);
            a = get(c, path, alen, &err);
        } while (!a && !err);
        if (err)
            return err;
        if (!(sim_xs_access(a, c->dom) & XS_PERM_WRITE))
            return -EACCES;
        if (!(n = create(c, a, path, alen)) || (err = set_value(n, val, len)) < 0)
            return err ? err : -ENOMEM;
    }
    if (c->tx)
        return sim_xs_tx_log(c->tx, mkdir ? XS_OP_MKDIR : XS_OP_WRITE, path, val, len, NULL, 0);
    sim_xs_fire(c->sim, path, n, false);
    return 0;
}

int sim_xs_do_write(struct xs_ctx *c, const char *path, const void *val, unsigned len)
{
    if (len > XENSTORE_PAYLOAD_MAX)
        return -E2BIG;
    return write_node(c, path, val, len, false);
}

int sim_xs_do_mkdir(struct xs_ctx *c, const char *path)
{
    return write_node(c, path, NULL, 0, true);
}

int sim_xs_do_rm(struct xs_ctx *c, const char *path)
{
    int err = 0;
    size_t plen = strlen(path);
    if (plen == 1)
        return -EINVAL;
    struct xs_node *n = get(c, path, plen, &err);
    struct xs_node *p = get(c, path, parent_len(path, plen), &err);
    if (err)
        return err;
    if (!n)
        return p ? 0 : -ENOENT;
    if (!(sim_xs_access(n, c->dom) & XS_PERM_WRITE))
        return -EACCES;
    if (c->tx) {
        char buf[XENSTORE_ABS_PATH_MAX + 1];
        memcpy(buf, path, plen);
        if ((err = note_subtree(c->tx, n, buf, plen)) < 0 ||
            (err = sim_xs_tx_log(c->tx, XS_OP_RM, path, NULL, 0, NULL, 0)) < 0)
            return err;
    } else {
        sim_xs_fire(c->sim, path, n, true);
    }
    sim_xs_node_unlink(n);
    sim_xs_node_free(n);
    touch(c, p);
    return 0;
}

int sim_xs_do_set_perms(struct xs_ctx *c, const char *path, const struct xs_permissions *p, unsigned num)
{
    int err = 0;
    if (num == 0 || num > SIM_XS_MAX_PERMS || !p)
        return -EINVAL;
    for (unsigned i = 0; i < num; i++)
        if (p[i].perms & ~(unsigned)(XS_PERM_READ | XS_PERM_WRITE))
            return -EINVAL;
    struct xs_node *n = get(c, path, strlen(path), &err);
    if (err)
        return err;
    if (!n)
        return -ENOENT;
    if (c->dom != 0 && n->perms[0].id != c->dom)
        return -EACCES;
    if (c->dom != 0 && p[0].id != c->dom)
        return -EPERM;
    struct xs_permissions *np = malloc(num * sizeof(*np));
    if (!np)
        return -ENOMEM;
    memcpy(np, p, num * sizeof(*np));
    free(n->perms);
    n->perms = np;
    n->nperms = num;
    touch(c, n);
    if (c->tx)
        return sim_xs_tx_log(c->tx, XS_OP_PERMS, path, NULL, 0, p, num);
    sim_xs_fire(c->sim, path, n, false);
    return 0;
}

/* ---- domain 0 acting on the live tree (domain creation and death) ----- */

int sim_xs_init(struct xnv_sim *sim)
{
    struct xs_permissions none = { .id = 0, .perms = XS_PERM_NONE };
    if (!(sim->xs_root = sim_xs_node_new("", 0, NULL, &none, 1)))
        return -ENOMEM;
    sim->xs_root->gen = ++sim->xs_gen;
    struct xs_ctx c = { .sim = sim, .root = sim->xs_root };
    return sim_xs_do_mkdir(&c, "/local/domain");
}

int sim_xs_sys_write(struct xnv_sim *sim, const char *path, const char *val)
{
    struct xs_ctx c = { .sim = sim, .root = sim->xs_root };
    return sim_xs_do_write(&c, path, val, (unsigned)strlen(val));
}

int sim_xs_sys_rm(struct xnv_sim *sim, const char *path)
{
    struct xs_ctx c = { .sim = sim, .root = sim->xs_root };
    return sim_xs_do_rm(&c, path);
}

int sim_xs_sys_set_perms(struct xnv_sim *sim, const char *path, const struct xs_permissions *p, unsigned n)
{
    struct xs_ctx c = { .sim = sim, .root = sim->xs_root };
    return sim_xs_do_set_perms(&c, path, p, n);
}

/* ---- the API ----------------------------------------------------------- */

/* Lock held: where (tx) the handle's operation applies. */
static int ctx_open(struct sim_hv *h, xnv_xs_tx_t tx, struct xs_ctx *c)
{
    if (!h->dom->alive)
        return -ESRCH;
    h->dom->ctr.xs_requests++;
    c->sim = h->sim;
    c->dom = h->dom->id;
    c->tx = NULL;
    c->root = h->sim->xs_root;
    if (tx != XNV_XS_NO_TX) {
        if (!(c->tx = sim_xs_tx_find(h, tx)))
            return -ENOENT;
        c->root = c->tx->root;
    }
    return 0;
}

/* Looks a node up for reading: 0 and *n, or -errno. */
static int read_node(struct xs_ctx *c, const char *path, struct xs_node **n)
{
    int err = 0;
    *n = get(c, path, strlen(path), &err);
    if (err)
        return err;
    if (!*n)
        return -ENOENT;
    return sim_xs_access(*n, c->dom) & XS_PERM_READ ? 0 : -EACCES;
}

char *sim_xs_read(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path, unsigned *len)
{
    struct sim_hv *h = sim_hv_of(hv);
    struct xs_ctx c;
    struct xs_node *n;
    char *abs, *out = NULL;
    bool rel;
    int rc = sim_xs_canon(hv->domid, path, false, &abs, &rel);
    if (rc == 0) {
        sim_lock(h->sim);
        if ((rc = ctx_open(h, tx, &c)) == 0 && (rc = read_node(&c, abs, &n)) == 0) {
            if ((out = malloc(n->vlen + 1))) {
                if (n->vlen)
                    memcpy(out, n->value, n->vlen);
                out[n->vlen] = '\0';
                if (len)
                    *len = n->vlen;
            } else {
                rc = -ENOMEM;
            }
        }
        sim_unlock(h->sim);
        free(abs);
    }
    if (rc < 0)
        errno = -rc;
    return out;
}

char **sim_xs_directory(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path, unsigned *num)
{
    struct sim_hv *h = sim_hv_of(hv);
    struct xs_ctx c;
    struct xs_node *n;
    char *abs, **out = NULL;
    bool rel;
    int rc = sim_xs_canon(hv->domid, path, false, &abs, &rel);
    if (rc == 0) {
        sim_lock(h->sim);
        if ((rc = ctx_open(h, tx, &c)) == 0 && (rc = read_node(&c, abs, &n)) == 0) {
            size_t total = (size_t)n->nkids * sizeof(char *);
            for (unsigned i = 0; i < n->nkids; i++)
                total += strlen(n->kids[i]->name) + 1;
            if ((out = malloc(total ? total : 1))) {
                char *s = (char *)(out + n->nkids);
                for (unsigned i = 0; i < n->nkids; i++) {
                    size_t l = strlen(n->kids[i]->name) + 1;
                    out[i] = memcpy(s, n->kids[i]->name, l);
                    s += l;
                }
                if (num)
                    *num = n->nkids;
            } else {
                rc = -ENOMEM;
            }
        }
        sim_unlock(h->sim);
        free(abs);
    }
    if (rc < 0)
        errno = -rc;
    return out;
}

struct xs_permissions *sim_xs_get_perms(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path, unsigned *num)
{
    struct sim_hv *h = sim_hv_of(hv);
    struct xs_ctx c;
    struct xs_node *n;
    struct xs_permissions *out = NULL;
    char *abs;
    bool rel;
    int rc = sim_xs_canon(hv->domid, path, false, &abs, &rel);
    if (rc == 0) {
        sim_lock(h->sim);
        if ((rc = ctx_open(h, tx, &c)) == 0 && (rc = read_node(&c, abs, &n)) == 0) {
            if ((out = malloc(n->nperms * sizeof(*out)))) {
                memcpy(out, n->perms, n->nperms * sizeof(*out));
                if (num)
                    *num = n->nperms;
            } else {
                rc = -ENOMEM;
            }
        }
        sim_unlock(h->sim);
        free(abs);
    }
    if (rc < 0)
        errno = -rc;
    return out;
}

enum { CHANGE_WRITE, CHANGE_MKDIR, CHANGE_RM, CHANGE_PERMS };

static int change(struct xnv_hv *hv, xnv_xs_tx_t tx, int what, const char *path, const void *val,
                  unsigned len, const struct xs_permissions *perms, unsigned num)
{
    struct sim_hv *h = sim_hv_of(hv);
    struct xs_ctx c;
    char *abs;
    bool rel;
    int rc = sim_xs_canon(hv->domid, path, false, &abs, &rel);
    if (rc < 0)
        return rc;
    sim_lock(h->sim);
    if ((rc = ctx_open(h, tx, &c)) == 0) {
        switch (what) {
        case CHANGE_WRITE: rc = sim_xs_do_write(&c, abs, val, len); break;
        case CHANGE_MKDIR: rc = sim_xs_do_mkdir(&c, abs); break;
        case CHANGE_RM: rc = sim_xs_do_rm(&c, abs); break;
        default: rc = sim_xs_do_set_perms(&c, abs, perms, num); break;
        }
    }
    sim_unlock(h->sim);
    free(abs);
    return rc;
}

int sim_xs_write(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path, const void *val, unsigned len)
{
    if (len && !val)
        return -EINVAL;
    return change(hv, tx, CHANGE_WRITE, path, val, len, NULL, 0);
}

int sim_xs_mkdir(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path)
{
    return change(hv, tx, CHANGE_MKDIR, path, NULL, 0, NULL, 0);
}

int sim_xs_rm(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path)
{
    return change(hv, tx, CHANGE_RM, path, NULL, 0, NULL, 0);
}

int sim_xs_set_perms(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path,
                     const struct xs_permissions *perms, unsigned num)
{
    return change(hv, tx, CHANGE_PERMS, path, NULL, 0, perms, num);
}

char *sim_xs_domain_path(struct xnv_hv *hv, xnv_domid_t dom)
{
    (void)hv;
    char *p;
    return asprintf(&p, "/local/domain/%u", dom) < 0 ? NULL : p;
}
