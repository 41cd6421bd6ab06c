// webex.h compiles as C++ and its functions have C linkage (the extern "C" guards).
#include <webex.h>

extern "C" {
typedef WebexStatus (*call_fn)(uint64_t, const char *, const char *, webex_result_cb, void *);
}

static_assert(WEBEX_OK == 0 && WEBEX_INTERNAL == 15, "status numbers are stable");
const call_fn call_has_c_linkage = &webex_client_call;
