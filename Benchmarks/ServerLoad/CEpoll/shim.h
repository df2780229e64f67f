// epoll for the load generator's socket engine (Glibc's Swift module does not include sys/epoll.h).
#ifndef TOKENMETER_CEPOLL_SHIM_H
#define TOKENMETER_CEPOLL_SHIM_H
#include <sys/epoll.h>
#endif
