/* A second xnv-netbackd in the same domain would take the first one's
 * control socket and, finding the guests' devices connected, attach a
 * second data path to their rings as if a crashed daemon had left them.
 * An advisory lock held for the life of the process keeps it out; the
 * kernel lets go of it however the process ends. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include "nb.h"

/* The pid the holder wrote into the file, "" when none. */
static void holder(int fd, char *pid, size_t len)
{
    ssize_t n = pread(fd, pid, len - 1, 0);
    pid[n > 0 ? n : 0] = '\0';
    pid[strcspn(pid, "\n")] = '\0';
}

int xnv_netback_instance_lock(const char *path, unsigned wait_ms, char *err, size_t errlen)
{
    nb_make_parent_dir(path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -2;
    }
    for (unsigned waited = 0; flock(fd, LOCK_EX | LOCK_NB) != 0; waited += 100) {
        int e = errno;
        if (e != EWOULDBLOCK) {
            snprintf(err, errlen, "cannot lock %s: %s", path, strerror(e));
            close(fd);
            return -2;
        }
        if (waited >= wait_ms) {
            char pid[24];
            holder(fd, pid, sizeof pid);
            snprintf(err, errlen, "another xnv-netbackd%s%s%s is running in this domain and holds %s: "
                     "stop it first (systemctl stop xnv-netbackd)", pid[0] ? " (pid " : "", pid,
                     pid[0] ? ")" : "", path);
            close(fd);
            return -1;
        }
        usleep(100000);
    }
    char pid[24];
    int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) { /* the pid is only for the message */ }
    return fd;
}
