/* Minimal JSON output helpers. */
#include "json.h"

#include "pm.h"

void pm_json_str(FILE *out, const char *s)
{
    if (!s) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

void pm_json_key(FILE *out, const char *key)
{
    pm_json_str(out, key);
    fputs(": ", out);
}

void pm_json_warnings(FILE *out, const struct pymac_session *s)
{
    pm_json_key(out, "warnings");
    fputc('[', out);
    for (size_t i = 0; i < pymac_warning_count(s); i++) {
        if (i)
            fputs(", ", out);
        pm_json_str(out, pymac_warning(s, i));
    }
    fputc(']', out);
}
