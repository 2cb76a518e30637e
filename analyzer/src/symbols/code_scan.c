/* Byte patterns of the x86-64 instructions that name statics (code_scan.h).
 *
 * A RIP-relative operand is ModRM with mod = 00 and rm = 101 followed by a
 * 32-bit displacement from the end of the instruction; with an optional REX
 * prefix (0x40-0x4f: W = 64-bit operand, R = the register's high bit):
 *   [REX] 8b modrm disp32          mov X(%rip), %reg
 *   [REX] 89 modrm disp32          mov %reg, X(%rip)
 *   REX.W 8d modrm disp32          lea X(%rip), %reg
 *   REX.W 63 modrm disp32          movslq X(%rip), %reg
 *   [REX] 39/3b modrm disp32       cmp with a register
 *   [REX] 29 modrm disp32          sub %reg, X(%rip)
 *   [REX] 83 /d modrm disp32 imm8  add/sub/cmp $imm8 (sign-extended)
 *   [REX] 81 /d modrm disp32 imm32 and $imm32
 *   [REX] c7 /0 modrm disp32 imm32 mov $imm32
 *   [REX] ff /0,/1 modrm disp32    inc, dec
 * and a non-PIE executable's absolute addresses as immediates:
 *   [REX.B] b8+r imm32             mov $imm32, %reg32
 *   REX.W c7 /0 (mod 11) imm32     mov $imm32, %reg64
 *   REX.W 3d imm32                 cmp $imm32, %rax
 *   REX.W 81 /7 (mod 11) imm32     cmp $imm32, %reg64
 *   REX.W 83 /7 (mod 11) imm8      cmp $imm8, %reg64 (a loop's bound)
 *   [REX] 8b/89 modrm(mod 00, rm 100) SIB(base 101) disp32
 *                                  mov X(,%idx,scale) and back: an array
 * and e8/e9 rel32, direct call and jmp. */
#include <string.h>

#include "code_scan.h"

static int32_t get_i32(const uint8_t *p)
{
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24);
}

static bool is_rex(uint8_t b)
{
    return b >= 0x40 && b <= 0x4f;
}

/* The instruction of a known form at code[i], if any. An opcode after a
 * REX byte with which it makes a known form was read with it, one byte back
 * (`48 8b 05` is not also a 32-bit `8b 05`); else the byte before is taken
 * for the end of another instruction. */
static bool decode_at(const uint8_t *code, size_t len, size_t i, uint64_t vaddr, pm_insn *out)
{
    uint8_t rex = 0;
    size_t j = i;
    if (is_rex(code[i]))
        rex = code[j++];
    else if (i > 0 && is_rex(code[i - 1]) && decode_at(code, len, i - 1, vaddr, out))
        return false;
    if (j >= len)
        return false;
    bool w = rex & 8;
    uint8_t op = code[j];
    memset(out, 0, sizeof *out);
    out->at = vaddr + i;
    if (!rex && (op == 0xe8 || op == 0xe9) && j + 5 <= len) {
        out->kind = op == 0xe8 ? PM_INSN_CALL : PM_INSN_JMP;
        out->len = 5;
        out->target = out->at + 5 + (uint64_t)(int64_t)get_i32(code + j + 1);
        return true;
    }
    if (op >= 0xb8 && op <= 0xbf && (rex == 0 || rex == 0x41) && j + 5 <= len) {
        out->kind = PM_INSN_IMM32;
        out->reg = (uint8_t)((op - 0xb8) | (rex & 1 ? 8 : 0));
        out->len = (uint8_t)(j - i + 5);
        out->target = (uint32_t)get_i32(code + j + 1);
        return true;
    }
    if (w && op == 0x3d && j + 5 <= len) {
        out->kind = PM_INSN_CMP_IMM;
        out->len = (uint8_t)(j - i + 5);
        out->target = (uint64_t)(int64_t)get_i32(code + j + 1);
        return true;
    }
    if (j + 2 > len)
        return false;
    uint8_t modrm = code[j + 1], digit = (modrm >> 3) & 7;
    if (w && op == 0x83 && (modrm >> 6) == 3 && digit == 7 && j + 3 <= len) {
        out->kind = PM_INSN_CMP_IMM;
        out->reg = (uint8_t)((modrm & 7) | (rex & 1 ? 8 : 0));
        out->len = (uint8_t)(j - i + 3);
        out->target = (uint64_t)(int64_t)(int8_t)code[j + 2];
        return true;
    }
    if (w && (op == 0x81 || op == 0xc7) && (modrm >> 6) == 3 && j + 6 <= len &&
        ((op == 0x81 && digit == 7) || (op == 0xc7 && digit == 0))) {
        out->kind = op == 0x81 ? PM_INSN_CMP_IMM : PM_INSN_IMM32;
        out->reg = (uint8_t)((modrm & 7) | (rex & 1 ? 8 : 0));
        out->len = (uint8_t)(j - i + 6);
        out->target = (uint64_t)(int64_t)get_i32(code + j + 2);
        return true;
    }
    if ((op == 0x8b || op == 0x89) && (modrm & 0xc7) == 0x04 && j + 7 <= len &&
        (code[j + 2] & 7) == 5) {
        out->kind = PM_INSN_ABS_INDEXED;
        out->reg = (uint8_t)(digit | (rex & 4 ? 8 : 0));
        out->width = w ? 8 : 4;
        out->len = (uint8_t)(j - i + 7);
        out->target = (uint64_t)(int64_t)get_i32(code + j + 3);
        return true;
    }
    if ((modrm & 0xc7) != 0x05 || j + 6 > len)
        return false;
    size_t n = j - i + 6; /* up to the end of the displacement */
    out->reg = (uint8_t)(digit | (rex & 4 ? 8 : 0));
    out->width = w ? 8 : 4;
    switch (op) {
    case 0x8b:
        out->kind = PM_INSN_LOAD;
        break;
    case 0x89:
        out->kind = PM_INSN_STORE;
        break;
    case 0x8d:
        if (!w)
            return false;
        out->kind = PM_INSN_LEA;
        out->width = 0;
        break;
    case 0x63:
        if (!w)
            return false;
        out->kind = PM_INSN_LOAD_SX32;
        out->width = 4;
        break;
    case 0x39:
    case 0x3b:
        out->kind = PM_INSN_CMP;
        break;
    case 0x29:
        out->kind = PM_INSN_SUB_FROM;
        break;
    case 0x83:
    case 0x81:
    case 0xc7: {
        size_t imm_len = op == 0x83 ? 1 : 4;
        if ((op == 0xc7 && digit != 0) || i + n + imm_len > len)
            return false;
        out->kind = PM_INSN_MEM_IMM;
        out->reg = op == 0xc7 ? 8 : digit;
        out->imm = op == 0x83 ? (int8_t)code[i + n] : get_i32(code + i + n);
        n += imm_len;
        break;
    }
    case 0xff:
        if (digit > 1)
            return false;
        out->kind = PM_INSN_MEM_OTHER;
        out->reg = digit;
        break;
    default:
        return false;
    }
    out->len = (uint8_t)n;
    out->target = out->at + n + (uint64_t)(int64_t)get_i32(code + j + 2);
    return true;
}

bool pm_code_scan(const uint8_t *code, size_t len, uint64_t vaddr, pm_insn_fn fn, void *ctx)
{
    pm_insn insn;
    for (size_t i = 0; i < len; i++)
        if (decode_at(code, len, i, vaddr, &insn) && !fn(ctx, &insn))
            return false;
    return true;
}

size_t pm_find_cstring(const uint8_t *buf, size_t len, const char *text, size_t *off)
{
    size_t n = strlen(text) + 1, count = 0; /* with its NUL */
    if (!buf || len < n)
        return 0;
    for (const uint8_t *p = buf, *end = buf + len - n + 1; p < end;) {
        const uint8_t *hit = memchr(p, (unsigned char)text[0], (size_t)(end - p));
        if (!hit)
            break;
        if (memcmp(hit, text, n) == 0 && count++ == 0 && off)
            *off = (size_t)(hit - buf);
        p = hit + 1;
    }
    return count;
}
