// webex.h compiles as C++ and its functions have C linkage (the extern "C" guards).
#include <webex.h>

extern "C" {
typedef WebexStatus (*call_fn)(uint64_t, const char *, const char *, webex_result_cb, void *);
typedef WebexStatus (*send_audio_fn)(uint64_t, const char *, const int16_t *, size_t, uint32_t);
static void on_audio(void *, const webex_audio_frame *) {}
}

static_assert(WEBEX_OK == 0 && WEBEX_INTERNAL == 15, "status numbers are stable");
const call_fn call_has_c_linkage = &webex_client_call;
const send_audio_fn send_audio_has_c_linkage = &webex_meeting_send_audio;
const webex_audio_frame_cb audio_cb_is_a_c_function = &on_audio;
