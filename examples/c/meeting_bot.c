/*
 * A meeting bot in C: meeting audio through libwebex, offline against the embedded sandbox.
 *
 * Two clients in one process:
 *   - the listener (alice@example.com) schedules a meeting, joins it receiving audio, and
 *     keeps the PCM its audio callback gets, per speaker;
 *   - the bot (the sandbox's bot user) joins the same meeting sending audio and "says" a
 *     440 Hz tone for 2 seconds, one 20 ms frame at a time, paced in real time (it goes on,
 *     up to 10 s, while the listener has not heard half a second of it: on a slow machine
 *     media takes a moment to start).
 * Then the listener prints the roster and the dominant frequency it heard from each speaker:
 *
 *   roster: Alice (IN_MEETING, self), Sandbox Bot (IN_MEETING)
 *   heard 440 Hz from Sandbox Bot (<participant id>), 1.9 s of audio
 *
 * Exit status 0 when it heard 440 Hz (+-5) from the bot.
 *
 * Threads: the audio callback runs on engine threads and must not block: it only copies the
 * samples under a mutex. webex_meeting_send_audio is synchronous and never blocks; it is
 * called here from the main thread. Before the listener's buffer is freed its callback is
 * cleared (clearing waits for a call that is running).
 *
 * Build and run (from the repository root):
 *   cargo build -p webex-ffi && make -C examples/c meeting
 * or by hand:
 *   export PKG_CONFIG_PATH=$PWD/target/debug
 *   cc -std=c11 -D_POSIX_C_SOURCE=200809L examples/c/meeting_bot.c \
 *      $(pkg-config --cflags --libs webex) -lpthread -lm -o meeting_bot
 *   ./meeting_bot
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <webex.h>

#include "tiny_json.h"

#define SAMPLE_RATE 48000
#define FRAME 960 /* samples per 20 ms frame (mono) */
#define SPEAKERS 8
#define KEEP (SAMPLE_RATE * 4) /* at most 4 s of audio per speaker */

static const double PI = 3.14159265358979323846;

/* ---------- running operations synchronously ---------- */

typedef struct {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int done;
    WebexStatus status;
    char *result; /* owned copies: callback strings are only borrowed */
    char *error;
} Call;

static void on_result(void *user_data, WebexStatus status, const char *result_json, const char *error_json) {
    Call *call = user_data;
    pthread_mutex_lock(&call->mutex);
    call->status = status;
    call->result = result_json ? strdup(result_json) : NULL;
    call->error = error_json ? strdup(error_json) : NULL;
    call->done = 1;
    pthread_cond_broadcast(&call->cond);
    pthread_mutex_unlock(&call->mutex);
}

/* Runs `op` with `params` and waits for it; returns the result JSON (caller frees) or NULL
 * after printing the error. */
static char *run(uint64_t client, const char *op, const char *params) {
    Call call = {.done = 0};
    pthread_mutex_init(&call.mutex, NULL);
    pthread_cond_init(&call.cond, NULL);
    WebexStatus status = webex_client_call(client, op, params, on_result, &call);
    if (status == WEBEX_OK) {
        pthread_mutex_lock(&call.mutex);
        while (!call.done) pthread_cond_wait(&call.cond, &call.mutex);
        pthread_mutex_unlock(&call.mutex);
        status = call.status;
    }
    if (status != WEBEX_OK) {
        char *last = call.error ? NULL : webex_last_error();
        fprintf(stderr, "meeting_bot: %s failed: %s %s\n", op, webex_status_name(status),
                call.error ? call.error : last ? last : "");
        webex_string_free(last);
    }
    char *result = call.result;
    free(call.error);
    pthread_mutex_destroy(&call.mutex);
    pthread_cond_destroy(&call.cond);
    return result;
}

static uint64_t open_client(uint64_t sandbox, const char *email) {
    char *config = NULL;
    uint64_t client = 0;
    if (webex_sandbox_client_config(sandbox, email, &config) != WEBEX_OK ||
        webex_client_new(config, NULL, NULL, &client) != WEBEX_OK) {
        char *last = webex_last_error();
        fprintf(stderr, "meeting_bot: no client for %s: %s\n", email, last ? last : "");
        webex_string_free(last);
    }
    webex_string_free(config);
    return client;
}

/* ---------- the listener's ears ---------- */

typedef struct {
    char participant_id[128];
    int16_t *pcm; /* the latest KEEP samples */
    size_t len;
} Speaker;

typedef struct {
    pthread_mutex_t mutex;
    Speaker speakers[SPEAKERS];
    int count;
    int unnamed; /* frames whose speaker the roster did not name yet */
} Ears;

/* The audio callback: runs on engine threads; copies and returns (never blocks). */
static void on_audio(void *user_data, const webex_audio_frame *frame) {
    Ears *ears = user_data;
    pthread_mutex_lock(&ears->mutex);
    if (!frame->participant_id) {
        ears->unnamed++;
        pthread_mutex_unlock(&ears->mutex);
        return;
    }
    Speaker *s = NULL;
    for (int i = 0; i < ears->count && !s; i++)
        if (strcmp(ears->speakers[i].participant_id, frame->participant_id) == 0) s = &ears->speakers[i];
    if (!s && ears->count < SPEAKERS) {
        s = &ears->speakers[ears->count++];
        snprintf(s->participant_id, sizeof s->participant_id, "%s", frame->participant_id);
        s->pcm = malloc(KEEP * sizeof s->pcm[0]);
    }
    if (s && s->pcm && s->len + frame->frames <= KEEP) {
        /* Mono: the first channel of each frame. */
        for (size_t i = 0; i < frame->frames; i++) s->pcm[s->len++] = frame->samples[i * frame->channels];
    }
    pthread_mutex_unlock(&ears->mutex);
}

/* The power of `hz` in `x` (the Goertzel algorithm). */
static double tone_power(const int16_t *x, size_t n, double hz) {
    double coeff = 2.0 * cos(2.0 * PI * hz / SAMPLE_RATE), s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        double s0 = x[i] + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

/* The strongest whole frequency between lo and hi Hz. */
static int dominant_frequency(const int16_t *x, size_t n, int lo, int hi) {
    int best = lo;
    double best_power = -1;
    for (int hz = lo; hz <= hi; hz++) {
        double p = tone_power(x, n, hz);
        if (p > best_power) best_power = p, best = hz;
    }
    return best;
}

/* ---------- the bot's voice ---------- */

/* The most audio the listener holds from one speaker, in samples. */
static size_t heard_most(Ears *ears) {
    size_t most = 0;
    pthread_mutex_lock(&ears->mutex);
    for (int i = 0; i < ears->count; i++)
        if (ears->speakers[i].len > most) most = ears->speakers[i].len;
    pthread_mutex_unlock(&ears->mutex);
    return most;
}

/* Says a `hz` tone for `seconds` (and on, up to 10 s, until `ears` heard half a second): one
 * 20 ms frame, then 20 ms of real time (a sound card would deliver frames at that pace; the
 * engine does not pace). */
static int say_tone(uint64_t bot, const char *meeting_id, double hz, double seconds, Ears *ears) {
    int16_t frame[FRAME];
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (int f = 0; f < (int)(seconds * 50) || (f < 10 * 50 && heard_most(ears) < SAMPLE_RATE / 2); f++) {
        for (int i = 0; i < FRAME; i++) {
            double t = (double)(f * FRAME + i) / SAMPLE_RATE;
            frame[i] = (int16_t)(sin(2.0 * PI * hz * t) * 8000.0);
        }
        if (webex_meeting_send_audio(bot, meeting_id, frame, FRAME, 1) != WEBEX_OK) {
            char *last = webex_last_error();
            fprintf(stderr, "meeting_bot: sending audio failed: %s\n", last ? last : "");
            webex_string_free(last);
            return 0;
        }
        /* The next frame is due 20 ms after this one. A speaker that fell behind (a slow
         * machine) does not burst to catch up: it starts a new schedule from now. */
        struct timespec now, wait;
        clock_gettime(CLOCK_MONOTONIC, &now);
        next.tv_nsec += 20 * 1000 * 1000;
        if (next.tv_nsec >= 1000000000L) next.tv_sec++, next.tv_nsec -= 1000000000L;
        long ns = (next.tv_sec - now.tv_sec) * 1000000000L + (next.tv_nsec - now.tv_nsec);
        if (ns <= 0) {
            ns = 20 * 1000 * 1000;
            next = now;
            next.tv_nsec += ns;
            if (next.tv_nsec >= 1000000000L) next.tv_sec++, next.tv_nsec -= 1000000000L;
        }
        wait.tv_sec = ns / 1000000000L;
        wait.tv_nsec = ns % 1000000000L;
        nanosleep(&wait, NULL);
    }
    return 1;
}

/* The display name of participant `id` in a `meetings.members` answer (caller frees). */
static char *member_name(const char *members, const char *id) {
    for (const char *m = tj_first(members); m; m = tj_next(m)) {
        char *mid = tj_string(m, "id");
        int same = mid && strcmp(mid, id) == 0;
        free(mid);
        if (same) return tj_string(m, "name");
    }
    return NULL;
}

int main(void) {
    int ok = 0;
    uint64_t sandbox = 0;
    if (webex_sandbox_start(&sandbox) != WEBEX_OK) {
        char *last = webex_last_error();
        fprintf(stderr, "meeting_bot: cannot start the sandbox: %s\n", last ? last : "");
        webex_string_free(last);
        return 1;
    }
    char *bot_email = NULL;
    webex_sandbox_bot_email(sandbox, &bot_email);
    uint64_t listener = open_client(sandbox, "alice@example.com");
    uint64_t bot = bot_email ? open_client(sandbox, bot_email) : 0;
    Ears *ears = calloc(1, sizeof *ears);
    pthread_mutex_init(&ears->mutex, NULL);
    char *scheduled = NULL, *number = NULL, *l_meeting = NULL, *l_id = NULL, *l_join = NULL;
    char *b_meeting = NULL, *b_id = NULL, *b_join = NULL, *members = NULL;
    char params[512];
    if (!listener || !bot) goto done;

    /* The listener schedules a meeting and joins it, receiving audio. */
    scheduled = run(listener, "scheduledMeetings.create",
                    "{\"title\": \"Tone check\", \"start\": \"2030-01-01T10:00:00Z\", "
                    "\"end\": \"2030-01-01T10:30:00Z\"}");
    number = tj_string(scheduled, "meetingNumber");
    if (!number) goto done;
    snprintf(params, sizeof params, "{\"destination\": \"%s\"}", number);
    l_meeting = run(listener, "meetings.create", params);
    l_id = tj_string(l_meeting, "id");
    if (!l_id) goto done;
    /* The callback may be set before joining: no frame is missed. */
    if (webex_meeting_set_audio_callback(listener, l_id, on_audio, ears) != WEBEX_OK) goto done;
    snprintf(params, sizeof params, "{\"meetingId\": \"%s\", \"audio\": {\"receive\": true}}", l_id);
    l_join = run(listener, "meetings.join", params);
    if (!l_join) goto done;

    /* The bot joins the same meeting by number, sending audio, and says its tone. */
    snprintf(params, sizeof params, "{\"destination\": \"%s\"}", number);
    b_meeting = run(bot, "meetings.create", params);
    b_id = tj_string(b_meeting, "id");
    if (!b_id) goto done;
    snprintf(params, sizeof params, "{\"meetingId\": \"%s\", \"audio\": {\"send\": true}}", b_id);
    b_join = run(bot, "meetings.join", params);
    if (!b_join) goto done;
    printf("meeting %s: the bot says 440 Hz for 2 s\n", number);
    if (!say_tone(bot, b_id, 440.0, 2.0, ears)) goto done;

    /* What the listener heard. */
    snprintf(params, sizeof params, "{\"meetingId\": \"%s\"}", l_id);
    members = run(listener, "meetings.members", params);
    printf("roster:");
    for (const char *m = tj_first(members); m; m = tj_next(m)) {
        char *name = tj_string(m, "name"), *status = tj_string(m, "status");
        printf("%s %s (%s%s)", m == tj_first(members) ? "" : ",", name ? name : "?", status ? status : "?",
               tj_is(m, "isSelf", "true") ? ", self" : "");
        free(name), free(status);
    }
    printf("\n");
    /* Stop the callback before reading (and later freeing) what it wrote: once this returns,
     * no call is running and none will start. */
    webex_meeting_set_audio_callback(listener, l_id, NULL, NULL);
    char *bot_pid = tj_string(b_join, "selfId");
    for (int i = 0; i < ears->count; i++) {
        Speaker *s = &ears->speakers[i];
        char *name = member_name(members, s->participant_id);
        /* The last second: the first frames may start mid-stream. */
        size_t n = s->len < SAMPLE_RATE ? s->len : SAMPLE_RATE;
        int hz = n ? dominant_frequency(s->pcm + s->len - n, n, 300, 600) : 0;
        printf("heard %d Hz from %s (%s), %.1f s of audio\n", hz, name ? name : "an unknown participant",
               s->participant_id, (double)s->len / SAMPLE_RATE);
        if (bot_pid && strcmp(bot_pid, s->participant_id) == 0 && n >= SAMPLE_RATE / 2 && hz >= 435 && hz <= 445)
            ok = 1;
        free(name);
    }
    if (ears->count == 0) printf("heard nothing (%d unnamed frames)\n", ears->unnamed);
    free(bot_pid);

    snprintf(params, sizeof params, "{\"meetingId\": \"%s\"}", b_id);
    free(run(bot, "meetings.leave", params));
    snprintf(params, sizeof params, "{\"meetingId\": \"%s\"}", l_id);
    free(run(listener, "meetings.leave", params));

done:
    if (listener && l_id) webex_meeting_set_audio_callback(listener, l_id, NULL, NULL);
    if (listener) webex_client_close(listener);
    if (bot) webex_client_close(bot);
    webex_sandbox_stop(sandbox);
    for (int i = 0; i < ears->count; i++) free(ears->speakers[i].pcm);
    pthread_mutex_destroy(&ears->mutex);
    free(ears);
    free(scheduled), free(number), free(l_meeting), free(l_id), free(l_join);
    free(b_meeting), free(b_id), free(b_join), free(members);
    webex_string_free(bot_email);
    printf("%s\n", ok ? "ok: the listener heard the bot's 440 Hz tone" : "FAILED: no 440 Hz tone from the bot");
    return ok ? 0 : 1;
}
