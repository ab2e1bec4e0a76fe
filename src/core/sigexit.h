/* SIGINT/SIGTERM during a command's set-up (before the run driver installs its own clean-stop
 * handler): print a message saying what was interrupted and what to do, and exit 130 at once.
 * The handler only calls write(2) and _exit(2) (async-signal-safe); files being written stay as
 * their "*.tmp.PID" temporaries, which afile_remove_stale() clears on the next resume/search. */
#ifndef SRC_SIGEXIT_H
#define SRC_SIGEXIT_H

/* Install the handler for SIGINT and SIGTERM; its message is
 * "approxmap: interrupted by SIGINT|SIGTERM <what>\n" (formatted now, so the handler only writes). */
void sigexit_install(const char *what);

/* Back to the default actions. */
void sigexit_restore(void);

enum { SIGEXIT_STATUS = 130 };

#endif
