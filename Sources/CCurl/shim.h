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
static inline CURLcode tm_easy_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode tm_easy_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }

// Macros built from other macros are not imported into Swift; expose them as functions.
static inline size_t tm_writefunc_pause(void) { return CURL_WRITEFUNC_PAUSE; }
static inline int tm_pause_cont(void) { return CURLPAUSE_CONT; }
static inline long tm_http_version_1_1(void) { return CURL_HTTP_VERSION_1_1; }
static inline long tm_global_default(void) { return CURL_GLOBAL_DEFAULT; }

// Names the calling thread (the curl event-loop thread), so it is recognisable in /proc and
// debuggers. prctl is variadic, hence the wrapper.
#include <sys/prctl.h>
static inline void tm_set_current_thread_name(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }
#endif
