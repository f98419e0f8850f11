/* Fuzz target: the multicast filter a frontend programs with MCAST_ADD and
 * MCAST_DEL extras (xnv_mcast_add / del / match), against a model.
 *
 * Input: a sequence of operations, each one byte op followed by an address:
 *   op & 0x80: the address is one of 32 prepared ones (index op & 31, half
 *              of them multicast), so that adds, deletes and matches collide;
 *   else:      six literal bytes follow.
 *   (op >> 5) & 3: 0 add, 1 delete, 2 match, 3 fill: XNV_MCAST_MAX + 1 adds
 *   of addresses made from the given one (its last byte counting up; at
 *   most 4 fills per input).  At most 256 operations per input.
 *
 * Checked: each return code (-EINVAL for a unicast address, -ENOSPC beyond
 * XNV_MCAST_MAX, -ENOENT for an absent one), the count, no duplicates, and
 * every match against the model's set. */
#include <errno.h>
#include "fuzz_common.h"
#include "xnv/mcast.h"

/* The model keeps addresses as 48-bit integers (cheaper to compare). */
struct model {
    unsigned n;
    uint64_t addr[XNV_MCAST_MAX];
};

static uint64_t key(const uint8_t a[6])
{
    uint64_t k = 0;
    for (int i = 0; i < 6; i++)
        k = k << 8 | a[i];
    return k;
}

static int model_find(const struct model *m, const uint8_t a[6])
{
    uint64_t k = key(a);
    for (unsigned i = 0; i < m->n; i++)
        if (m->addr[i] == k)
            return (int)i;
    return -1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The filter holds exactly the model's set: same count, each address
 * multicast, no duplicates, every model address matched. */
static void check_same(const struct xnv_mcast_filter *f, const struct model *m)
{
    FZ_CHECK(f->n == m->n && f->n <= XNV_MCAST_MAX);
    uint64_t mine[XNV_MCAST_MAX], theirs[XNV_MCAST_MAX];
    for (unsigned i = 0; i < f->n; i++) {
        FZ_CHECK(f->addr[i][0] & 1);
        theirs[i] = key(f->addr[i]);
        mine[i] = m->addr[i];
    }
    qsort(mine, m->n, sizeof mine[0], cmp_u64);
    qsort(theirs, f->n, sizeof theirs[0], cmp_u64);
    for (unsigned i = 0; i < f->n; i++)
        FZ_CHECK(mine[i] == theirs[i] && (i == 0 || theirs[i] != theirs[i - 1]));
}

static void do_add(struct xnv_mcast_filter *f, struct model *m, const uint8_t a[6])
{
    int rc = xnv_mcast_add(f, a);
    int want = 0;
    if (!(a[0] & 1))
        want = -EINVAL;
    else if (model_find(m, a) < 0) {
        if (m->n == XNV_MCAST_MAX)
            want = -ENOSPC;
        else
            m->addr[m->n++] = key(a);
    }
    FZ_CHECK(rc == want);
}

static void do_del(struct xnv_mcast_filter *f, struct model *m, const uint8_t a[6])
{
    int rc = xnv_mcast_del(f, a);
    int i = model_find(m, a);
    FZ_CHECK(rc == (i < 0 ? -ENOENT : 0));
    if (i >= 0)
        m->addr[i] = m->addr[--m->n];   /* the model's order does not matter */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz in = fz_init(data, size);
    struct xnv_mcast_filter *f = malloc(sizeof *f);
    memset(f, 0, sizeof *f);
    struct model m = { .n = 0 };
    uint8_t pool[32][6];
    for (unsigned i = 0; i < 32; i++) {
        const uint8_t a[6] = { (uint8_t)(i & 1 ? 0x01 : 0x02), 0x00, 0x5e, 0x00,
                               (uint8_t)(i >> 3), (uint8_t)(i * 37) };
        memcpy(pool[i], a, 6);
    }
    unsigned ops = 0, fills = 0;
    while (!fz_empty(&in) && ops < 256) {   /* a filter full many times over */
        uint8_t op = fz_u8(&in);
        uint8_t a[6];
        if (op & 0x80)
            memcpy(a, pool[op & 31], 6);
        else
            fz_bytes(&in, a, 6);
        switch ((op >> 5) & 3) {
        case 0:
            do_add(f, &m, a);
            break;
        case 1:
            do_del(f, &m, a);
            break;
        case 2:
            FZ_CHECK(xnv_mcast_match(f, a) == (model_find(&m, a) >= 0));
            break;
        default:
            if (fills++ == 4)       /* they cost XNV_MCAST_MAX^2 each */
                break;
            for (unsigned i = 0; i <= XNV_MCAST_MAX; i++) {
                do_add(f, &m, a);
                a[5]++;
            }
            break;
        }
        /* The whole set now and then, the count always. */
        FZ_CHECK(f->n == m.n);
        if ((++ops & 15) == 0)
            check_same(f, &m);
    }
    check_same(f, &m);
    for (unsigned i = 0; i < m.n; i++) {
        uint8_t a[6];
        for (int j = 0; j < 6; j++)
            a[j] = (uint8_t)(m.addr[i] >> (40 - 8 * j));
        FZ_CHECK(xnv_mcast_match(f, a));
    }
    free(f);
    return 0;
}
