/* JSON pieces every view's document shares. */
#ifndef PYMAC_RENDER_JSON_H
#define PYMAC_RENDER_JSON_H

#include <stdio.h>

struct pymac_session;
/* Writes the session's warnings as "warnings": [...] (after
 * "untested_version": true and "newest_tested_version" when the interpreter
 * is newer than pymac knows). */
void pm_json_warnings(FILE *out, const struct pymac_session *s);

#endif
