/* xnv-netfront: running as a daemon.  The parent waits until the child has
 * connected (or failed) and exits with the child's verdict, so that the
 * exit status of `xnv-netfront` means what it says. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "agent.h"

static int ready_fd = -1;

int agent_daemonize(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0) {
        close(p[1]);
        unsigned char st;
        if (read(p[0], &st, 1) != 1) {
            /* The child died before saying anything. */
            int ws;
            st = AGENT_EXIT_FAIL;
            if (waitpid(pid, &ws, 0) == pid && WIFEXITED(ws) && WEXITSTATUS(ws))
                st = (unsigned char)WEXITSTATUS(ws);
        }
        _exit(st);
    }
    close(p[0]);
    setsid();
    umask(022);
    if (chdir("/") < 0) { /* stays where it was */ }
    ready_fd = p[1];
    return 0;
}

void agent_ready(int status)
{
    if (ready_fd < 0)
        return;
    unsigned char st = (unsigned char)status;
    if (write(ready_fd, &st, 1) != 1) { /* the parent is gone: nothing to tell */ }
    close(ready_fd);
    ready_fd = -1;
    if (status != 0)
        return;
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
}

int agent_write_pidfile(const char *path)
{
    FILE *f = fopen(path, "we");
    if (!f)
        return -errno;
    fprintf(f, "%ld\n", (long)getpid());
    return fclose(f) == 0 ? 0 : -errno;
}
