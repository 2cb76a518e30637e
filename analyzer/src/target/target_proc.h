/* A running process as the target (Linux, ptrace). */
#ifndef PYMAC_TARGET_PROC_H
#define PYMAC_TARGET_PROC_H

#include "pm.h"

/* Attaches to pid (mode: PYMAC_STOP, PYMAC_NO_STOP or PYMAC_HELD), reads its
 * maps and threads, and sets the session's reader. */
pymac_status pm_proc_attach(pymac_session *s, int pid, int mode, pymac_error *err);
/* Resumes the threads and frees the attachment. */
void pm_proc_detach(pymac_session *s);
/* Resumes the threads; async-signal-safe, for a front end's signal handler. */
void pm_proc_release(struct pm_proc *p);

/* The process id, 0 if p is NULL. */
int pm_proc_pid(const struct pm_proc *p);

#endif
