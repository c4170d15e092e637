/* pool.h - a fixed set of threads running submitted jobs in FIFO order.
 *
 * The HTTP threads hand tool calls to it so that a long call (a search of a large tree) holds a
 * pool thread, never a connection thread: other requests keep being read and answered. Threads
 * are created by pool_start with the caller's signal mask. pool_stop lets queued jobs finish. */
#ifndef CTXD_CORE_POOL_H
#define CTXD_CORE_POOL_H

#include <stdbool.h>

typedef void (*pool_fn)(void *arg);

bool pool_start(int threads);
/* false when the pool is stopping or out of memory: then run the job yourself */
bool pool_submit(pool_fn fn, void *arg);
void pool_stop(void);
int pool_threads(void);

#endif
