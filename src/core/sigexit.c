/* Set-up signal handling: see sigexit.h. */
#include "sigexit.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char g_msg_int[1024], g_msg_term[1024]; /* formatted before the handler is installed */

static void on_signal(int sig)
{
    const char *m = sig == SIGINT ? g_msg_int : g_msg_term;
    ssize_t w = write(STDERR_FILENO, m, strlen(m));
    (void)w;
    _exit(SIGEXIT_STATUS);
}

void sigexit_install(const char *what)
{
    snprintf(g_msg_int, sizeof g_msg_int, "approxmap: interrupted by SIGINT %s\n", what);
    snprintf(g_msg_term, sizeof g_msg_term, "approxmap: interrupted by SIGTERM %s\n", what);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void sigexit_restore(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
}
