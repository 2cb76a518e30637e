/* One streaming step of libzstd, liblzma, liblz4 or zlib behind one
 * interface, for decompress.c. Concatenated frames, streams and gzip members
 * decode as one stream, as the command-line tools do. */
#include <lz4frame.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "decompress.h"

struct pm_codec {
    enum { ZSTD, XZ, LZ4, GZIP } kind;
    bool ended; /* gzip: a member ended; the next input starts another */
    ZSTD_DCtx *zstd;
    lzma_stream xz;
    LZ4F_dctx *lz4;
    z_stream gz;
};

pm_codec *pm_codec_new(const char *format)
{
    pm_codec *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    bool ok = false;
    if (strcmp(format, "zstd") == 0) {
        c->kind = ZSTD;
        ok = (c->zstd = ZSTD_createDCtx()) != NULL;
    } else if (strcmp(format, "xz") == 0) {
        c->kind = XZ;
        c->xz = (lzma_stream)LZMA_STREAM_INIT;
        ok = lzma_stream_decoder(&c->xz, UINT64_MAX, LZMA_CONCATENATED) == LZMA_OK;
    } else if (strcmp(format, "lz4") == 0) {
        c->kind = LZ4;
        ok = !LZ4F_isError(LZ4F_createDecompressionContext(&c->lz4, LZ4F_VERSION));
    } else if (strcmp(format, "gzip") == 0) {
        c->kind = GZIP;
        /* 16 + 15: a gzip header and trailer, the largest window */
        ok = inflateInit2(&c->gz, 16 + MAX_WBITS) == Z_OK;
    }
    if (!ok) {
        pm_codec_free(c);
        return NULL;
    }
    return c;
}

void pm_codec_free(pm_codec *c)
{
    if (!c)
        return;
    switch (c->kind) {
    case ZSTD:
        ZSTD_freeDCtx(c->zstd);
        break;
    case XZ:
        lzma_end(&c->xz);
        break;
    case LZ4:
        if (c->lz4)
            LZ4F_freeDecompressionContext(c->lz4);
        break;
    case GZIP:
        inflateEnd(&c->gz);
        break;
    }
    free(c);
}

static pm_codec_result step_zstd(pm_codec *c, const unsigned char **in, size_t *in_left,
                                 unsigned char **out, size_t *out_left, const char **why)
{
    ZSTD_inBuffer ib = {*in, *in_left, 0};
    ZSTD_outBuffer ob = {*out, *out_left, 0};
    size_t r = ZSTD_decompressStream(c->zstd, &ob, &ib);
    *in += ib.pos;
    *in_left -= ib.pos;
    *out += ob.pos;
    *out_left -= ob.pos;
    if (ZSTD_isError(r)) {
        *why = ZSTD_getErrorName(r);
        return ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? PM_CODEC_NOMEM
                                                                   : PM_CODEC_ERROR;
    }
    return r == 0 ? PM_CODEC_END : PM_CODEC_MORE; /* 0: a frame decoded and flushed */
}

static pm_codec_result step_xz(pm_codec *c, const unsigned char **in, size_t *in_left,
                               unsigned char **out, size_t *out_left, bool eof, const char **why)
{
    c->xz.next_in = *in;
    c->xz.avail_in = *in_left;
    c->xz.next_out = *out;
    c->xz.avail_out = *out_left;
    /* LZMA_CONCATENATED: the end of the last stream is known only at LZMA_FINISH */
    lzma_ret r = lzma_code(&c->xz, eof ? LZMA_FINISH : LZMA_RUN);
    *in = c->xz.next_in;
    *in_left = c->xz.avail_in;
    *out = c->xz.next_out;
    *out_left = c->xz.avail_out;
    switch (r) {
    case LZMA_OK:
    case LZMA_BUF_ERROR: /* no progress possible: the caller sees none was made */
        return PM_CODEC_MORE;
    case LZMA_STREAM_END:
        return PM_CODEC_END;
    case LZMA_MEM_ERROR:
        *why = "out of memory";
        return PM_CODEC_NOMEM;
    case LZMA_FORMAT_ERROR:
        *why = "not an xz stream";
        return PM_CODEC_ERROR;
    case LZMA_OPTIONS_ERROR:
        *why = "unsupported xz options";
        return PM_CODEC_ERROR;
    default:
        *why = "corrupt xz data";
        return PM_CODEC_ERROR;
    }
}

static pm_codec_result step_lz4(pm_codec *c, const unsigned char **in, size_t *in_left,
                                unsigned char **out, size_t *out_left, const char **why)
{
    size_t src = *in_left, dst = *out_left;
    size_t r = LZ4F_decompress(c->lz4, *out, &dst, *in, &src, NULL);
    *in += src;
    *in_left -= src;
    *out += dst;
    *out_left -= dst;
    if (LZ4F_isError(r)) {
        *why = LZ4F_getErrorName(r);
        return PM_CODEC_ERROR;
    }
    return r == 0 ? PM_CODEC_END : PM_CODEC_MORE; /* 0: a frame fully decoded */
}

static pm_codec_result step_gzip(pm_codec *c, const unsigned char **in, size_t *in_left,
                                 unsigned char **out, size_t *out_left, const char **why)
{
    if (c->ended && *in_left) {
        /* another member follows (gzip a b > c.gz) */
        c->ended = false;
        if (inflateReset(&c->gz) != Z_OK) {
            *why = "cannot restart zlib";
            return PM_CODEC_ERROR;
        }
    }
    c->gz.next_in = (unsigned char *)*in;
    c->gz.avail_in = *in_left > UINT32_MAX ? UINT32_MAX : (uInt)*in_left;
    c->gz.next_out = *out;
    c->gz.avail_out = *out_left > UINT32_MAX ? UINT32_MAX : (uInt)*out_left;
    uInt in_had = c->gz.avail_in, out_had = c->gz.avail_out;
    int r = inflate(&c->gz, Z_NO_FLUSH);
    *in += in_had - c->gz.avail_in;
    *in_left -= in_had - c->gz.avail_in;
    *out += out_had - c->gz.avail_out;
    *out_left -= out_had - c->gz.avail_out;
    switch (r) {
    case Z_OK:
    case Z_BUF_ERROR: /* no progress possible */
        return PM_CODEC_MORE;
    case Z_STREAM_END:
        return PM_CODEC_END;
    case Z_MEM_ERROR:
        *why = "out of memory";
        return PM_CODEC_NOMEM;
    default:
        *why = c->gz.msg ? c->gz.msg : "corrupt gzip data";
        return PM_CODEC_ERROR;
    }
}

pm_codec_result pm_codec_step(pm_codec *c, const unsigned char **in, size_t *in_left,
                              unsigned char **out, size_t *out_left, bool eof, const char **why)
{
    pm_codec_result r;
    switch (c->kind) {
    case ZSTD:
        r = step_zstd(c, in, in_left, out, out_left, why);
        break;
    case XZ:
        r = step_xz(c, in, in_left, out, out_left, eof, why);
        break;
    case LZ4:
        r = step_lz4(c, in, in_left, out, out_left, why);
        break;
    default:
        r = step_gzip(c, in, in_left, out, out_left, why);
        break;
    }
    if (r == PM_CODEC_END)
        c->ended = true;
    return r;
}
