/* A queue's own resources (netback/queue.c): descriptor 0 is a descriptor
 * like any other, "none" is -1. */
#include <check.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "../../netback/nb.h"
#include "nb_harness.h"

static int saved_stdin = -1;

/* Put a fresh eventfd at descriptor 0 (stdin is put back in teardown). */
static void setup(void)
{
    saved_stdin = dup(0);
    int efd = eventfd(0, EFD_CLOEXEC);
    ck_assert_int_ge(efd, 0);
    ck_assert_int_eq(dup2(efd, 0), 0);
    close(efd);
}

static void teardown(void)
{
    if (saved_stdin >= 0) {
        dup2(saved_stdin, 0);
        close(saved_stdin);
    } else {
        close(0);
    }
}

static bool fd0_open(void) { return fcntl(0, F_GETFD) != -1; }

/* A queue whose wake eventfd came out as 0 closes it when released. */
START_TEST(release_closes_wake_fd_0)
{
    struct nb_queue q;
    memset(&q, 0, sizeof q);
    q.wake_fd = 0;
    nb_queue_release(&q);
    ck_assert_msg(!fd0_open(), "the queue's descriptor 0 was left open");
    ck_assert_int_eq(q.wake_fd, -1);
}
END_TEST

/* A vif whose queues never started (never connected) closes nothing of
 * anyone else's when it goes, descriptor 0 included. */
START_TEST(unstarted_queues_close_nothing)
{
    struct world w;
    struct tfe f;
    int dom;
    world_init(&w, 4, 60000);
    world_guest_up(&w, &f, &dom, "idle", "00:16:3e:00:00:21", false);
    tfe_free(&f);
    world_free(&w);
    ck_assert_msg(fd0_open(), "descriptor 0, not the vif's, was closed");
}
END_TEST

Suite *xnv_suite_netback_queue(void)
{
    Suite *s = suite_create("netback_queue");
    TCase *c = tcase_create("fds");
    tcase_add_checked_fixture(c, setup, teardown);
    tcase_add_test(c, release_closes_wake_fd_0);
    tcase_add_test(c, unstarted_queues_close_nothing);
    suite_add_tcase(s, c);
    return s;
}
