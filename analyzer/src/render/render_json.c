/* What every JSON document of a view ends with: the session's warnings, and
 * whether the interpreter is newer than pymac was tested on. */
#include <stdio.h>

#include "json.h"
#include "pm.h"
#include "render_json.h"

void pm_json_warnings(FILE *out, const struct pymac_session *s)
{
    const char *newest = pymac_untested_version(s);
    if (newest) {
        /* every document says when the interpreter is newer than pymac knows */
        fputs("\"untested_version\": true, ", out);
        pm_json_key(out, "newest_tested_version");
        pm_json_str(out, newest);
        fputs(", ", out);
    }
    pm_json_key(out, "warnings");
    fputc('[', out);
    for (size_t i = 0; i < s->warnings.n; i++) {
        if (i)
            fputs(", ", out);
        pm_json_str(out, s->warnings.v[i]);
    }
    fputc(']', out);
}
