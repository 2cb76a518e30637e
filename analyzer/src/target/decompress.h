/* Compressed cores (zstd, xz, lz4, gzip): recognised by their magic bytes and
 * decompressed once into an unnamed temporary file under $TMPDIR. */
#ifndef PYMAC_DECOMPRESS_H
#define PYMAC_DECOMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pymac/pymac.h"

/* The format whose magic bytes begin head (n bytes of the file's start):
 * "zstd", "xz", "lz4", "gzip", or NULL for anything else. */
const char *pm_compression_of(const unsigned char *head, size_t n);

typedef struct pm_decompressed {
    int fd;                    /* the temporary file, already unlinked: nothing to remove */
    const char *format;        /* as pm_compression_of */
    uint64_t compressed_bytes; /* size of the compressed file */
    uint64_t bytes;            /* size of what it decompressed to */
} pm_decompressed;

/* Decompresses the whole of in_fd (a file in format, named path for messages)
 * into a temporary file whose name is unlinked before a byte is written, so
 * no exit, error or signal can leave it behind. Runs of zero pages become
 * holes. Checks that the output starts like an ELF file. Reports progress in
 * compressed bytes read, if progress is set. Errors: PYMAC_E_TRUNCATED (the
 * stream ends early), PYMAC_E_IO (a corrupt stream, no room in $TMPDIR, a read
 * error), PYMAC_E_NOT_CORE (it decompresses to something else), PYMAC_E_NOMEM. */
pymac_status pm_decompress(int in_fd, const char *path, const char *format,
                           pymac_progress_fn progress, void *progress_ctx,
                           pm_decompressed *out, pymac_error *err);

/* ---- the codecs (codecs.c): one streaming step of one library ---- */

typedef enum { PM_CODEC_MORE, PM_CODEC_END, PM_CODEC_ERROR, PM_CODEC_NOMEM } pm_codec_result;

typedef struct pm_codec pm_codec;
/* A decoder for format, or NULL when out of memory. */
pm_codec *pm_codec_new(const char *format);
/* Consumes from *in (*in_left bytes) and fills *out (*out_left bytes of room),
 * advancing both. PM_CODEC_END: a stream (or frame, or member) ended just
 * here; more input may start another. eof: no input follows what is given.
 * On PM_CODEC_ERROR, *why names the library's complaint. */
pm_codec_result pm_codec_step(pm_codec *c, const unsigned char **in, size_t *in_left,
                              unsigned char **out, size_t *out_left, bool eof, const char **why);
void pm_codec_free(pm_codec *c);

#endif
