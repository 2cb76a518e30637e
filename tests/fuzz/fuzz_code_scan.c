/* libFuzzer target: the byte-pattern reader of machine code and the
 * initial-image search the stripped 3.8-3.11 finders use (code_scan.c,
 * pm_self_pair_run), on arbitrary bytes: code and .data come from the
 * interpreter's file, which pymac does not trust either.
 *
 * Invariants checked (abort on violation): every instruction reported
 * starts inside the buffer and ends inside it; a string found is inside
 * the buffer and NUL-terminated there; a usedpools run found is a run of
 * pairs inside the image. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "code_scan.h"
#include "statics_find.h"

enum { VADDR = 0x400000 };

typedef struct bounds {
    size_t len;
    size_t n;
} bounds;

static bool check(void *ctx, const pm_insn *in)
{
    bounds *b = ctx;
    if (in->at < VADDR || in->at - VADDR >= b->len || !in->len ||
        in->len > b->len - (in->at - VADDR))
        abort();
    b->n++;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bounds b = {size, 0};
    pm_code_scan(data, size, VADDR, check, &b);
    size_t off = 0;
    if (pm_find_cstring(data, size, "# arenas highwater mark", &off) &&
        (off + sizeof "# arenas highwater mark" > size || data[off + 23] != 0))
        abort();
    uint32_t n = 0;
    uint64_t run = pm_self_pair_run(data, size, VADDR, VADDR - 0x1000, 2, 256, &n);
    if (run && (run < VADDR || run - VADDR + 16ull * n > size || n < 2))
        abort();
    return 0;
}
