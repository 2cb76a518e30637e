/* x86-64 machine code read as byte patterns, with no disassembler: the few
 * instruction forms a compiler uses to name a static (RIP-relative operands,
 * or 32-bit absolute immediates in a non-PIE executable) and direct branches.
 * A stripped interpreter names its file statics nowhere else; the finders
 * (runtime/statics_find.c, runtime/obmalloc_find.c) read them from the code
 * of exported functions. Pure functions of a buffer: no session. */
#ifndef PYMAC_CODE_SCAN_H
#define PYMAC_CODE_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum pm_insn_kind {
    PM_INSN_LOAD,      /* mov X(%rip), %reg (width 4 or 8) */
    PM_INSN_LOAD_SX32, /* movslq X(%rip), %reg64: an int widened */
    PM_INSN_STORE,     /* mov %reg, X(%rip) */
    PM_INSN_LEA,       /* lea X(%rip), %reg64 */
    PM_INSN_CMP,       /* cmp %reg, X(%rip) / cmp X(%rip), %reg */
    PM_INSN_SUB_FROM,  /* sub %reg, X(%rip): X -= reg */
    PM_INSN_MEM_IMM,   /* add/sub/cmp/mov $imm, X(%rip) (op: the modrm /digit, 8 = mov) */
    PM_INSN_MEM_OTHER, /* inc/dec X(%rip) (op: the /digit) */
    PM_INSN_IMM32,     /* mov $imm32, %reg32 (a non-PIE address); target is the value */
    PM_INSN_CMP_IMM,   /* cmp $imm8/$imm32, %reg64 (sign-extended); target is the value */
    PM_INSN_ABS_INDEXED, /* mov X(,%idx,scale), %reg / the store: a non-PIE array;
                          * target is X (sign-extended) */
    PM_INSN_CALL,      /* call rel32 */
    PM_INSN_JMP,       /* jmp rel32 */
} pm_insn_kind;

typedef struct pm_insn {
    uint64_t at;     /* address of its first byte (a REX prefix included) */
    uint64_t target; /* the memory operand's address, the immediate or the branch target */
    int64_t imm;     /* PM_INSN_MEM_IMM: the immediate */
    uint8_t kind;    /* pm_insn_kind */
    uint8_t reg;     /* register number 0-15 (rax=0 ... rdx=2, rsi=6); a /digit for MEM_* */
    uint8_t width;   /* bytes of the memory operand (4 or 8); 0 if none */
    uint8_t len;     /* bytes of the instruction */
} pm_insn;

enum { PM_REG_RDX = 2, PM_REG_RSI = 6 };

/* Calls fn for each instruction of a known form that could start at each
 * byte of code[0 .. len) (mapped at vaddr): matched at every offset, not
 * decoded from an entry, so a match inside another instruction's bytes is
 * possible; the finders accept only answers that pass their cross-checks.
 * An opcode right after a REX.W byte is read only with that prefix. fn
 * returns false to stop; the result is false then. */
typedef bool (*pm_insn_fn)(void *ctx, const pm_insn *insn);
bool pm_code_scan(const uint8_t *code, size_t len, uint64_t vaddr, pm_insn_fn fn, void *ctx);

/* How many times text followed by its NUL occurs in buf[0 .. len); the
 * offset of the first in *off. */
size_t pm_find_cstring(const uint8_t *buf, size_t len, const char *text, size_t *off);

#endif
