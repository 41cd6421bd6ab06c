/*
 * The quick start in C: the official SDK's first workflow through libwebex.
 *
 * Wait for `ready`, create "My First Room", add alice@example.com and bob@example.com at the
 * same time, say **Hi Everyone**, then list what the room holds.
 *
 * With no WEBEX_ACCESS_TOKEN it starts the embedded sandbox in this process and acts as the
 * sandbox's bot. With a token it talks to the real Webex cloud.
 *
 * Build and run (from the repository root, after `cargo build -p webex-ffi`):
 *   export PKG_CONFIG_PATH=$PWD/target/debug
 *   cc -std=c11 examples/c/quickstart.c $(pkg-config --cflags --libs webex) -lpthread -o quickstart
 *   ./quickstart
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <webex.h>

#include "tiny_json.h"

/* Waiting for callbacks: they run on engine threads, so hand results over with a mutex and a
 * condition variable (never sleep, never block inside the callback). */
typedef struct {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int ready;
} Events;

typedef struct {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int done;
    WebexStatus status;
    char *result; /* owned copies: callback strings are only borrowed */
    char *error;
} Call;

static void on_event(void *user_data, const char *event_json) {
    Events *events = user_data;
    char *type = tj_string(event_json, "type");
    if (type && strcmp(type, "ready") == 0) {
        pthread_mutex_lock(&events->mutex);
        events->ready = 1;
        pthread_cond_broadcast(&events->cond);
        pthread_mutex_unlock(&events->mutex);
    }
    free(type);
}

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

static void call_init(Call *call) {
    memset(call, 0, sizeof *call);
    pthread_mutex_init(&call->mutex, NULL);
    pthread_cond_init(&call->cond, NULL);
}

static void call_free(Call *call) {
    free(call->result);
    free(call->error);
    pthread_mutex_destroy(&call->mutex);
    pthread_cond_destroy(&call->cond);
}

static int failed(const char *what, WebexStatus status, const char *error_json) {
    char *last = error_json ? NULL : webex_last_error();
    fprintf(stderr, "quickstart failed: %s: %s %s\n", what, webex_status_name(status),
            error_json ? error_json : last ? last : "");
    webex_string_free(last);
    return 1;
}

/* Starts an operation; the result arrives in `call`. */
static int start(uint64_t client, const char *operation, const char *params, Call *call) {
    call_init(call);
    WebexStatus status = webex_client_call(client, operation, params, on_result, call);
    if (status != WEBEX_OK) {
        failed(operation, status, NULL);
        call->done = 1;
        call->status = status;
    }
    return status == WEBEX_OK;
}

/* Waits for a started operation; returns whether it succeeded. */
static int finish(const char *operation, Call *call) {
    pthread_mutex_lock(&call->mutex);
    while (!call->done) pthread_cond_wait(&call->cond, &call->mutex);
    pthread_mutex_unlock(&call->mutex);
    if (call->status != WEBEX_OK && call->error) failed(operation, call->status, call->error);
    return call->status == WEBEX_OK;
}

static int run(uint64_t client, Events *events) {
    char params[512];
    int ok = 1;

    pthread_mutex_lock(&events->mutex);
    while (!events->ready) pthread_cond_wait(&events->cond, &events->mutex);
    pthread_mutex_unlock(&events->mutex);
    printf("2. The client is ready\n");

    Call room;
    if (!start(client, "rooms.create", "{\"title\": \"My First Room\"}", &room) || !finish("rooms.create", &room)) {
        call_free(&room);
        return 0;
    }
    char *room_id = tj_string(room.result, "id");
    char *title = tj_string(room.result, "title");
    printf("3. Created room \"%s\" (%s)\n", title ? title : "", room_id ? room_id : "?");
    free(title);
    call_free(&room);
    if (!room_id) return 0;

    /* Both memberships are in flight at once; wait for both. */
    const char *emails[2] = {"alice@example.com", "bob@example.com"};
    Call add[2];
    int started[2];
    for (int i = 0; i < 2; i++) {
        snprintf(params, sizeof params, "{\"roomId\": \"%s\", \"personEmail\": \"%s\"}", room_id, emails[i]);
        started[i] = start(client, "memberships.create", params, &add[i]);
    }
    for (int i = 0; i < 2; i++) {
        if (started[i] && finish("memberships.create", &add[i])) {
            char *email = tj_string(add[i].result, "personEmail");
            printf("4. Added %s to the room\n", email ? email : "?");
            free(email);
        } else {
            ok = 0;
        }
        call_free(&add[i]);
    }

    Call hello;
    snprintf(params, sizeof params, "{\"roomId\": \"%s\", \"markdown\": \"**Hi Everyone**\"}", room_id);
    if (ok && start(client, "messages.create", params, &hello) && finish("messages.create", &hello)) {
        char *markdown = tj_string(hello.result, "markdown");
        char *id = tj_string(hello.result, "id");
        printf("5. Sent %s (message %s)\n", markdown ? markdown : "", id ? id : "?");
        free(markdown);
        free(id);
    } else {
        ok = 0;
    }
    call_free(&hello);

    Call list;
    snprintf(params, sizeof params, "{\"roomId\": \"%s\"}", room_id);
    if (ok && start(client, "messages.list", params, &list) && finish("messages.list", &list)) {
        const char *items = tj_find(list.result, "items");
        printf("6. The room holds %d message(s):\n", tj_count(items));
        for (const char *m = tj_first(items); m; m = tj_next(m)) {
            char *email = tj_string(m, "personEmail");
            char *text = tj_string(m, "text");
            printf("   - %s: %s\n", email ? email : "?", text ? text : "");
            free(email);
            free(text);
        }
    } else {
        ok = 0;
    }
    call_free(&list);
    free(room_id);
    return ok;
}

int main(void) {
    uint64_t sandbox = 0, client = 0;
    char *config = NULL;
    WebexStatus status;
    const char *token = getenv("WEBEX_ACCESS_TOKEN");

    if (token && *token) {
        printf("1. Using WEBEX_ACCESS_TOKEN against the real Webex cloud\n");
        config = NULL; /* "{}": the engine reads WEBEX_ACCESS_TOKEN itself */
    } else {
        char *base = NULL, *bot = NULL;
        if ((status = webex_sandbox_start(&sandbox)) != WEBEX_OK) return failed("webex_sandbox_start", status, NULL);
        if ((status = webex_sandbox_base_url(sandbox, &base)) != WEBEX_OK ||
            (status = webex_sandbox_bot_email(sandbox, &bot)) != WEBEX_OK ||
            (status = webex_sandbox_client_config(sandbox, bot, &config)) != WEBEX_OK) {
            failed("sandbox set-up", status, NULL);
            webex_string_free(base);
            webex_string_free(bot);
            webex_sandbox_stop(sandbox);
            return 1;
        }
        printf("1. Started the embedded sandbox at %s as %s\n", base, bot);
        webex_string_free(base);
        webex_string_free(bot);
    }

    Events events;
    memset(&events, 0, sizeof events);
    pthread_mutex_init(&events.mutex, NULL);
    pthread_cond_init(&events.cond, NULL);

    int ok = 0;
    status = webex_client_new(config ? config : "{}", on_event, &events, &client);
    webex_string_free(config);
    if (status == WEBEX_OK) {
        ok = run(client, &events);
        /* Waits for every callback of this client, so `events` may go away afterwards. */
        webex_client_close(client);
    } else {
        failed("webex_client_new", status, NULL);
    }
    if (sandbox) webex_sandbox_stop(sandbox);
    pthread_mutex_destroy(&events.mutex);
    pthread_cond_destroy(&events.cond);
    return ok ? 0 : 1;
}
