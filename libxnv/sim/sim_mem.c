/* Domain memory and grant-table slots.
 *
 * Each domain's pages live in one sparse memfd: shares and maps mmap single
 * pages of it (MAP_SHARED), so every mapping of a granted page truly aliases
 * the others, and the "hypervisor" copies through one mapping of the whole
 * file.  A freed page is punched out of the file, so it comes back zeroed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "sim_internal.h"

#define MEM_BYTES ((size_t)SIM_DOM_MAX_PAGES * XNV_PAGE_SIZE)

int sim_mem_init(struct sim_dom *d)
{
    char name[32];
    snprintf(name, sizeof(name), "xnv-sim-dom%u", d->id);
    d->memfd = memfd_create(name, MFD_CLOEXEC);
    if (d->memfd < 0)
        return -errno;
    if (ftruncate(d->memfd, (off_t)MEM_BYTES) < 0)
        goto fail;
    d->mem = mmap(NULL, MEM_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, d->memfd, 0);
    if (d->mem == MAP_FAILED) {
        d->mem = NULL;
        goto fail;
    }
    d->gnt_next = SIM_GNT_RESERVED;
    return 0;
fail:;
    int e = errno;
    close(d->memfd);
    d->memfd = -1;
    return -e;
}

void sim_mem_release(struct sim_dom *d)
{
    if (d->mem)
        munmap(d->mem, MEM_BYTES);
    if (d->memfd >= 0)
        close(d->memfd);
    d->mem = NULL;
    d->memfd = -1;
    free(d->gnt);
    free(d->free_refs);
    free(d->free_pages);
    d->gnt = NULL;
    d->free_refs = d->free_pages = NULL;
    d->gnt_cap = d->nfree_refs = d->free_refs_cap = 0;
    d->nfree_pages = d->free_pages_cap = 0;
}

/* The free lists are sized when slots are created, so that freeing never
 * needs to allocate. */
int sim_page_alloc(struct sim_dom *d, uint32_t *page)
{
    if (d->nfree_pages) {
        *page = d->free_pages[--d->nfree_pages];
    } else {
        if (d->next_page >= SIM_DOM_MAX_PAGES)
            return -ENOSPC;
        if (d->next_page == d->free_pages_cap) {
            uint32_t cap = d->free_pages_cap ? d->free_pages_cap * 2 : 256;
            uint32_t *np = realloc(d->free_pages, cap * sizeof(*np));
            if (!np)
                return -ENOMEM;
            d->free_pages = np;
            d->free_pages_cap = cap;
        }
        *page = d->next_page++;
    }
    d->live_pages++;
    return 0;
}

/* The table grows one frame at a time, as a guest's does. */
static int grow_table(struct sim_dom *d)
{
    if (d->gnt_cap >= SIM_GNT_MAX_ENTRIES)
        return -ENOSPC;
    uint32_t cap = d->gnt_cap + SIM_GNT_FRAME_ENTRIES;
    uint32_t *nf = realloc(d->free_refs, cap * sizeof(*nf));
    if (!nf)
        return -ENOMEM;
    d->free_refs = nf;
    d->free_refs_cap = cap;
    struct sim_grant *ng = realloc(d->gnt, cap * sizeof(*ng));
    if (!ng)
        return -ENOMEM;
    memset(ng + d->gnt_cap, 0, (cap - d->gnt_cap) * sizeof(*ng));
    d->gnt = ng;
    d->gnt_cap = cap;
    return 0;
}

int sim_ref_alloc(struct sim_dom *d, xnv_gref_t *ref)
{
    if (d->nfree_refs) {
        *ref = d->free_refs[--d->nfree_refs];
        return 0;
    }
    if (d->gnt_next >= d->gnt_cap) {
        int rc = grow_table(d);
        if (rc < 0)
            return rc;
    }
    *ref = d->gnt_next++;
    return 0;
}

int sim_seed_toolstack_grants(struct sim_dom *d)
{
    if (d->gnt_cap == 0) {
        int rc = grow_table(d);
        if (rc < 0)
            return rc;
    }
    for (xnv_gref_t ref = SIM_GNT_CONSOLE; ref <= SIM_GNT_XENSTORE; ref++) {
        uint32_t page;
        int rc = sim_page_alloc(d, &page);
        if (rc < 0)
            return rc;
        d->gnt[ref] = (struct sim_grant){ .state = GNT_ACTIVE, .grantee = 0, .page = page };
    }
    return 0;
}

struct sim_grant *sim_grant_lookup(struct sim_dom *d, xnv_gref_t ref)
{
    return d && d->gnt && ref < d->gnt_cap ? &d->gnt[ref] : NULL;
}

void sim_grant_maybe_free(struct sim_dom *d, xnv_gref_t ref)
{
    struct sim_grant *g = sim_grant_lookup(d, ref);
    if (!g || g->state != GNT_ENDED || g->shared || g->maps || g->pins)
        return;
    off_t off = (off_t)g->page * XNV_PAGE_SIZE;
    if (fallocate(d->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, XNV_PAGE_SIZE) < 0)
        memset(d->mem + off, 0, XNV_PAGE_SIZE);
    d->free_pages[d->nfree_pages++] = g->page;
    d->free_refs[d->nfree_refs++] = ref;
    memset(g, 0, sizeof(*g));
    d->live_pages--;
    /* A destroyed domain keeps its memory only while others hold pages. */
    if (!d->alive && d->live_pages == 0)
        sim_mem_release(d);
}
