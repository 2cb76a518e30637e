/* The byte-pattern scanner (symbols/code_scan.c) on instructions copied
 * from the interpreters the stripped finders read, and the initial-image
 * search for usedpools (runtime/obmalloc_find.c): what each form decodes
 * to, what is not read twice, and the wrong candidates rejected. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "code_scan.h"
#include "statics_find.h"
#include "unit.h"

typedef struct seen {
    pm_insn v[64];
    size_t n;
} seen;

static bool collect(void *ctx, const pm_insn *in)
{
    seen *s = ctx;
    if (s->n < sizeof s->v / sizeof s->v[0])
        s->v[s->n++] = *in;
    return true;
}

static const pm_insn *at(const seen *s, uint64_t addr)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].at == addr)
            return &s->v[i];
    return NULL;
}

enum { BASE = 0x194d20 };

static void test_rip_forms(void)
{
    static const uint8_t code[] = {
        0x48, 0x8d, 0x1d, 0x63, 0xdd, 0x1d, 0x00,       /* +0  lea 0x1ddd63(%rip),%rbx */
        0x48, 0x8b, 0x15, 0x10, 0x00, 0x00, 0x00,       /* +7  mov 0x10(%rip),%rdx */
        0x48, 0x63, 0x15, 0xf0, 0xff, 0xff, 0xff,       /* +14 movslq -0x10(%rip),%rdx */
        0x44, 0x8b, 0x0d, 0x0a, 0x18, 0x3f, 0x00,       /* +21 mov 0x3f180a(%rip),%r9d */
        0x48, 0x89, 0x05, 0x00, 0x01, 0x00, 0x00,       /* +28 mov %rax,0x100(%rip) */
        0x48, 0x83, 0x05, 0x20, 0x00, 0x00, 0x00, 0x01, /* +35 addq $1,0x20(%rip) */
        0x48, 0x81, 0x3d, 0x33, 0x52, 0x4f, 0x00,       /* +43 cmpq $0x4d0be0,0x4f5233(%rip) */
        0xe0, 0x0b, 0x4d, 0x00,
    };
    seen s = {0};
    CU_ASSERT_TRUE(pm_code_scan(code, sizeof code, BASE, collect, &s));
    const pm_insn *lea = at(&s, BASE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(lea);
    CU_ASSERT_EQUAL(lea->kind, PM_INSN_LEA);
    CU_ASSERT_EQUAL(lea->reg, 3);
    CU_ASSERT_EQUAL(lea->target, BASE + 7 + 0x1ddd63);
    const pm_insn *ld = at(&s, BASE + 7);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ld);
    CU_ASSERT_EQUAL(ld->kind, PM_INSN_LOAD);
    CU_ASSERT_EQUAL(ld->reg, PM_REG_RDX);
    CU_ASSERT_EQUAL(ld->width, 8);
    CU_ASSERT_EQUAL(ld->target, BASE + 14 + 0x10);
    const pm_insn *sx = at(&s, BASE + 14);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sx);
    CU_ASSERT_EQUAL(sx->kind, PM_INSN_LOAD_SX32);
    CU_ASSERT_EQUAL(sx->width, 4);
    CU_ASSERT_EQUAL(sx->target, BASE + 21 - 0x10);
    const pm_insn *r9d = at(&s, BASE + 21);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r9d);
    CU_ASSERT_EQUAL(r9d->kind, PM_INSN_LOAD);
    CU_ASSERT_EQUAL(r9d->reg, 9);
    CU_ASSERT_EQUAL(r9d->width, 4);
    const pm_insn *st = at(&s, BASE + 28);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(st->kind, PM_INSN_STORE);
    CU_ASSERT_EQUAL(st->target, BASE + 35 + 0x100);
    const pm_insn *add = at(&s, BASE + 35);
    CU_ASSERT_PTR_NOT_NULL_FATAL(add);
    CU_ASSERT_EQUAL(add->kind, PM_INSN_MEM_IMM);
    CU_ASSERT_EQUAL(add->reg, 0); /* /0: add */
    CU_ASSERT_EQUAL(add->imm, 1);
    CU_ASSERT_EQUAL(add->len, 8);
    CU_ASSERT_EQUAL(add->target, BASE + 43 + 0x20); /* after the immediate */
    const pm_insn *cmp = at(&s, BASE + 43);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cmp);
    CU_ASSERT_EQUAL(cmp->kind, PM_INSN_MEM_IMM);
    CU_ASSERT_EQUAL(cmp->reg, 7); /* /7: cmp */
    CU_ASSERT_EQUAL(cmp->imm, 0x4d0be0);
    CU_ASSERT_EQUAL(cmp->len, 11);
    CU_ASSERT_EQUAL(cmp->target, BASE + 54 + 0x4f5233);
    /* the opcode after each REX byte is not read again without it */
    for (size_t i = 0; i < s.n; i++)
        CU_ASSERT(s.v[i].at != BASE + 8 && s.v[i].at != BASE + 22 && s.v[i].at != BASE + 29);
}

static void test_immediates_and_branches(void)
{
    static const uint8_t code[] = {
        0xbe, 0x7d, 0x86, 0x24, 0x00,       /* +0  mov $0x24867d,%esi */
        0x48, 0x89, 0x44, 0x24, 0x40,       /* +5  mov %rax,0x40(%rsp): ends in a REX-like byte */
        0xe8, 0xf1, 0xff, 0xff, 0xff,       /* +10 call +10+5-15 */
        0x48, 0x81, 0xfa, 0xd0, 0x39, 0x4d, 0x00, /* +15 cmp $0x4d39d0,%rdx */
        0x49, 0x83, 0xff, 0x14,             /* +22 cmp $0x14,%r15 */
        0xe9, 0x00, 0x01, 0x00, 0x00,       /* +26 jmp +26+5+0x100 */
    };
    seen s = {0};
    pm_code_scan(code, sizeof code, BASE, collect, &s);
    const pm_insn *imm = at(&s, BASE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(imm);
    CU_ASSERT_EQUAL(imm->kind, PM_INSN_IMM32);
    CU_ASSERT_EQUAL(imm->reg, PM_REG_RSI);
    CU_ASSERT_EQUAL(imm->target, 0x24867d);
    const pm_insn *call = at(&s, BASE + 10);
    CU_ASSERT_PTR_NOT_NULL_FATAL(call); /* 0x40 before it is no prefix of a call */
    CU_ASSERT_EQUAL(call->kind, PM_INSN_CALL);
    CU_ASSERT_EQUAL(call->target, BASE);
    const pm_insn *cmp = at(&s, BASE + 15);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cmp);
    CU_ASSERT_EQUAL(cmp->kind, PM_INSN_CMP_IMM);
    CU_ASSERT_EQUAL(cmp->reg, PM_REG_RDX);
    CU_ASSERT_EQUAL(cmp->target, 0x4d39d0);
    const pm_insn *bound = at(&s, BASE + 22);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bound);
    CU_ASSERT_EQUAL(bound->kind, PM_INSN_CMP_IMM);
    CU_ASSERT_EQUAL(bound->reg, 15);
    CU_ASSERT_EQUAL(bound->target, 0x14);
    const pm_insn *jmp = at(&s, BASE + 26);
    CU_ASSERT_PTR_NOT_NULL_FATAL(jmp);
    CU_ASSERT_EQUAL(jmp->kind, PM_INSN_JMP);
    CU_ASSERT_EQUAL(jmp->target, BASE + 31 + 0x100);
}

static void test_indexed_absolute(void)
{
    /* Debian's non-PIE python3.11: arena_map_root.ptrs[i] */
    static const uint8_t code[] = {
        0x48, 0x8b, 0x0c, 0xc5, 0xe0, 0xf0, 0xa7, 0x00, /* mov 0xa7f0e0(,%rax,8),%rcx */
        0x48, 0x89, 0x14, 0xc5, 0xe0, 0xf0, 0xa7, 0x00, /* mov %rdx,0xa7f0e0(,%rax,8) */
        0x48, 0x8b, 0x0c, 0x24,                         /* mov (%rsp),%rcx: a base, no */
    };
    seen s = {0};
    pm_code_scan(code, sizeof code, BASE, collect, &s);
    const pm_insn *ld = at(&s, BASE), *st = at(&s, BASE + 8);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ld);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(ld->kind, PM_INSN_ABS_INDEXED);
    CU_ASSERT_EQUAL(ld->target, 0xa7f0e0);
    CU_ASSERT_EQUAL(ld->reg, 1);
    CU_ASSERT_EQUAL(ld->len, 8);
    CU_ASSERT_EQUAL(st->kind, PM_INSN_ABS_INDEXED);
    CU_ASSERT_EQUAL(st->reg, PM_REG_RDX);
    CU_ASSERT_PTR_NULL(at(&s, BASE + 16));
}

static void test_sub_from(void)
{
    /* tracemalloc_remove_trace: tracemalloc_traced_memory -= trace->size */
    static const uint8_t code[] = {
        0x48, 0x29, 0x05, 0x49, 0x1f, 0x13, 0x00, /* +0  sub %rax,0x131f49(%rip) */
        0x48, 0x29, 0x15, 0x14, 0xd5, 0x52, 0x00, /* +7  sub %rdx,0x52d514(%rip) */
        0x29, 0x0d, 0x10, 0x00, 0x00, 0x00,       /* +14 sub %ecx,0x10(%rip) */
        0x48, 0x29, 0xc2,                         /* +20 sub %rax,%rdx: no memory */
        0x48, 0x29, 0x04, 0x24,                   /* +23 sub %rax,(%rsp): a base, no */
    };
    static const struct {
        uint64_t at, target;
        uint8_t reg, width;
    } want[] = {
        {BASE, BASE + 7 + 0x131f49, 0, 8},
        {BASE + 7, BASE + 14 + 0x52d514, PM_REG_RDX, 8},
        {BASE + 14, BASE + 20 + 0x10, 1, 4},
    };
    seen s = {0};
    pm_code_scan(code, sizeof code, BASE, collect, &s);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const pm_insn *in = at(&s, want[i].at);
        CU_ASSERT_PTR_NOT_NULL_FATAL(in);
        CU_ASSERT_EQUAL(in->kind, PM_INSN_SUB_FROM);
        CU_ASSERT_EQUAL(in->reg, want[i].reg);
        CU_ASSERT_EQUAL(in->width, want[i].width);
        CU_ASSERT_EQUAL(in->target, want[i].target);
        CU_ASSERT_EQUAL(in->at + in->len, i + 1 < 3 ? want[i + 1].at : BASE + 20);
    }
    for (size_t i = 0; i < s.n; i++)
        CU_ASSERT(s.v[i].kind != PM_INSN_SUB_FROM || s.v[i].at < BASE + 20);
}

static void test_truncated(void)
{
    /* a form cut by the end of the buffer is not read past it */
    static const uint8_t code[] = {0x90, 0x48, 0x8b, 0x05, 0x10, 0x00, 0x00};
    seen s = {0};
    pm_code_scan(code, sizeof code, BASE, collect, &s);
    CU_ASSERT_EQUAL(s.n, 0);
    pm_code_scan(code, 0, BASE, collect, &s);
    CU_ASSERT_EQUAL(s.n, 0);
}

static void test_cstring(void)
{
    static const char rodata[] = "x\0# arenas highwater mark\0prefix # arenas highwater mark\0"
                                 "# arenas highwater markers";
    size_t off = 0;
    /* itself, and as the tail of a longer string (a linker's suffix merge) */
    CU_ASSERT_EQUAL(pm_find_cstring((const uint8_t *)rodata, sizeof rodata,
                                    "# arenas highwater mark", &off), 2);
    CU_ASSERT_EQUAL(off, 2);
    CU_ASSERT_EQUAL(pm_find_cstring((const uint8_t *)rodata, sizeof rodata, "markers", &off), 1);
    CU_ASSERT_EQUAL(pm_find_cstring((const uint8_t *)rodata, sizeof rodata, "nothing", &off), 0);
    CU_ASSERT_EQUAL(pm_find_cstring(NULL, 0, "x", &off), 0);
}

/* usedpools' image: 32 pairs that each point 16 bytes before themselves */
enum { IMG_WORDS = 160, LINK = 0x332000, RUN_AT = 0x100 };

static void put_pairs(uint64_t *img, uint64_t link, uint32_t first_pair, uint32_t n)
{
    for (uint32_t k = 0; k < n; k++) {
        uint64_t a = link + 16ull * (first_pair + k);
        img[2 * (first_pair + k)] = img[2 * (first_pair + k) + 1] = a - 16;
    }
}

static void test_self_pair_run(void)
{
    uint64_t img[IMG_WORDS] = {0};
    uint32_t n = 0;
    put_pairs(img, LINK, RUN_AT / 16, 32);
    /* linked at LINK, mapped 0x7f0000000000 higher */
    uint64_t bias = 0x7f0000000000;
    CU_ASSERT_EQUAL(
        pm_self_pair_run((const uint8_t *)img, sizeof img, LINK + bias, LINK, 8, 256, &n),
        LINK + bias + RUN_AT);
    CU_ASSERT_EQUAL(n, 32);
    /* read at the wrong link address, the words point elsewhere: no run */
    CU_ASSERT_EQUAL(pm_self_pair_run((const uint8_t *)img, sizeof img, LINK, LINK + 16, 8, 256, &n),
                    0);
    /* a pair broken in the middle: two runs of 16, each a candidate: no answer */
    img[2 * (RUN_AT / 16 + 16)] ^= 8;
    CU_ASSERT_EQUAL(pm_self_pair_run((const uint8_t *)img, sizeof img, LINK, LINK, 8, 256, &n), 0);
    /* but a stray short run does not count */
    memset(img, 0, sizeof img);
    put_pairs(img, LINK, RUN_AT / 16, 32);
    put_pairs(img, LINK, 1, 2);
    CU_ASSERT_EQUAL(pm_self_pair_run((const uint8_t *)img, sizeof img, LINK, LINK, 8, 256, &n),
                    LINK + RUN_AT);
    /* a run longer than allowed: no answer */
    CU_ASSERT_EQUAL(pm_self_pair_run((const uint8_t *)img, sizeof img, LINK, LINK, 8, 16, &n), 0);
    /* a run that reaches the end of the image */
    memset(img, 0, sizeof img);
    put_pairs(img, LINK, IMG_WORDS / 2 - 10, 10);
    CU_ASSERT_EQUAL(pm_self_pair_run((const uint8_t *)img, sizeof img, LINK, LINK, 8, 256, &n),
                    LINK + 16ull * (IMG_WORDS / 2 - 10));
    CU_ASSERT_EQUAL(n, 10);
}

/* printone(out, "# arenas highwater mark", narenas_highwater), as GCC
 * compiles it in _PyObject_DebugMallocStats: label into %rsi, the static
 * into %rdx, call printone; then the next label. */
enum { CODE = 0x1000, LABEL = 0x248662, LABEL2 = 0x24867d, BSS_LO = 0x371880,
       BSS_HI = 0x392198, HW = 0x3725a8, NTIMES = 0x3725b0 };

static pm_insn ins(uint64_t at, uint8_t kind, uint8_t reg, uint8_t width, uint64_t target)
{
    pm_insn i = {.at = at, .kind = kind, .reg = reg, .width = width, .target = target, .len = 7};
    return i;
}

static void test_printone_static(void)
{
    pm_insn body[] = {
        ins(CODE + 0x00, PM_INSN_CALL, 0, 0, 0x2000),                 /* previous printone */
        ins(CODE + 0x05, PM_INSN_LEA, PM_REG_RSI, 0, LABEL),
        ins(CODE + 0x0c, PM_INSN_LOAD, PM_REG_RDX, 8, HW),
        ins(CODE + 0x13, PM_INSN_CALL, 0, 0, 0x2000),
        ins(CODE + 0x18, PM_INSN_LEA, PM_REG_RSI, 0, LABEL2),
        ins(CODE + 0x1f, PM_INSN_LOAD, PM_REG_RDX, 8, NTIMES),
        ins(CODE + 0x26, PM_INSN_CALL, 0, 0, 0x2000),
    };
    uint64_t calls[] = {CODE + 0x00, CODE + 0x13, CODE + 0x26};
    size_t n = sizeof body / sizeof body[0];
    CU_ASSERT_EQUAL(pm_printone_static(body, n, calls, 3, LABEL, 8, BSS_LO, BSS_HI), HW);
    CU_ASSERT_EQUAL(pm_printone_static(body, n, calls, 3, LABEL2, 8, BSS_LO, BSS_HI), NTIMES);
    /* an int counter is a movslq: a 64-bit load is not it */
    CU_ASSERT_EQUAL(pm_printone_static(body, n, calls, 3, LABEL, 4, BSS_LO, BSS_HI), 0);
    /* not in .bss: not a static of these */
    CU_ASSERT_EQUAL(pm_printone_static(body, n, calls, 3, LABEL, 8, BSS_LO, HW), 0);
    /* no label load: no answer */
    CU_ASSERT_EQUAL(pm_printone_static(body, n, calls, 3, 0x999, 8, BSS_LO, BSS_HI), 0);
    /* without the call between them, both loads follow the first label: two
     * candidates, no answer */
    uint64_t fewer[] = {CODE + 0x00, CODE + 0x26};
    CU_ASSERT_EQUAL(pm_printone_static(body, n, fewer, 2, LABEL, 8, BSS_LO, BSS_HI), 0);
    /* a second site of the same label that loads another static: no answer */
    pm_insn twice[] = {
        body[0], body[1], body[2], body[3],
        ins(CODE + 0x18, PM_INSN_LEA, PM_REG_RSI, 0, LABEL),
        ins(CODE + 0x1f, PM_INSN_LOAD, PM_REG_RDX, 8, NTIMES),
        body[6],
    };
    CU_ASSERT_EQUAL(pm_printone_static(twice, n, calls, 3, LABEL, 8, BSS_LO, BSS_HI), 0);
    /* the label into another register (not printone's second argument) */
    body[1].reg = 7;
    CU_ASSERT_EQUAL(pm_printone_static(body, n, calls, 3, LABEL, 8, BSS_LO, BSS_HI), 0);
}

bool register_code_scan_tests(void)
{
    static const unit_test tests[] = {
        {"RIP-relative forms", test_rip_forms},
        {"immediates and branches", test_immediates_and_branches},
        {"indexed absolute operands", test_indexed_absolute},
        {"sub from a static", test_sub_from},
        {"a form cut short", test_truncated},
        {"strings in .rodata", test_cstring},
        {"usedpools in the initial image", test_self_pair_run},
        {"the static printed under a label", test_printone_static},
        {NULL, NULL},
    };
    return unit_add_suite("code scan", NULL, NULL, tests);
}
