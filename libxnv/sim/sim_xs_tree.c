/* Xenstore nodes, path syntax and permission checks (xenstored's rules). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim_internal.h"

struct xs_node *sim_xs_node_new(const char *name, size_t len, struct xs_node *parent,
                            const struct xs_permissions *perms, unsigned nperms)
{
    struct xs_node *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->name = strndup(name, len);
    n->perms = malloc(nperms * sizeof(*perms));
    if (!n->name || !n->perms)
        goto fail;
    memcpy(n->perms, perms, nperms * sizeof(*perms));
    n->nperms = nperms;
    if (parent) {
        if (parent->nkids == parent->kids_cap) {
            unsigned cap = parent->kids_cap ? parent->kids_cap * 2 : 4;
            struct xs_node **nk = realloc(parent->kids, cap * sizeof(*nk));
            if (!nk)
                goto fail;
            parent->kids = nk;
            parent->kids_cap = cap;
        }
        parent->kids[parent->nkids++] = n;
        n->parent = parent;
    }
    return n;
fail:
    free(n->name);
    free(n->perms);
    free(n);
    return NULL;
}

void sim_xs_node_free(struct xs_node *n)
{
    if (!n)
        return;
    for (unsigned i = 0; i < n->nkids; i++)
        sim_xs_node_free(n->kids[i]);
    free(n->kids);
    free(n->name);
    free(n->value);
    free(n->perms);
    free(n);
}

struct xs_node *sim_xs_node_clone(const struct xs_node *n, struct xs_node *parent)
{
    struct xs_node *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->parent = parent;
    c->gen = n->gen;
    c->vlen = n->vlen;
    c->nperms = n->nperms;
    c->name = strdup(n->name);
    c->perms = malloc(n->nperms * sizeof(*n->perms));
    c->value = n->vlen ? malloc(n->vlen) : NULL;
    c->kids = n->nkids ? malloc(n->nkids * sizeof(*c->kids)) : NULL;
    if (!c->name || !c->perms || (n->vlen && !c->value) || (n->nkids && !c->kids))
        goto fail;
    memcpy(c->perms, n->perms, n->nperms * sizeof(*n->perms));
    if (n->vlen)
        memcpy(c->value, n->value, n->vlen);
    c->kids_cap = n->nkids;
    for (; c->nkids < n->nkids; c->nkids++)
        if (!(c->kids[c->nkids] = sim_xs_node_clone(n->kids[c->nkids], c)))
            goto fail;
    return c;
fail:
    sim_xs_node_free(c);
    return NULL;
}

void sim_xs_node_unlink(struct xs_node *n)
{
    struct xs_node *p = n->parent;
    if (!p)
        return;
    for (unsigned i = 0; i < p->nkids; i++) {
        if (p->kids[i] == n) {
            memmove(&p->kids[i], &p->kids[i + 1], (p->nkids - i - 1) * sizeof(*p->kids));
            p->nkids--;
            break;
        }
    }
    n->parent = NULL;
}

/* path[0..len) is absolute and valid. */
struct xs_node *sim_xs_lookup(const struct xs_node *root, const char *path, size_t len)
{
    struct xs_node *n = (struct xs_node *)root;
    size_t pos = 1;
    while (n && pos < len) {
        const char *c = path + pos;
        const char *slash = memchr(c, '/', len - pos);
        size_t clen = slash ? (size_t)(slash - c) : len - pos;
        struct xs_node *next = NULL;
        for (unsigned i = 0; i < n->nkids; i++) {
            if (strlen(n->kids[i]->name) == clen && memcmp(n->kids[i]->name, c, clen) == 0) {
                next = n->kids[i];
                break;
            }
        }
        n = next;
        pos += clen + 1;
    }
    return n;
}

/* perms[0]: owner (full access) and the access of everybody not listed;
 * perms[1..]: per-domain access.  Domain 0 is privileged. */
unsigned sim_xs_access(const struct xs_node *n, xnv_domid_t dom)
{
    const unsigned rw = XS_PERM_READ | XS_PERM_WRITE;
    if (dom == 0 || n->perms[0].id == dom)
        return rw;
    for (unsigned i = 1; i < n->nperms; i++)
        if (n->perms[i].id == dom)
            return n->perms[i].perms & rw;
    return n->perms[0].perms & rw;
}

bool sim_xs_is_under(const char *path, const char *top)
{
    size_t tl = strlen(top);
    if (tl == 1 && top[0] == '/')
        return path[0] == '/';
    return strncmp(path, top, tl) == 0 && (path[tl] == '\0' || path[tl] == '/');
}

static bool valid_abs(const char *p)
{
    size_t len = strlen(p);
    if (len > XENSTORE_ABS_PATH_MAX || p[0] != '/')
        return false;
    if (len > 1 && p[len - 1] == '/')
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '@' || c == '/';
        if (!ok || (c == '/' && p[i + 1] == '/'))
            return false;
    }
    return true;
}

/* A caller's path made absolute (malloc'd): relative paths are under
 * /local/domain/<dom>; "@releaseDomain" / "@introduceDomain" only when
 * allow_special (watches). */
int sim_xs_canon(xnv_domid_t dom, const char *path, bool allow_special, char **out, bool *relative)
{
    char *abs;
    *out = NULL;
    *relative = false;
    if (!path || !path[0])
        return -EINVAL;
    if (path[0] == '@') {
        if (!allow_special || (strcmp(path, "@releaseDomain") && strcmp(path, "@introduceDomain")))
            return -EINVAL;
        return (*out = strdup(path)) ? 0 : -ENOMEM;
    }
    size_t len = strnlen(path, XENSTORE_ABS_PATH_MAX + 1);
    if (path[0] == '/') {
        if (len > XENSTORE_ABS_PATH_MAX)
            return -EINVAL;
        abs = strdup(path);
    } else {
        if (len > XENSTORE_REL_PATH_MAX)
            return -EINVAL;
        if (asprintf(&abs, "/local/domain/%u/%s", dom, path) < 0)
            abs = NULL;
        *relative = true;
    }
    if (!abs)
        return -ENOMEM;
    if (!valid_abs(abs)) {
        free(abs);
        return -EINVAL;
    }
    *out = abs;
    return 0;
}
