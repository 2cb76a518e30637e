#!/usr/bin/env python3
"""Makes a tiny seed for fuzz_core from a real core file.

Keeps the ELF header, every program header and the whole PT_NOTE segment
(NT_PRSTATUS, NT_PRPSINFO, NT_AUXV, NT_FILE...), and at most KEEP bytes of
each PT_LOAD segment (p_filesz shrunk to match, p_memsz kept), plus the page
that holds the AT_EXECFN string so that the auxv parser has something to read.
The result is a valid core of the same shape, a few tens of KB instead of MBs.

usage: shrink_core.py CORE OUT [KEEP]
"""
import struct
import sys

PT_LOAD, PT_NOTE, AT_EXECFN, NT_AUXV = 1, 4, 31, 6


def notes(buf):
    off = 0
    while off + 12 <= len(buf):
        namesz, descsz, typ = struct.unpack_from("<III", buf, off)
        name_off = off + 12
        desc_off = name_off + (namesz + 3) // 4 * 4
        yield buf[name_off:name_off + namesz], typ, buf[desc_off:desc_off + descsz]
        off = desc_off + (descsz + 3) // 4 * 4


def main():
    src, dst = sys.argv[1], sys.argv[2]
    keep = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    data = open(src, "rb").read()
    assert data[:4] == b"\x7fELF" and data[4] == 2, "not a 64-bit ELF"
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    phdrs = [list(struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize))
             for i in range(phnum)]
    execfn = None
    for ph in phdrs:
        if ph[0] == PT_NOTE:
            for name, typ, desc in notes(data[ph[2]:ph[2] + ph[5]]):
                if name.rstrip(b"\0") == b"CORE" and typ == NT_AUXV:
                    for i in range(0, len(desc) - 15, 16):
                        t, v = struct.unpack_from("<QQ", desc, i)
                        if t == AT_EXECFN:
                            execfn = v
    out = bytearray(data[:64])
    out += b"\0" * (phnum * phentsize)
    new = []
    for ph in phdrs:
        typ, flags, offset, vaddr, paddr, filesz, memsz, align = ph
        if typ == PT_NOTE:
            body = data[offset:offset + filesz]
        elif typ == PT_LOAD:
            n = min(filesz, keep)
            if execfn is not None and vaddr <= execfn < vaddr + filesz:
                # from the page of the string: the rest of the segment is the stack top
                page = (execfn - vaddr) & ~4095
                vaddr, memsz, offset = vaddr + page, memsz - page, offset + page
                n = min(filesz - page, 8192)
            body = data[offset:offset + n]
        else:
            body = b""
        while len(out) % 8:
            out.append(0)
        new_off = len(out) if body else 0
        out += body
        new.append((typ, flags, new_off, vaddr, paddr, len(body), memsz, align))
    for i, ph in enumerate(new):
        struct.pack_into("<IIQQQQQQ", out, phoff + i * phentsize, *ph)
    open(dst, "wb").write(out)
    print(f"shrink_core: {src} ({len(data)} bytes) -> {dst} ({len(out)} bytes)")


if __name__ == "__main__":
    main()
