// The one place TokenMeter includes libcurl. Variadic curl_easy_setopt/curl_multi_setopt are not
// callable from Swift, so typed wrappers are declared here as static inline functions.
#ifndef TOKENMETER_CCURL_SHIM_H
#define TOKENMETER_CCURL_SHIM_H
#include <curl/curl.h>

static inline CURLcode tm_easy_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode tm_easy_setopt_ptr(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode tm_easy_setopt_str(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode tm_easy_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode tm_easy_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode tm_easy_getinfo_ptr(CURL *h, CURLINFO i, void **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLMcode tm_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }
static inline CURLMcode tm_multi_setopt_ptr(CURLM *m, CURLMoption o, void *v) { return curl_multi_setopt(m, o, v); }

// Callback setters: function pointers passed through the variadic setopt with their exact C type.
typedef size_t (*tm_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode tm_easy_setopt_write_callback(CURL *h, tm_data_callback f) { return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, f); }
static inline CURLcode tm_easy_setopt_header_callback(CURL *h, tm_data_callback f) { return curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, f); }
static inline CURLcode tm_easy_setopt_prereq_callback(CURL *h, curl_prereq_callback f) { return curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, f); }
static inline CURLcode tm_easy_setopt_read_callback(CURL *h, tm_data_callback f) { return curl_easy_setopt(h, CURLOPT_READFUNCTION, f); }
static inline CURLcode tm_easy_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode tm_easy_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }

// Macros built from other macros are not imported into Swift; expose them as functions.
static inline size_t tm_writefunc_pause(void) { return CURL_WRITEFUNC_PAUSE; }
static inline int tm_pause_cont(void) { return CURLPAUSE_CONT; }
static inline int tm_pause_send(void) { return CURLPAUSE_SEND; }
static inline int tm_pause_recv(void) { return CURLPAUSE_RECV; }
static inline size_t tm_readfunc_pause(void) { return CURL_READFUNC_PAUSE; }
static inline long tm_http_version_1_1(void) { return CURL_HTTP_VERSION_1_1; }
static inline long tm_global_default(void) { return CURL_GLOBAL_DEFAULT; }

// The loop's readiness API (curl_multi_socket_action): libcurl says which sockets it waits on and when its next
// timeout is through these two callbacks, and the loop waits on them with epoll, so a wake costs the sockets
// that are ready rather than a poll() over every open transfer.
static inline CURLMcode tm_multi_setopt_socket_callback(CURLM *m, curl_socket_callback f) { return curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, f); }
static inline CURLMcode tm_multi_setopt_timer_callback(CURLM *m, curl_multi_timer_callback f) { return curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, f); }
static inline curl_socket_t tm_socket_timeout(void) { return CURL_SOCKET_TIMEOUT; }

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

// epoll_event is packed on x86_64, which Swift does not import reliably; these wrappers keep it in C.
// Registers (or re-registers) fd for libcurl's CURL_POLL_IN/OUT/INOUT; 0 on success, else errno.
static inline int tm_epoll_watch(int ep, int fd, int curl_what) {
    struct epoll_event ev = {0};
    ev.events = (curl_what & CURL_POLL_IN ? EPOLLIN : 0) | (curl_what & CURL_POLL_OUT ? EPOLLOUT : 0);
    ev.data.fd = fd;
    if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) == 0) return 0;
    if (errno != ENOENT) return errno;
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : errno;
}
static inline void tm_epoll_unwatch(int ep, int fd) { epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL); }
// Waits up to timeout_ms; fills fds[i] and the matching CURL_CSELECT_* flags; returns the count or -1.
static inline int tm_epoll_wait(int ep, int *fds, int *flags, int max, int timeout_ms) {
    struct epoll_event events[1024];
    if (max > 1024) max = 1024;
    int n = epoll_wait(ep, events, max, timeout_ms);
    for (int i = 0; i < n; i++) {
        uint32_t e = events[i].events;
        fds[i] = events[i].data.fd;
        flags[i] = (e & EPOLLIN ? CURL_CSELECT_IN : 0) | (e & EPOLLOUT ? CURL_CSELECT_OUT : 0)
            | (e & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
    }
    return n;
}

// Names the calling thread (the curl event-loop thread), so it is recognisable in /proc and
// debuggers. prctl is variadic, hence the wrapper.
#include <sys/prctl.h>
static inline void tm_set_current_thread_name(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }
#endif
