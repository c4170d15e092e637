/* log.h - the server's diagnostic log on stderr (never the audit log).
 *
 * Lines are `<RFC 3339 ts> <level> <message>`; messages are lower case, without a trailing
 * period, subjects quoted. Nothing secret (tokens, arguments, file contents) is ever logged. */
#ifndef CTXD_CORE_LOG_H
#define CTXD_CORE_LOG_H

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

void log_set_level(log_level l);
void log_msg(log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
