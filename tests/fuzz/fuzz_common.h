/* Shared helpers of the xnv fuzz targets: a reader that takes typed values
 * from the fuzzer's input (zeros once the input runs out), and the check
 * macro every target uses to turn a broken invariant into an abort that
 * libFuzzer reports as a crash. */
#ifndef XNV_FUZZ_COMMON_H
#define XNV_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fz {
    const uint8_t *p;
    size_t n;
};

static inline struct fz fz_init(const uint8_t *data, size_t size)
{
    return (struct fz){ data, size };
}

static inline bool fz_empty(const struct fz *f) { return f->n == 0; }

static inline uint8_t fz_u8(struct fz *f)
{
    if (!f->n)
        return 0;
    f->n--;
    return *f->p++;
}

/* Little-endian, as the rings lay out their fields on x86. */
static inline uint16_t fz_u16(struct fz *f)
{
    uint16_t lo = fz_u8(f);
    return (uint16_t)(lo | (uint16_t)fz_u8(f) << 8);
}

static inline uint32_t fz_u32(struct fz *f)
{
    uint32_t lo = fz_u16(f);
    return lo | (uint32_t)fz_u16(f) << 16;
}

/* Copy n bytes out (zero-filling what the input lacks); returns how many
 * came from the input. */
static inline size_t fz_bytes(struct fz *f, void *dst, size_t n)
{
    size_t k = n < f->n ? n : f->n;
    memcpy(dst, f->p, k);
    memset((uint8_t *)dst + k, 0, n - k);
    f->p += k;
    f->n -= k;
    return k;
}

/* A value in [0, n) (n > 0). */
static inline unsigned fz_below(struct fz *f, unsigned n)
{
    return n <= 256 ? fz_u8(f) % n : fz_u16(f) % n;
}

/* Whatever input is left, as one block. */
static inline const uint8_t *fz_rest(struct fz *f, size_t *len)
{
    const uint8_t *p = f->p;
    *len = f->n;
    f->p += f->n;
    f->n = 0;
    return p;
}

/* A private, exactly sized copy: any read past its end is caught by ASan. */
static inline uint8_t *fz_dup(const uint8_t *p, size_t len)
{
    uint8_t *d = malloc(len ? len : 1);
    if (!d)
        abort();
    if (len)
        memcpy(d, p, len);
    return d;
}

/* A finding not yet fixed in the library may be tolerated while fuzzing (so
 * that the fuzzer can look past it): its check then asks
 * fz_known_tolerated("name").  XNV_FUZZ_STRICT=1, which `make fuzz-crashes`
 * sets when it replays the reproducers, tolerates nothing.  (No finding is
 * tolerated at present.) */
static inline bool fz_strict(void)
{
    static int strict = -1;
    if (strict < 0) {
        const char *s = getenv("XNV_FUZZ_STRICT");
        strict = s && s[0] == '1';
    }
    return strict;
}

/* Is the known finding `name` tolerated in this run?  XNV_FUZZ_STRICT=1
 * tolerates none. */
static inline bool fz_known_tolerated(const char *name)
{
    (void)name;
    return !fz_strict();
}

#define FZ_CHECK(cond)                                                              \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "xnv fuzz: invariant violated: %s (%s:%d)\n", #cond,    \
                    __FILE__, __LINE__);                                            \
            abort();                                                                \
        }                                                                           \
    } while (0)

#endif
