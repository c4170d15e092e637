/* pool.c - the job pool (see pool.h): one mutex, one condition, a singly linked FIFO. */
#include "core/pool.h"

#include <pthread.h>

#include "core/alloc.h"

typedef struct job job;
struct job {
    job *next;
    pool_fn fn;
    void *arg;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static job *head, *tail;
static bool stopping;
static pthread_t *threads;
static int nthreads;

static void *loop(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&lock);
    for (;;) {
        while (!head && !stopping) {
            pthread_cond_wait(&wake, &lock);
        }
        job *j = head;
        if (!j) {
            break; /* stopping and drained */
        }
        head = j->next;
        if (!head) {
            tail = NULL;
        }
        pthread_mutex_unlock(&lock);
        j->fn(j->arg);
        xfree(j);
        pthread_mutex_lock(&lock);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

bool pool_start(int n)
{
    threads = xcalloc((size_t)n, sizeof(pthread_t));
    if (!threads) {
        return false;
    }
    stopping = false;
    for (int i = 0; i < n; i++) {
        if (pthread_create(&threads[i], NULL, loop, NULL) != 0) {
            break;
        }
        nthreads++;
    }
    return nthreads > 0;
}

bool pool_submit(pool_fn fn, void *arg)
{
    job *j = xmalloc(sizeof *j);
    if (!j) {
        return false;
    }
    j->next = NULL;
    j->fn = fn;
    j->arg = arg;
    pthread_mutex_lock(&lock);
    if (stopping || nthreads == 0) {
        pthread_mutex_unlock(&lock);
        xfree(j);
        return false;
    }
    if (tail) {
        tail->next = j;
    } else {
        head = j;
    }
    tail = j;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
    return true;
}

void pool_stop(void)
{
    pthread_mutex_lock(&lock);
    stopping = true;
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < nthreads; i++) {
        pthread_join(threads[i], NULL);
    }
    xfree(threads);
    threads = NULL;
    nthreads = 0;
}

int pool_threads(void)
{
    return nthreads;
}
