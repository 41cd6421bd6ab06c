/*
 * The C test suite of libwebex, against the embedded sandbox (real HTTP on loopback).
 *
 *   test_webex            every group
 *   test_webex misuse     one group (ops, events, clients, close, errors, misuse, media, all)
 *
 * Callbacks run on engine threads; tests wait for them with a mutex and a condition variable
 * (never sleep to synchronise; the media tests sleep 20 ms per audio frame and 66 ms per video
 * frame they send, which is media pacing). The last line is "N passed, M failed".
 *
 * WEBEX_ROOT (the repository, set by the Makefile) locates the sandbox's video asset.
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <webex.h>

#include "tiny_json.h"

#ifndef WEBEX_ROOT
#define WEBEX_ROOT "."
#endif

/* ---------- a tiny test runner ---------- */

static int current_failed;

#define CHECK(cond)                                                                \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "    %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            current_failed = 1;                                                    \
        }                                                                          \
    } while (0)

#define CHECK_STATUS(expr, expected)                                                              \
    do {                                                                                          \
        WebexStatus got_ = (expr);                                                                \
        if (got_ != (expected)) {                                                                 \
            char *last_ = webex_last_error();                                                     \
            fprintf(stderr, "    %s:%d: %s returned %s, expected %s (%s)\n", __FILE__, __LINE__, #expr, \
                    webex_status_name(got_), webex_status_name(expected), last_ ? last_ : "no last error"); \
            webex_string_free(last_);                                                             \
            current_failed = 1;                                                                   \
        }                                                                                         \
    } while (0)

/* NULL-safe "%s" argument. */
#define S(x) ((x) ? (x) : "")

static uint64_t sandbox;

/* ---------- waiting for callbacks ---------- */

/* One call's result: copies of the borrowed callback strings, and how often the callback ran. */
typedef struct {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int calls;
    WebexStatus status;
    char *result;
    char *error;
    pthread_t thread;
} Call;

static void call_init(Call *c) {
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mutex, NULL);
    pthread_cond_init(&c->cond, NULL);
}

static void call_free(Call *c) {
    free(c->result);
    free(c->error);
    pthread_mutex_destroy(&c->mutex);
    pthread_cond_destroy(&c->cond);
}

static void on_result(void *user_data, WebexStatus status, const char *result_json, const char *error_json) {
    Call *c = user_data;
    pthread_mutex_lock(&c->mutex);
    c->calls++;
    c->status = status;
    free(c->result);
    free(c->error);
    c->result = result_json ? strdup(result_json) : NULL;
    c->error = error_json ? strdup(error_json) : NULL;
    c->thread = pthread_self();
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->mutex);
}

static void call_wait(Call *c) {
    pthread_mutex_lock(&c->mutex);
    while (c->calls == 0) pthread_cond_wait(&c->cond, &c->mutex);
    pthread_mutex_unlock(&c->mutex);
}

/* Operation names driven so far, to check that every operation of the table was. */
#define MAX_OPS 128
static char *ops_called[MAX_OPS];
static int ops_called_count;

static void note_op(const char *op) {
    for (int i = 0; i < ops_called_count; i++)
        if (strcmp(ops_called[i], op) == 0) return;
    if (ops_called_count < MAX_OPS) ops_called[ops_called_count++] = strdup(op);
}

/* Runs an operation to completion; returns its status. `*result` / `*error` (when not NULL)
 * receive malloc'd copies for the caller to free. */
static WebexStatus run_op(uint64_t client, const char *op, const char *params, char **result, char **error) {
    Call c;
    call_init(&c);
    note_op(op);
    WebexStatus status = webex_client_call(client, op, params, on_result, &c);
    if (status == WEBEX_OK) {
        call_wait(&c);
        status = c.status;
        CHECK(c.calls == 1);
        CHECK((c.status == WEBEX_OK) == (c.result != NULL));
        CHECK((c.status == WEBEX_OK) == (c.error == NULL));
    }
    if (result) { *result = c.result; c.result = NULL; }
    if (error) { *error = c.error; c.error = NULL; }
    call_free(&c);
    return status;
}

/* Runs an operation that must succeed; returns its result (caller frees) or NULL. */
static char *ok_op(uint64_t client, const char *op, const char *fmt, ...) {
    char params[2048];
    va_list args;
    va_start(args, fmt);
    vsnprintf(params, sizeof params, fmt, args);
    va_end(args);
    char *result = NULL, *error = NULL;
    WebexStatus status = run_op(client, op, params, &result, &error);
    if (status != WEBEX_OK) {
        char *last = error ? NULL : webex_last_error();
        fprintf(stderr, "    %s(%s) failed: %s %s\n", op, params, webex_status_name(status), error ? error : S(last));
        webex_string_free(last);
        current_failed = 1;
    }
    free(error);
    return result;
}

/* Runs an operation that must fail with `expected`; returns the error JSON (caller frees). */
static char *err_op(uint64_t client, const char *op, const char *params, WebexStatus expected) {
    char *result = NULL, *error = NULL;
    WebexStatus status = run_op(client, op, params, &result, &error);
    if (status != expected) {
        fprintf(stderr, "    %s(%s): got %s, expected %s\n", op, params, webex_status_name(status),
                webex_status_name(expected));
        current_failed = 1;
    }
    free(result);
    return error;
}

/* Whether the JSON string member `key` of `obj` equals `want`. */
static int str_is(const char *obj, const char *key, const char *want) {
    char *v = tj_string(obj, key);
    int eq = v && strcmp(v, want) == 0;
    if (!eq) fprintf(stderr, "    member %s is \"%s\", expected \"%s\"\n", key, S(v), want);
    free(v);
    return eq;
}

/* The last error's message contains `needle`. */
static int last_error_mentions(const char *needle) {
    char *last = webex_last_error();
    int found = last && strstr(last, needle) != NULL;
    if (!found) fprintf(stderr, "    last error %s does not mention \"%s\"\n", last ? last : "(NULL)", needle);
    webex_string_free(last);
    return found;
}

/* ---------- clients and their events ---------- */

#define MAX_EVENTS 256

typedef struct {
    uint64_t handle;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    char *events[MAX_EVENTS];
    int count;
    int off_thread; /* every event arrived on a thread other than the creator's */
    pthread_t creator;
} Client;

static void on_event(void *user_data, const char *event_json) {
    Client *c = user_data;
    pthread_mutex_lock(&c->mutex);
    if (c->count < MAX_EVENTS) c->events[c->count++] = strdup(event_json);
    if (pthread_equal(pthread_self(), c->creator)) c->off_thread = 0;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->mutex);
}

static char *config_for(const char *email) {
    char *config = NULL;
    CHECK_STATUS(webex_sandbox_client_config(sandbox, email, &config), WEBEX_OK);
    return config;
}

/* Creates a client for the sandbox user `email` (caller: client_close); `extra` (when not
 * NULL) is more members for its config object, e.g. "\"meetings\": {...}". */
static Client *client_open_with(const char *email, const char *extra) {
    Client *c = calloc(1, sizeof *c);
    pthread_mutex_init(&c->mutex, NULL);
    pthread_cond_init(&c->cond, NULL);
    c->creator = pthread_self();
    c->off_thread = 1;
    char *config = config_for(email), merged[4096];
    /* The sandbox's config is one JSON object: the extra members go before its closing brace. */
    size_t len = config ? strlen(config) : 0;
    if (extra && len > 0) snprintf(merged, sizeof merged, "%.*s, %s}", (int)(len - 1), config, extra);
    CHECK_STATUS(webex_client_new(extra && len > 0 ? merged : config, on_event, c, &c->handle), WEBEX_OK);
    webex_string_free(config);
    return c;
}

/* Creates a client for the sandbox user `email` (caller: client_close). */
static Client *client_open(const char *email) {
    return client_open_with(email, NULL);
}

/* Whether an event's JSON (of the awaited type) is the one awaited. */
typedef int (*EventMatch)(const char *event_json, const void *arg);

/* How many events the client has received so far (for waiting only on later ones). */
static int client_event_count(Client *c) {
    pthread_mutex_lock(&c->mutex);
    int n = c->count;
    pthread_mutex_unlock(&c->mutex);
    return n;
}

/* Waits (at most 30 s) for an event of `type`, the `from`th event of the client or a later
 * one, that `match` accepts (every one if NULL); returns a copy of it (caller frees), or NULL
 * after a failed CHECK. `what` names it. */
static char *client_wait_event_from(Client *c, int from, const char *type, EventMatch match, const void *arg,
                                    const char *what) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    pthread_mutex_lock(&c->mutex);
    for (int seen = from;;) {
        for (; seen < c->count; seen++) {
            char *t = tj_string(c->events[seen], "type");
            int found = t && strcmp(t, type) == 0 && (!match || match(c->events[seen], arg));
            free(t);
            if (found) {
                char *copy = strdup(c->events[seen]);
                pthread_mutex_unlock(&c->mutex);
                return copy;
            }
        }
        if (pthread_cond_timedwait(&c->cond, &c->mutex, &deadline) != 0) {
            pthread_mutex_unlock(&c->mutex);
            fprintf(stderr, "    no %s event %s within 30 s\n", type, what);
            current_failed = 1;
            return NULL;
        }
    }
}

/* The same, among all of the client's events. */
static char *client_wait_event_where(Client *c, const char *type, EventMatch match, const void *arg,
                                     const char *what) {
    return client_wait_event_from(c, 0, type, match, arg, what);
}

static int contains(const char *event_json, const void *needle) {
    return strstr(event_json, needle) != NULL;
}

/* Waits (at most 30 s) for an event of `type` whose JSON contains `needle` (if not NULL);
 * returns a copy of it (caller frees), or NULL after a failed CHECK. */
static char *client_wait_event_with(Client *c, const char *type, const char *needle) {
    char what[256];
    snprintf(what, sizeof what, "containing %s", needle ? needle : "anything");
    return client_wait_event_where(c, type, needle ? contains : NULL, needle, what);
}

static char *client_wait_event(Client *c, const char *type) {
    return client_wait_event_with(c, type, NULL);
}

static void client_close(Client *c) {
    CHECK_STATUS(webex_client_close(c->handle), WEBEX_OK);
    for (int i = 0; i < c->count; i++) free(c->events[i]);
    pthread_mutex_destroy(&c->mutex);
    pthread_cond_destroy(&c->cond);
    free(c);
}

static const char *ALICE = "alice@example.com";
static const char *BOB = "bob@example.com";

static char *bot_email(void) {
    char *email = NULL;
    CHECK_STATUS(webex_sandbox_bot_email(sandbox, &email), WEBEX_OK);
    return email;
}

/* ---------- ops: every operation family through the C ABI ---------- */

static void test_people(void) {
    char *bot = bot_email();
    Client *c = client_open(bot);
    char *me = ok_op(c->handle, "people.me", "{}");
    CHECK(me && strstr(me, bot));
    char *list = ok_op(c->handle, "people.list", "{\"email\": \"%s\"}", ALICE);
    const char *alice = tj_first(tj_find(list, "items"));
    char *alice_id = tj_string(alice, "id");
    CHECK(alice_id != NULL);
    char *got = ok_op(c->handle, "people.get", "{\"personId\": \"%s\"}", S(alice_id));
    CHECK(str_is(got, "displayName", "Alice"));
    free(me), free(list), free(alice_id), free(got);
    client_close(c);
    webex_string_free(bot);
}

static void test_rooms_and_pages(void) {
    Client *c = client_open(ALICE);
    char *room = ok_op(c->handle, "rooms.create", "{\"title\": \"C room\"}");
    char *id = tj_string(room, "id");
    CHECK(str_is(room, "type", "group"));
    char *got = ok_op(c->handle, "rooms.get", "{\"roomId\": \"%s\"}", S(id));
    CHECK(str_is(got, "title", "C room"));
    char *renamed = ok_op(c->handle, "rooms.update", "{\"roomId\": \"%s\", \"title\": \"Renamed\"}", S(id));
    CHECK(str_is(renamed, "title", "Renamed"));
    char *info = ok_op(c->handle, "rooms.meetingInfo", "{\"roomId\": \"%s\"}", S(id));
    CHECK(tj_find(info, "meetingLink") && *tj_find(info, "meetingLink") == '"');
    char *second = ok_op(c->handle, "rooms.create", "{\"title\": \"C room 2\"}");
    char *first_page = ok_op(c->handle, "rooms.list", "{\"max\": 1}");
    CHECK(tj_count(tj_find(first_page, "items")) == 1);
    char *cursor = tj_string(first_page, "next");
    CHECK(cursor != NULL);
    char *next_page = ok_op(c->handle, "pages.next", "{\"cursor\": \"%s\"}", S(cursor));
    CHECK(tj_count(tj_find(next_page, "items")) == 1);
    char *a = tj_string(tj_first(tj_find(first_page, "items")), "id");
    char *b = tj_string(tj_first(tj_find(next_page, "items")), "id");
    CHECK(a && b && strcmp(a, b) != 0);
    char *deleted = ok_op(c->handle, "rooms.delete", "{\"roomId\": \"%s\"}", S(id));
    CHECK(deleted && strcmp(deleted, "null") == 0);
    free(room), free(id), free(got), free(renamed), free(info), free(second), free(first_page), free(cursor);
    free(next_page), free(a), free(b), free(deleted);
    client_close(c);
}

static void test_memberships(void) {
    Client *c = client_open(ALICE);
    char *room = ok_op(c->handle, "rooms.create", "{\"title\": \"members\"}");
    char *room_id = tj_string(room, "id");
    char *bob_list = ok_op(c->handle, "people.list", "{\"email\": \"%s\"}", BOB);
    char *bob_id = tj_string(tj_first(tj_find(bob_list, "items")), "id");
    char *m = ok_op(c->handle, "memberships.create", "{\"roomId\": \"%s\", \"personId\": \"%s\"}", S(room_id), S(bob_id));
    char *m_id = tj_string(m, "id");
    CHECK(str_is(m, "personEmail", BOB));
    char params[512];
    snprintf(params, sizeof params, "{\"roomId\": \"%s\", \"personEmail\": \"%s\"}", S(room_id), BOB);
    char *dup = err_op(c->handle, "memberships.create", params, WEBEX_CONFLICT);
    CHECK(str_is(dup, "code", "CONFLICT") && tj_is(dup, "status", "409") && tj_is(dup, "codeNumber", "5"));
    char *list = ok_op(c->handle, "memberships.list", "{\"roomId\": \"%s\"}", S(room_id));
    CHECK(tj_count(tj_find(list, "items")) == 2);
    char *got = ok_op(c->handle, "memberships.get", "{\"membershipId\": \"%s\"}", S(m_id));
    CHECK(str_is(got, "personId", S(bob_id)));
    char *mod = ok_op(c->handle, "memberships.update", "{\"membershipId\": \"%s\", \"isModerator\": true}", S(m_id));
    CHECK(tj_is(mod, "isModerator", "true"));
    char *del = ok_op(c->handle, "memberships.delete", "{\"membershipId\": \"%s\"}", S(m_id));
    CHECK(del && strcmp(del, "null") == 0);
    free(room), free(room_id), free(bob_list), free(bob_id), free(m), free(m_id), free(dup), free(list);
    free(got), free(mod), free(del);
    client_close(c);
}

static void test_messages_and_attachment_actions(void) {
    Client *c = client_open(ALICE);
    char *room = ok_op(c->handle, "rooms.create", "{\"title\": \"messages\"}");
    char *room_id = tj_string(room, "id");
    char *msg = ok_op(c->handle, "messages.create", "{\"roomId\": \"%s\", \"markdown\": \"**Hi Everyone**\"}", S(room_id));
    char *msg_id = tj_string(msg, "id");
    CHECK(str_is(msg, "markdown", "**Hi Everyone**"));
    char *direct = ok_op(c->handle, "messages.create", "{\"toPersonEmail\": \"%s\", \"text\": \"hello bob\"}", BOB);
    CHECK(str_is(direct, "roomType", "direct"));
    char *dlist = ok_op(c->handle, "messages.listDirect", "{\"personEmail\": \"%s\"}", BOB);
    CHECK(str_is(tj_first(tj_find(dlist, "items")), "text", "hello bob"));
    char *list = ok_op(c->handle, "messages.list", "{\"roomId\": \"%s\"}", S(room_id));
    CHECK(str_is(tj_first(tj_find(list, "items")), "id", S(msg_id)));
    char *got = ok_op(c->handle, "messages.get", "{\"messageId\": \"%s\"}", S(msg_id));
    CHECK(str_is(got, "roomId", S(room_id)));
    char *edited = ok_op(c->handle, "messages.update",
                         "{\"messageId\": \"%s\", \"roomId\": \"%s\", \"text\": \"edited\"}", S(msg_id), S(room_id));
    CHECK(str_is(edited, "text", "edited"));
    char *card = ok_op(c->handle, "messages.create",
                       "{\"roomId\": \"%s\", \"text\": \"card\", \"attachments\": [{\"contentType\": "
                       "\"application/vnd.microsoft.card.adaptive\", \"content\": {\"type\": \"AdaptiveCard\", "
                       "\"version\": \"1.2\", \"body\": [{\"type\": \"TextBlock\", \"text\": \"Pick\"}], "
                       "\"actions\": [{\"type\": \"Action.Submit\", \"title\": \"OK\"}]}}]}",
                       S(room_id));
    char *card_id = tj_string(card, "id");
    char *action = ok_op(c->handle, "attachmentActions.create",
                         "{\"type\": \"submit\", \"messageId\": \"%s\", \"inputs\": {\"choice\": \"a\"}}", S(card_id));
    char *action_id = tj_string(action, "id");
    char *action_got = ok_op(c->handle, "attachmentActions.get", "{\"id\": \"%s\"}", S(action_id));
    CHECK(str_is(tj_find(action_got, "inputs"), "choice", "a"));
    char *del = ok_op(c->handle, "messages.delete", "{\"messageId\": \"%s\"}", S(msg_id));
    CHECK(del && strcmp(del, "null") == 0);
    char params[256];
    snprintf(params, sizeof params, "{\"messageId\": \"%s\"}", S(msg_id));
    char *gone = err_op(c->handle, "messages.get", params, WEBEX_NOT_FOUND);
    /* The error JSON carries what the cloud said. */
    CHECK(str_is(gone, "code", "NOT_FOUND") && tj_is(gone, "status", "404"));
    char *tracking = tj_string(gone, "trackingId");
    CHECK(tracking && *tracking);
    free(room), free(room_id), free(msg), free(msg_id), free(direct), free(dlist), free(list), free(got);
    free(edited), free(card), free(card_id), free(action), free(action_id), free(action_got), free(del);
    free(gone), free(tracking);
    client_close(c);
}

static void test_teams_and_team_memberships(void) {
    Client *c = client_open(ALICE);
    char *team = ok_op(c->handle, "teams.create", "{\"name\": \"Team A\", \"description\": \"d\"}");
    char *team_id = tj_string(team, "id");
    char *got = ok_op(c->handle, "teams.get", "{\"teamId\": \"%s\"}", S(team_id));
    CHECK(str_is(got, "name", "Team A"));
    char *renamed = ok_op(c->handle, "teams.update", "{\"teamId\": \"%s\", \"name\": \"Team B\"}", S(team_id));
    CHECK(str_is(renamed, "name", "Team B"));
    char *teams = ok_op(c->handle, "teams.list", "{}");
    CHECK(teams && team_id && strstr(teams, team_id));
    char *tm = ok_op(c->handle, "teamMemberships.create", "{\"teamId\": \"%s\", \"personEmail\": \"%s\"}", S(team_id), BOB);
    char *tm_id = tj_string(tm, "id");
    char *tms = ok_op(c->handle, "teamMemberships.list", "{\"teamId\": \"%s\"}", S(team_id));
    CHECK(tj_count(tj_find(tms, "items")) == 2);
    char *tm_got = ok_op(c->handle, "teamMemberships.get", "{\"membershipId\": \"%s\"}", S(tm_id));
    CHECK(str_is(tm_got, "teamId", S(team_id)));
    char *tm_mod =
        ok_op(c->handle, "teamMemberships.update", "{\"membershipId\": \"%s\", \"isModerator\": true}", S(tm_id));
    CHECK(tj_is(tm_mod, "isModerator", "true"));
    char *tm_del = ok_op(c->handle, "teamMemberships.delete", "{\"membershipId\": \"%s\"}", S(tm_id));
    char *team_del = ok_op(c->handle, "teams.delete", "{\"teamId\": \"%s\"}", S(team_id));
    CHECK(tm_del && team_del);
    free(team), free(team_id), free(got), free(renamed), free(teams), free(tm), free(tm_id), free(tms);
    free(tm_got), free(tm_mod), free(tm_del), free(team_del);
    client_close(c);
}

static void test_webhooks(void) {
    Client *c = client_open(BOB);
    char *hook = ok_op(c->handle, "webhooks.create",
                       "{\"name\": \"w\", \"targetUrl\": \"https://example.test/hook\", \"resource\": \"messages\", "
                       "\"event\": \"created\"}");
    char *id = tj_string(hook, "id");
    char *got = ok_op(c->handle, "webhooks.get", "{\"webhookId\": \"%s\"}", S(id));
    CHECK(str_is(got, "resource", "messages"));
    char *upd = ok_op(c->handle, "webhooks.update",
                      "{\"webhookId\": \"%s\", \"name\": \"w2\", \"targetUrl\": \"https://example.test/hook2\"}", S(id));
    CHECK(str_is(upd, "name", "w2"));
    char *list = ok_op(c->handle, "webhooks.list", "{}");
    CHECK(tj_count(tj_find(list, "items")) == 1);
    char *del = ok_op(c->handle, "webhooks.delete", "{\"webhookId\": \"%s\"}", S(id));
    CHECK(del != NULL);
    free(hook), free(id), free(got), free(upd), free(list), free(del);
    client_close(c);
}

static void test_scheduled_meetings(void) {
    Client *c = client_open(ALICE);
    char *m = ok_op(c->handle, "scheduledMeetings.create",
                    "{\"title\": \"Sync\", \"start\": \"2030-01-01T10:00:00Z\", \"end\": \"2030-01-01T11:00:00Z\"}");
    char *id = tj_string(m, "id");
    char *number = tj_string(m, "meetingNumber");
    CHECK(number != NULL);
    char *got = ok_op(c->handle, "scheduledMeetings.get", "{\"meetingId\": \"%s\"}", S(id));
    CHECK(str_is(got, "title", "Sync"));
    char *list = ok_op(c->handle, "scheduledMeetings.list",
                       "{\"from\": \"2029-12-31T00:00:00Z\", \"to\": \"2030-01-02T00:00:00Z\"}");
    CHECK(list && id && strstr(list, id));
    char *upd = ok_op(c->handle, "scheduledMeetings.update",
                      "{\"meetingId\": \"%s\", \"title\": \"Sync 2\", \"start\": \"2030-01-01T10:00:00Z\", "
                      "\"end\": \"2030-01-01T12:00:00Z\"}",
                      S(id));
    CHECK(str_is(upd, "title", "Sync 2"));
    char *patched = ok_op(c->handle, "scheduledMeetings.patch", "{\"meetingId\": \"%s\", \"agenda\": \"notes\"}", S(id));
    CHECK(str_is(patched, "agenda", "notes"));
    /* Joining it through Locus (signalling only; a codec the engine does not have is refused). */
    char *meeting = ok_op(c->handle, "meetings.create", "{\"destination\": \"%s\"}", S(number));
    char *mid = tj_string(meeting, "id");
    CHECK(str_is(meeting, "state", "IDLE"));
    char params[256];
    snprintf(params, sizeof params, "{\"meetingId\": \"%s\", \"video\": {\"send\": true, \"codec\": \"AV1\"}}",
             S(mid));
    char *bad_codec = err_op(c->handle, "meetings.join", params, WEBEX_INVALID_ARGUMENT);
    CHECK(bad_codec && strstr(bad_codec, "AV1"));
    free(bad_codec);
    const char *steps[][2] = {
        {"meetings.join", "JOINED"}, {"meetings.get", "JOINED"}, {"meetings.muteAudio", "JOINED"},
        {"meetings.unmuteAudio", "JOINED"}, {"meetings.muteVideo", "JOINED"}, {"meetings.unmuteVideo", "JOINED"},
        {"meetings.leave", "LEFT"}, {"meetings.join", "JOINED"}, {"meetings.end", "ENDED"},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        char *view = ok_op(c->handle, steps[i][0], "{\"meetingId\": \"%s\"}", S(mid));
        CHECK(str_is(view, "state", steps[i][1]));
        free(view);
    }
    /* Audio over WebRTC to the sandbox's media server, then its statistics. */
    char *audio = ok_op(c->handle, "meetings.create", "{\"destination\": \"%s\"}", S(number));
    char *aid = tj_string(audio, "id");
    char *with_audio = ok_op(c->handle, "meetings.join",
                             "{\"meetingId\": \"%s\", \"audio\": {\"send\": true, \"receive\": true}}", S(aid));
    CHECK(str_is(with_audio, "mediaState", "CONNECTED"));
    char *stats = ok_op(c->handle, "meetings.getStats", "{\"meetingId\": \"%s\"}", S(aid));
    CHECK(stats && strstr(stats, "\"direction\":\"send\"") != NULL);
    free(ok_op(c->handle, "meetings.leave", "{\"meetingId\": \"%s\"}", S(aid)));
    free(audio), free(aid), free(with_audio), free(stats);
    char *members = ok_op(c->handle, "meetings.members", "{\"meetingId\": \"%s\"}", S(mid));
    CHECK(members && members[0] == '[');
    char *meetings = ok_op(c->handle, "meetings.list", "{}");
    CHECK(meetings && mid && strstr(meetings, mid));
    char *del = ok_op(c->handle, "scheduledMeetings.delete", "{\"meetingId\": \"%s\"}", S(id));
    CHECK(del != NULL);
    free(m), free(id), free(number), free(got), free(list), free(upd), free(patched), free(del);
    free(meeting), free(mid), free(members), free(meetings);
    client_close(c);
}

static void test_config_and_raw_http(void) {
    Client *c = client_open(ALICE);
    char *cfg = ok_op(c->handle, "config.get", "");
    CHECK(str_is(tj_find(cfg, "credentials"), "access_token", "<redacted>"));
    char *me = ok_op(c->handle, "people.me", "{}");
    char *raw = ok_op(c->handle, "http.request", "{\"method\": \"GET\", \"resource\": \"people/me\"}");
    char *a = tj_string(me, "id"), *b = tj_string(raw, "id");
    CHECK(a && b && strcmp(a, b) == 0);
    free(cfg), free(me), free(raw), free(a), free(b);
    char *logs = ok_op(c->handle, "logs.history", "{}");
    CHECK(logs && logs[0] == '[');
    char *status = ok_op(c->handle, "credentials.status", "{}");
    CHECK(str_is(status, "renewal", "none"));
    free(logs), free(status);
    /* A plain token cannot be renewed, and OAuth calls say what config is missing. */
    free(err_op(c->handle, "credentials.refresh", "{}", WEBEX_UNAUTHORIZED));
    free(err_op(c->handle, "authorization.url", "{}", WEBEX_INVALID_ARGUMENT));
    free(err_op(c->handle, "authorization.exchangeCode", "{\"code\": \"c\"}", WEBEX_INVALID_ARGUMENT));
    free(err_op(c->handle, "authorization.requestAccessTokenFromJwt", "{\"jwt\": \"a.b.c\"}", WEBEX_UNAUTHORIZED));
    /* credentials.set takes effect on the next call. */
    free(ok_op(c->handle, "credentials.set", "{\"access_token\": \"no-such-token-at-all\"}"));
    free(err_op(c->handle, "people.me", "{}", WEBEX_UNAUTHORIZED));
    client_close(c);
}

/* ---------- credentials: OAuth and an app-supplied store ---------- */

/* The user's browser: GET an http://127.0.0.1 URL plus "&login_hint=<email>" over a plain
 * socket and return the Location header of the redirect (caller frees), or NULL. */
static char *browser_consent(const char *url, const char *email) {
    int port = 0;
    char path[2048];
    if (sscanf(url, "http://127.0.0.1:%d%2047s", &port, path) != 2) {
        fprintf(stderr, "    unexpected authorize URL %s\n", url);
        return NULL;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        if (fd >= 0) close(fd);
        return NULL;
    }
    char request[4096];
    int n = snprintf(request, sizeof request, "GET %s&login_hint=%s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                     path, email);
    if (write(fd, request, (size_t)n) != n) {
        close(fd);
        return NULL;
    }
    char response[8192];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof response - 1 && (r = read(fd, response + got, sizeof response - 1 - got)) > 0) got += (size_t)r;
    response[got] = 0;
    close(fd);
    const char *loc = strstr(response, "\r\nlocation: ");
    if (!loc) loc = strstr(response, "\r\nLocation: ");
    if (strncmp(response, "HTTP/1.1 302", 12) != 0 || !loc) {
        fprintf(stderr, "    the authorize endpoint answered: %.200s\n", response);
        return NULL;
    }
    loc += strlen("\r\nlocation: ");
    return strndup(loc, strcspn(loc, "\r\n"));
}

/* The value of query parameter `name` in `url` (caller frees), or NULL. */
static char *query_param(const char *url, const char *name) {
    size_t len = strlen(name);
    for (const char *p = strchr(url, '?'); p; p = strchr(p + 1, '&')) {
        if (strncmp(p + 1, name, len) == 0 && p[1 + len] == '=') return strndup(p + 2 + len, strcspn(p + 2 + len, "&"));
    }
    return NULL;
}

/* An app-supplied store: two slots, and what the engine asked of it. Puts arrive on engine
 * threads, hence the mutex. */
#define STORE_SLOTS 4
typedef struct {
    pthread_mutex_t mutex;
    pthread_cond_t cond; /* signalled by release */
    char *keys[STORE_SLOTS];
    char *values[STORE_SLOTS];
    int gets, puts, removes, released;
} AppStore;

static int store_slot(AppStore *s, const char *key) {
    for (int i = 0; i < STORE_SLOTS; i++)
        if (s->keys[i] && strcmp(s->keys[i], key) == 0) return i;
    return -1;
}

static int store_get(void *user_data, const char *key, webex_storage_found_cb found, void *found_ctx) {
    AppStore *s = user_data;
    pthread_mutex_lock(&s->mutex);
    s->gets++;
    int i = store_slot(s, key);
    if (i >= 0) found(found_ctx, s->values[i]);
    pthread_mutex_unlock(&s->mutex);
    return 0;
}

static int store_put(void *user_data, const char *key, const char *json) {
    AppStore *s = user_data;
    pthread_mutex_lock(&s->mutex);
    s->puts++;
    int i = store_slot(s, key);
    for (int j = 0; i < 0 && j < STORE_SLOTS; j++)
        if (!s->keys[j]) s->keys[i = j] = strdup(key);
    if (i >= 0) {
        free(s->values[i]);
        s->values[i] = strdup(json);
    }
    pthread_mutex_unlock(&s->mutex);
    return i >= 0 ? 0 : 1;
}

static int store_remove(void *user_data, const char *key) {
    AppStore *s = user_data;
    pthread_mutex_lock(&s->mutex);
    s->removes++;
    int i = store_slot(s, key);
    if (i >= 0) {
        free(s->keys[i]), free(s->values[i]);
        s->keys[i] = s->values[i] = NULL;
    }
    pthread_mutex_unlock(&s->mutex);
    return 0;
}

static void store_release(void *user_data) {
    AppStore *s = user_data;
    pthread_mutex_lock(&s->mutex);
    s->released++;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mutex);
}

static const webex_storage_callbacks STORE_CALLBACKS = {store_get, store_put, store_remove, store_release};

/* How many device registrations (POST .../devices) the sandbox has seen. */
static int device_registrations(void) {
    char *requests = NULL;
    int n = 0;
    if (webex_sandbox_requests(sandbox, &requests) != WEBEX_OK) return -1;
    for (const char *r = tj_first(requests); r; r = tj_next(r)) {
        char *method = tj_string(r, "method"), *path = tj_string(r, "path");
        const char *at = path ? strstr(path, "/devices") : NULL;
        if (method && strcmp(method, "POST") == 0 && at && (at[8] == 0 || at[8] == '?')) n++;
        free(method), free(path);
    }
    webex_string_free(requests);
    return n;
}

/* The OAuth code flow with the same config document as every language, tokens and the device
 * kept in the app's store, and a second client that starts from that store alone. */
static void test_oauth_code_flow_and_an_app_store(void) {
    char *info = NULL;
    CHECK_STATUS(webex_sandbox_info(sandbox, &info), WEBEX_OK);
    const char *oauth = tj_find(info, "oauth");
    char *client_id = tj_string(oauth, "clientId"), *secret = tj_string(oauth, "clientSecret");
    char *idbroker = tj_string(oauth, "idbroker"), *hydra = tj_string(info, "hydra"), *u2c = tj_string(info, "u2c");
    AppStore store = {0};
    pthread_mutex_init(&store.mutex, NULL);
    pthread_cond_init(&store.cond, NULL);
    uint64_t adapter = 0;
    CHECK_STATUS(webex_storage_new(&STORE_CALLBACKS, &store, &adapter), WEBEX_OK);
    char config[4096];
    snprintf(config, sizeof config,
             "{\"credentials\": {\"client_id\": \"%s\", \"client_secret\": \"%s\", \"redirect_uri\": "
             "\"https://app.example.test/callback\", \"scope\": \"spark:all\", \"idbroker\": {\"url\": \"%s\"}},"
             " \"services\": {\"discovery\": {\"hydra\": \"%s\", \"u2c\": \"%s\"}},"
             " \"storage\": {\"boundedAdapter\": {\"adapter\": %llu}, \"unboundedAdapter\": {\"adapter\": %llu}}}",
             S(client_id), S(secret), S(idbroker), S(hydra), S(u2c), (unsigned long long)adapter,
             (unsigned long long)adapter);
    uint64_t first = 0;
    CHECK_STATUS(webex_client_new(config, NULL, NULL, &first), WEBEX_OK);
    char *authorize = ok_op(first, "authorization.url", "{\"state\": \"xyz\"}");
    /* The result is a JSON string; a URL needs no escapes. */
    char *url = authorize && authorize[0] == '"' ? strndup(authorize + 1, strlen(authorize) - 2) : NULL;
    char *location = url ? browser_consent(url, ALICE) : NULL;
    char *code = location ? query_param(location, "code") : NULL;
    char *state = location ? query_param(location, "state") : NULL;
    CHECK(code && state && strcmp(state, "xyz") == 0);
    char params[512];
    snprintf(params, sizeof params, "{\"code\": \"%s\"}", S(code));
    free(ok_op(first, "authorization.exchangeCode", params));
    char *me = ok_op(first, "people.me", "{}");
    CHECK(str_is(me, "displayName", "Alice"));
    free(ok_op(first, "mercury.connect", "{}"));
    int registrations = device_registrations();
    CHECK(registrations >= 1);
    CHECK_STATUS(webex_client_close(first), WEBEX_OK);
    pthread_mutex_lock(&store.mutex);
    int slot = store_slot(&store, "credentials");
    CHECK(slot >= 0 && strstr(store.values[slot], "access_token") != NULL);
    CHECK(store_slot(&store, "device") >= 0);
    CHECK(store.released == 0); /* the handle is still registered */
    pthread_mutex_unlock(&store.mutex);

    /* A second client from the store alone: no code, no new device. */
    uint64_t second = 0;
    CHECK_STATUS(webex_client_new(config, NULL, NULL, &second), WEBEX_OK);
    CHECK_STATUS(webex_storage_release(adapter), WEBEX_OK); /* clients keep what they use */
    CHECK_STATUS(webex_storage_release(adapter), WEBEX_CLOSED);
    char *again = ok_op(second, "people.me", "{}");
    CHECK(str_is(again, "displayName", "Alice"));
    free(ok_op(second, "mercury.connect", "{}"));
    CHECK(device_registrations() == registrations);
    CHECK_STATUS(webex_client_close(second), WEBEX_OK);
    /* The client's background tasks let go of the store as they wind down: wait (30 s at most)
     * for the release callback, which runs exactly once. */
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    pthread_mutex_lock(&store.mutex);
    while (store.released == 0 && pthread_cond_timedwait(&store.cond, &store.mutex, &deadline) == 0) {
    }
    CHECK(store.released == 1);
    pthread_mutex_unlock(&store.mutex);

    /* Bad input: missing callbacks are named. */
    webex_storage_callbacks incomplete = {store_get, NULL, store_remove, NULL};
    uint64_t none = 1;
    CHECK_STATUS(webex_storage_new(&incomplete, &store, &none), WEBEX_INVALID_ARGUMENT);
    CHECK(none == 0 && last_error_mentions("callbacks->put is NULL"));
    CHECK_STATUS(webex_storage_new(NULL, &store, &none), WEBEX_INVALID_ARGUMENT);

    for (int i = 0; i < STORE_SLOTS; i++) free(store.keys[i]), free(store.values[i]);
    pthread_mutex_destroy(&store.mutex);
    pthread_cond_destroy(&store.cond);
    free(client_id), free(secret), free(idbroker), free(hydra), free(u2c), free(authorize), free(url);
    free(location), free(code), free(state), free(me), free(again);
    webex_string_free(info);
}

/* Runs after the others of its group: every name webex_operations lists was driven above. */
static void test_every_operation_was_driven(void) {
    char *ops = NULL;
    CHECK_STATUS(webex_operations(&ops), WEBEX_OK);
    int total = 0;
    for (const char *op = tj_first(ops); op; op = tj_next(op)) {
        char *name = tj_string(op, "name");
        int seen = 0;
        for (int i = 0; name && i < ops_called_count; i++) seen |= strcmp(ops_called[i], name) == 0;
        if (!seen) {
            fprintf(stderr, "    operation %s was never driven through the C ABI\n", S(name));
            current_failed = 1;
        }
        total++;
        free(name);
    }
    CHECK(total > 40);
    webex_string_free(ops);
}

/* ---------- events ---------- */

static void test_ready_event_through_the_callback(void) {
    Client *c = client_open(ALICE);
    char *ready = client_wait_event(c, "ready");
    CHECK(ready && strcmp(ready, "{\"type\":\"ready\",\"data\":{}}") == 0);
    pthread_mutex_lock(&c->mutex);
    CHECK(c->off_thread); /* engine threads, never the caller's */
    CHECK(c->count == 1);
    pthread_mutex_unlock(&c->mutex);
    free(ready);
    client_close(c);
}

typedef struct {
    Call call;
    uint64_t client; /* written by webex_client_new through out_client */
} ReadyUse;

static void ready_call_done(void *user_data, WebexStatus status, const char *result_json, const char *error_json) {
    on_result(&((ReadyUse *)user_data)->call, status, result_json, error_json);
}

/* On `ready` (the first event, which may come before webex_client_new returns) the callback
 * uses the handle the app is being handed. */
static void use_handle_on_ready(void *user_data, const char *event_json) {
    ReadyUse *x = user_data;
    if (!strstr(event_json, "\"type\":\"ready\"")) return;
    WebexStatus status = webex_client_call(x->client, "config.get", "{}", ready_call_done, x);
    if (status != WEBEX_OK) on_result(&x->call, status, NULL, "{\"code\":\"the handle was not written yet\"}");
}

static void test_the_event_callback_may_use_the_handle_from_ready(void) {
    char *config = config_for(ALICE);
    ReadyUse x;
    call_init(&x.call);
    x.client = 0;
    CHECK_STATUS(webex_client_new(config, use_handle_on_ready, &x, &x.client), WEBEX_OK);
    call_wait(&x.call);
    CHECK(x.call.status == WEBEX_OK);
    CHECK_STATUS(webex_client_close(x.client), WEBEX_OK);
    call_free(&x.call);
    webex_string_free(config);
}

static void test_a_client_without_event_callback_works(void) {
    char *config = config_for(ALICE);
    uint64_t h = 0;
    CHECK_STATUS(webex_client_new(config, NULL, NULL, &h), WEBEX_OK);
    char *me = ok_op(h, "people.me", "{}");
    CHECK(str_is(me, "displayName", "Alice"));
    CHECK_STATUS(webex_client_close(h), WEBEX_OK);
    free(me);
    webex_string_free(config);
}

/* Live events: the socket pushes activities, the engine maps them to public events, and they
 * reach the C callback. Alice listens to every resource; Bob acts. */
static void test_live_events_through_the_callback(void) {
    Client *alice = client_open(ALICE);
    Client *bob = client_open(BOB);
    char *catalog = ok_op(alice->handle, "catalog.load", "{}");
    CHECK(tj_find(catalog, "hydra") && tj_find(catalog, "wdm"));
    char *device = ok_op(alice->handle, "device.register", "{}");
    CHECK(tj_find(device, "webSocketUrl") != NULL);
    char *refreshed = ok_op(alice->handle, "device.refresh", "{}");
    char *a = tj_string(device, "url"), *b = tj_string(refreshed, "url");
    CHECK(a && b && strcmp(a, b) == 0); /* the same device, refreshed */
    free(a), free(b);
    const char *resources[] = {"messages", "memberships", "rooms", "attachmentActions"};
    char op[64];
    for (int i = 0; i < 4; i++) {
        snprintf(op, sizeof op, "%s.listen", resources[i]);
        free(ok_op(alice->handle, op, "{}"));
    }
    free(client_wait_event(alice, "online"));

    char *room = ok_op(bob->handle, "rooms.create", "{\"title\": \"live\"}");
    char *room_id = tj_string(room, "id");
    char *m = ok_op(bob->handle, "memberships.create", "{\"roomId\": \"%s\", \"personEmail\": \"%s\"}", S(room_id), ALICE);
    char *m_id = tj_string(m, "id");
    char *e1 = client_wait_event_with(alice, "memberships:created", S(m_id));
    free(ok_op(bob->handle, "rooms.update", "{\"roomId\": \"%s\", \"title\": \"live 2\"}", S(room_id)));
    char *e2 = client_wait_event_with(alice, "rooms:updated", S(room_id));
    char *card = ok_op(alice->handle, "messages.create",
                       "{\"roomId\": \"%s\", \"text\": \"card\", \"attachments\": [{\"contentType\": "
                       "\"application/vnd.microsoft.card.adaptive\", \"content\": {\"type\": \"AdaptiveCard\", "
                       "\"version\": \"1.2\", \"body\": []}}]}",
                       S(room_id));
    char *card_id = tj_string(card, "id");
    char *action = ok_op(bob->handle, "attachmentActions.create",
                         "{\"type\": \"submit\", \"messageId\": \"%s\", \"inputs\": {}}", S(card_id));
    char *action_id = tj_string(action, "id");
    char *e3 = client_wait_event_with(alice, "attachmentActions:created", S(action_id));
    char *msg = ok_op(bob->handle, "messages.create", "{\"roomId\": \"%s\", \"text\": \"live hello\"}", S(room_id));
    char *msg_id = tj_string(msg, "id");
    char *e4 = client_wait_event_with(alice, "messages:created", S(msg_id));
    CHECK(e1 && e2 && e3 && e4);
    pthread_mutex_lock(&alice->mutex);
    CHECK(alice->off_thread);
    pthread_mutex_unlock(&alice->mutex);

    for (int i = 0; i < 4; i++) {
        snprintf(op, sizeof op, "%s.stopListening", resources[i]);
        free(ok_op(alice->handle, op, "{}"));
    }
    free(ok_op(alice->handle, "mercury.connect", "{}"));
    free(ok_op(alice->handle, "mercury.disconnect", "{}"));
    char *gone = ok_op(alice->handle, "device.unregister", "{}");
    CHECK(gone && strcmp(gone, "null") == 0);
    free(catalog), free(device), free(refreshed), free(room), free(room_id), free(m), free(m_id), free(card);
    free(card_id), free(action), free(action_id), free(msg), free(msg_id), free(gone);
    free(e1), free(e2), free(e3), free(e4);
    client_close(alice);
    client_close(bob);
}

/* ---------- two clients in one process ---------- */

static void test_two_clients_in_one_process(void) {
    Client *alice = client_open(ALICE);
    Client *bob = client_open(BOB);
    free(client_wait_event(alice, "ready"));
    free(client_wait_event(bob, "ready"));
    CHECK(alice->handle != bob->handle);
    char *room = ok_op(alice->handle, "rooms.create", "{\"title\": \"two clients\"}");
    char *room_id = tj_string(room, "id");
    free(ok_op(alice->handle, "memberships.create", "{\"roomId\": \"%s\", \"personEmail\": \"%s\"}", S(room_id), BOB));

    /* Both clients' calls in flight at once. */
    char pa[256], pb[256];
    snprintf(pa, sizeof pa, "{\"roomId\": \"%s\", \"text\": \"from alice\"}", S(room_id));
    snprintf(pb, sizeof pb, "{\"roomId\": \"%s\", \"text\": \"from bob\"}", S(room_id));
    Call ca, cb, ma, mb;
    call_init(&ca), call_init(&cb), call_init(&ma), call_init(&mb);
    CHECK_STATUS(webex_client_call(alice->handle, "messages.create", pa, on_result, &ca), WEBEX_OK);
    CHECK_STATUS(webex_client_call(bob->handle, "messages.create", pb, on_result, &cb), WEBEX_OK);
    CHECK_STATUS(webex_client_call(alice->handle, "people.me", "{}", on_result, &ma), WEBEX_OK);
    CHECK_STATUS(webex_client_call(bob->handle, "people.me", "{}", on_result, &mb), WEBEX_OK);
    call_wait(&ca), call_wait(&cb), call_wait(&ma), call_wait(&mb);
    CHECK(ca.status == WEBEX_OK && cb.status == WEBEX_OK);
    CHECK(str_is(ca.result, "personEmail", ALICE) && str_is(cb.result, "personEmail", BOB));
    CHECK(str_is(ma.result, "displayName", "Alice") && str_is(mb.result, "displayName", "Bob"));
    call_free(&ca), call_free(&cb), call_free(&ma), call_free(&mb);

    /* Closing one leaves the other working. */
    client_close(alice);
    char *list = ok_op(bob->handle, "messages.list", "{\"roomId\": \"%s\"}", S(room_id));
    CHECK(tj_count(tj_find(list, "items")) == 2);
    free(room), free(room_id), free(list);
    client_close(bob);
}

/* ---------- close with calls in flight ---------- */

static void test_close_with_calls_in_flight_cancels_each_once(void) {
    Client *c = client_open(ALICE);
    uint64_t fault = 0;
    /* The sandbox holds these answers for a minute: the calls are surely in flight at close. */
    CHECK_STATUS(webex_sandbox_inject_fault(sandbox, "{\"path\": \"/v1/people/me\", \"delayMs\": 60000, \"count\": 5}", &fault),
                 WEBEX_OK);
    CHECK(fault != 0);
    enum { N = 5 };
    Call calls[N];
    for (int i = 0; i < N; i++) {
        call_init(&calls[i]);
        CHECK_STATUS(webex_client_call(c->handle, "people.me", "{}", on_result, &calls[i]), WEBEX_OK);
    }
    uint64_t handle = c->handle;
    /* Close waits for every callback of the client, so the counts are final when it returns. */
    client_close(c);
    for (int i = 0; i < N; i++) {
        CHECK(calls[i].calls == 1);
        CHECK(calls[i].status == WEBEX_CANCELLED);
        CHECK(calls[i].result == NULL);
        CHECK(str_is(calls[i].error, "code", "CANCELLED"));
        call_free(&calls[i]);
    }
    CHECK_STATUS(webex_client_call(handle, "people.me", "{}", on_result, NULL), WEBEX_CLOSED);
    CHECK_STATUS(webex_sandbox_clear_faults(sandbox), WEBEX_OK);
}

typedef struct {
    Call call;
    uint64_t client;
    WebexStatus close_status;
} CloseInCallback;

static void close_from_callback(void *user_data, WebexStatus status, const char *result_json, const char *error_json) {
    CloseInCallback *x = user_data;
    /* On an engine thread: close cannot wait here, and must not deadlock. */
    x->close_status = webex_client_close(x->client);
    on_result(&x->call, status, result_json, error_json);
}

/* webex_client_close_async from a callback: the completion comes once, after the call still in
 * flight got its CANCELLED callback; the handle is closed for both closes afterwards. */
typedef struct {
    Call call;    /* the call whose callback closes */
    Call pending; /* in flight at close */
    uint64_t client;
    WebexStatus close_status;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int closed;                /* times the completion ran */
    int pending_done_at_close; /* the pending call's callback had run by then */
} CloseAsync;

static void on_closed(void *user_data) {
    CloseAsync *x = user_data;
    pthread_mutex_lock(&x->pending.mutex);
    int done = x->pending.calls;
    pthread_mutex_unlock(&x->pending.mutex);
    pthread_mutex_lock(&x->mutex);
    x->closed++;
    x->pending_done_at_close = done;
    pthread_cond_broadcast(&x->cond);
    pthread_mutex_unlock(&x->mutex);
}

static void close_async_from_callback(void *user_data, WebexStatus status, const char *result_json,
                                      const char *error_json) {
    CloseAsync *x = user_data;
    x->close_status = webex_client_close_async(x->client, on_closed, x);
    on_result(&x->call, status, result_json, error_json);
}

static void test_close_async_from_a_callback_says_when_it_is_done(void) {
    char *config = config_for(ALICE);
    CloseAsync x;
    memset(&x, 0, sizeof x);
    call_init(&x.call);
    call_init(&x.pending);
    pthread_mutex_init(&x.mutex, NULL);
    pthread_cond_init(&x.cond, NULL);
    uint64_t fault = 0;
    CHECK_STATUS(webex_sandbox_inject_fault(
                     sandbox, "{\"path\": \"/v1/people/me\", \"method\": \"GET\", \"delayMs\": 3000, \"count\": 1}", &fault),
                 WEBEX_OK);
    CHECK_STATUS(webex_client_new(config, NULL, NULL, &x.client), WEBEX_OK);
    CHECK_STATUS(webex_client_call(x.client, "people.me", "{}", on_result, &x.pending), WEBEX_OK);
    CHECK_STATUS(webex_client_call(x.client, "config.get", "{}", close_async_from_callback, &x), WEBEX_OK);
    call_wait(&x.call);
    CHECK(x.close_status == WEBEX_OK);

    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    pthread_mutex_lock(&x.mutex);
    while (x.closed == 0 && pthread_cond_timedwait(&x.cond, &x.mutex, &deadline) == 0) {
    }
    int closed = x.closed, pending_done = x.pending_done_at_close;
    pthread_mutex_unlock(&x.mutex);
    CHECK(closed == 1);
    CHECK(pending_done == 1); /* every callback returned before the completion */
    CHECK(x.pending.status == WEBEX_CANCELLED);
    CHECK_STATUS(webex_client_close(x.client), WEBEX_CLOSED);
    CHECK_STATUS(webex_client_close_async(x.client, on_closed, &x), WEBEX_CLOSED);
    pthread_mutex_lock(&x.mutex);
    CHECK(x.closed == 1); /* not called for a refused close */
    pthread_mutex_unlock(&x.mutex);
    CHECK_STATUS(webex_sandbox_clear_faults(sandbox), WEBEX_OK);
    call_free(&x.call);
    call_free(&x.pending);
    pthread_mutex_destroy(&x.mutex);
    pthread_cond_destroy(&x.cond);
    webex_string_free(config);
}

static void test_close_from_inside_a_callback(void) {
    char *config = config_for(ALICE);
    CloseInCallback x;
    call_init(&x.call);
    CHECK_STATUS(webex_client_new(config, NULL, NULL, &x.client), WEBEX_OK);
    CHECK_STATUS(webex_client_call(x.client, "config.get", "{}", close_from_callback, &x), WEBEX_OK);
    call_wait(&x.call);
    CHECK(x.close_status == WEBEX_OK);
    CHECK(x.call.status == WEBEX_OK);
    CHECK_STATUS(webex_client_close(x.client), WEBEX_CLOSED);
    call_free(&x.call);
    webex_string_free(config);
}

typedef struct {
    Call call;
    uint64_t client;
} Chain;

static void chained_second(void *user_data, WebexStatus status, const char *result_json, const char *error_json) {
    on_result(&((Chain *)user_data)->call, status, result_json, error_json);
}

static void chained_first(void *user_data, WebexStatus status, const char *result_json, const char *error_json) {
    Chain *x = user_data;
    (void)result_json, (void)error_json;
    if (status != WEBEX_OK || webex_client_call(x->client, "people.me", "{}", chained_second, x) != WEBEX_OK)
        on_result(&x->call, WEBEX_INTERNAL, NULL, "{\"code\":\"chain failed\"}");
}

static void test_a_callback_may_start_the_next_call(void) {
    Client *c = client_open(BOB);
    Chain x;
    call_init(&x.call);
    x.client = c->handle;
    CHECK_STATUS(webex_client_call(c->handle, "config.get", "{}", chained_first, &x), WEBEX_OK);
    call_wait(&x.call);
    CHECK(x.call.status == WEBEX_OK && str_is(x.call.result, "displayName", "Bob"));
    call_free(&x.call);
    client_close(c);
}

typedef struct {
    Call call;
    int sigpipe_blocked;
} MaskedCall;

static void note_sigpipe_mask(void *user_data, WebexStatus status, const char *result_json, const char *error_json) {
    MaskedCall *m = user_data;
    sigset_t mask;
    pthread_sigmask(SIG_BLOCK, NULL, &mask);
    m->sigpipe_blocked = sigismember(&mask, SIGPIPE) == 1;
    on_result(&m->call, status, result_json, error_json);
}

/* A C host keeps SIGPIPE's default action (end the process), and a write to a connection the
 * peer has just closed raises it on the writing thread: the engine's threads, where callbacks
 * run and every socket is written, block it (the write fails with EPIPE instead). */
static void test_engine_threads_do_not_take_sigpipe(void) {
    struct sigaction action;
    CHECK(sigaction(SIGPIPE, NULL, &action) == 0 && action.sa_handler == SIG_DFL);
    Client *c = client_open(BOB);
    MaskedCall m = {0};
    call_init(&m.call);
    CHECK_STATUS(webex_client_call(c->handle, "config.get", "{}", note_sigpipe_mask, &m), WEBEX_OK);
    call_wait(&m.call);
    CHECK(m.call.status == WEBEX_OK);
    CHECK(m.sigpipe_blocked);
    call_free(&m.call);
    client_close(c);
}

/* ---------- error details ---------- */

/* ---------- logs: the engine's records through a C callback ---------- */

typedef struct {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int warned;           /* the unknown key's warning arrived */
    char warning[512];    /* "level target message" of it */
    int stamped;          /* its timestamp was set */
    int clear_status;     /* what clearing from inside the callback returned (-1: not yet) */
    int calls_after_clear;
} Logged;

static void on_log(void *user_data, const char *level, const char *target, const char *message, uint64_t timestamp_ms) {
    Logged *l = user_data;
    pthread_mutex_lock(&l->mutex);
    if (l->clear_status >= 0) l->calls_after_clear++;
    if (!l->warned && strstr(message, "colour: unknown config key")) {
        l->warned = 1;
        l->stamped = timestamp_ms > 1600000000000ULL;
        snprintf(l->warning, sizeof l->warning, "%s %s %s", level, target, message);
        pthread_cond_broadcast(&l->cond);
    }
    pthread_mutex_unlock(&l->mutex);
}

/* Clears itself on its first record (a callback may): that must not wait for itself. */
static void on_log_once(void *user_data, const char *level, const char *target, const char *message, uint64_t timestamp_ms) {
    (void)level, (void)target, (void)message, (void)timestamp_ms;
    Logged *l = user_data;
    pthread_mutex_lock(&l->mutex);
    int first = l->clear_status < 0;
    if (!first) l->calls_after_clear++;
    pthread_mutex_unlock(&l->mutex);
    if (!first) return;
    WebexStatus status = webex_set_log_callback(NULL, NULL);
    pthread_mutex_lock(&l->mutex);
    l->clear_status = (int)status;
    pthread_cond_broadcast(&l->cond);
    pthread_mutex_unlock(&l->mutex);
}

/* Waits (at most 30 s, a hang guard) until `*flag` is set under `l->mutex`. */
static int logged_wait(Logged *l, const int *flag, int unset) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&l->mutex);
    while (*flag == unset) {
        if (pthread_cond_timedwait(&l->cond, &l->mutex, &until) != 0) break;
    }
    int set = *flag != unset;
    pthread_mutex_unlock(&l->mutex);
    return set;
}

/* A client whose config has an unknown key and asks for warnings (closed at once). */
static void client_with_unknown_key(void) {
    Client *c = client_open_with(ALICE, "\"colour\": \"blue\", \"logger\": {\"level\": \"warn\"}");
    client_close(c);
}

static void test_log_records_reach_a_c_callback(void) {
    Logged l = {.clear_status = -1};
    pthread_mutex_init(&l.mutex, NULL);
    pthread_cond_init(&l.cond, NULL);
    CHECK_STATUS(webex_set_log_callback(on_log, &l), WEBEX_OK);
    client_with_unknown_key();
    CHECK(logged_wait(&l, &l.warned, 0));
    static const char expected[] = "warn webex::config colour: unknown config key";
    if (strncmp(l.warning, expected, strlen(expected)) != 0) fprintf(stderr, "    got: %s\n", l.warning);
    CHECK(strncmp(l.warning, expected, strlen(expected)) == 0);
    CHECK(l.stamped);
    /* Clearing returns once no call runs: `l` may go right after. */
    CHECK_STATUS(webex_set_log_callback(NULL, NULL), WEBEX_OK);

    Logged once = {.clear_status = -1};
    pthread_mutex_init(&once.mutex, NULL);
    pthread_cond_init(&once.cond, NULL);
    CHECK_STATUS(webex_set_log_callback(on_log_once, &once), WEBEX_OK);
    client_with_unknown_key();
    CHECK(logged_wait(&once, &once.clear_status, -1));
    CHECK_STATUS((WebexStatus)once.clear_status, WEBEX_OK);
    /* Cleared from inside: no record of the rest of that batch reached it. */
    client_with_unknown_key();
    CHECK_STATUS(webex_set_log_callback(NULL, NULL), WEBEX_OK);
    CHECK(once.calls_after_clear == 0);
    pthread_mutex_destroy(&l.mutex);
    pthread_cond_destroy(&l.cond);
    pthread_mutex_destroy(&once.mutex);
    pthread_cond_destroy(&once.cond);
}

static void test_rate_limit_error_carries_retry_after(void) {
    char *token = NULL, *hydra = NULL, *u2c = NULL, config[2048];
    CHECK_STATUS(webex_sandbox_user_token(sandbox, ALICE, &token), WEBEX_OK);
    CHECK_STATUS(webex_sandbox_hydra_url(sandbox, &hydra), WEBEX_OK);
    CHECK_STATUS(webex_sandbox_u2c_url(sandbox, &u2c), WEBEX_OK);
    /* A Retry-After beyond http.maxRetryAfterMs is handed to the app, not slept through. */
    snprintf(config, sizeof config,
             "{\"credentials\": {\"access_token\": \"%s\"}, \"services\": {\"discovery\": {\"hydra\": \"%s\", "
             "\"u2c\": \"%s\"}}, \"http\": {\"maxRetryAfterMs\": 1000}}",
             S(token), S(hydra), S(u2c));
    uint64_t h = 0, fault = 0;
    CHECK_STATUS(webex_client_new(config, NULL, NULL, &h), WEBEX_OK);
    CHECK_STATUS(webex_sandbox_inject_fault(
                     sandbox, "{\"path\": \"/v1/rooms\", \"method\": \"GET\", \"status\": 429, \"retryAfter\": \"120\"}",
                     &fault),
                 WEBEX_OK);
    char *e = err_op(h, "rooms.list", "{}", WEBEX_RATE_LIMITED);
    CHECK(str_is(e, "code", "RATE_LIMITED") && tj_is(e, "codeNumber", "6") && tj_is(e, "status", "429"));
    CHECK(tj_is(e, "retryAfter", "120.0"));
    CHECK_STATUS(webex_client_close(h), WEBEX_OK);
    free(e);
    webex_string_free(token), webex_string_free(hydra), webex_string_free(u2c);
}

static void test_bad_token_and_bad_params_come_back_in_the_callback(void) {
    char *hydra = NULL, *u2c = NULL, config[1024];
    CHECK_STATUS(webex_sandbox_hydra_url(sandbox, &hydra), WEBEX_OK);
    CHECK_STATUS(webex_sandbox_u2c_url(sandbox, &u2c), WEBEX_OK);
    snprintf(config, sizeof config,
             "{\"credentials\": {\"access_token\": \"not-a-token\"}, \"services\": {\"discovery\": "
             "{\"hydra\": \"%s\", \"u2c\": \"%s\"}}}",
             S(hydra), S(u2c));
    uint64_t h = 0;
    CHECK_STATUS(webex_client_new(config, NULL, NULL, &h), WEBEX_OK);
    char *e = err_op(h, "people.me", "{}", WEBEX_UNAUTHORIZED);
    CHECK(tj_is(e, "status", "401"));
    free(e);
    e = err_op(h, "rooms.create", "{\"titel\": \"typo\"}", WEBEX_INVALID_ARGUMENT);
    CHECK(e && strstr(e, "titel"));
    free(e);
    e = err_op(h, "rooms.get", "{}", WEBEX_INVALID_ARGUMENT);
    CHECK(e && strstr(e, "roomId"));
    free(e);
    CHECK_STATUS(webex_client_close(h), WEBEX_OK);
    webex_string_free(hydra), webex_string_free(u2c);
}

/* ---------- misuse: every one an error code, never a crash (also run under valgrind) ---------- */

static int never_called;

static void must_not_run(void *user_data, WebexStatus status, const char *result_json, const char *error_json) {
    (void)user_data, (void)status, (void)result_json, (void)error_json;
    __atomic_add_fetch(&never_called, 1, __ATOMIC_SEQ_CST);
}

static void test_version_and_status_names(void) {
    const char *v = webex_version();
    CHECK(v && strchr(v, '.'));
    CHECK(strcmp(webex_status_name(WEBEX_OK), "OK") == 0);
    CHECK(strcmp(webex_status_name(WEBEX_INVALID_HANDLE), "INVALID_HANDLE") == 0);
    CHECK(strcmp(webex_status_name(WEBEX_INTERNAL), "INTERNAL") == 0);
    CHECK(strcmp(webex_status_name(-1), "UNKNOWN") == 0);
    CHECK(strcmp(webex_status_name(16), "UNKNOWN") == 0);
    webex_string_free(NULL);
}

static void test_null_arguments(void) {
    uint64_t h = 42;
    char *config = config_for(ALICE);
    char *out = (char *)"untouched";
    CHECK_STATUS(webex_client_new(NULL, NULL, NULL, &h), WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("config_json is NULL"));
    CHECK(h == 0); /* out-parameters are cleared on failure */
    CHECK_STATUS(webex_client_new(config, NULL, NULL, NULL), WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("out_client is NULL"));
    CHECK_STATUS(webex_client_new(config, NULL, NULL, &h), WEBEX_OK);
    CHECK(webex_last_error() == NULL); /* a success clears the last error */
    CHECK_STATUS(webex_client_call(h, NULL, "{}", must_not_run, NULL), WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("operation is NULL"));
    {
        /* NULL params are none, as "" and "{}" are (and as in the sandbox functions). */
        char *result = NULL;
        CHECK_STATUS(run_op(h, "config.get", NULL, &result, NULL), WEBEX_OK);
        CHECK(result != NULL);
        free(result);
    }
    CHECK_STATUS(webex_client_call(h, "people.me", "{}", NULL, NULL), WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("callback is NULL"));
    CHECK_STATUS(webex_operations(NULL), WEBEX_INVALID_ARGUMENT);
    CHECK_STATUS(webex_sandbox_start(NULL), WEBEX_INVALID_ARGUMENT);
    CHECK_STATUS(webex_sandbox_base_url(sandbox, NULL), WEBEX_INVALID_ARGUMENT);
    CHECK_STATUS(webex_sandbox_hydra_url(sandbox, NULL), WEBEX_INVALID_ARGUMENT);
    CHECK_STATUS(webex_sandbox_u2c_url(sandbox, NULL), WEBEX_INVALID_ARGUMENT);
    CHECK_STATUS(webex_sandbox_info(sandbox, NULL), WEBEX_INVALID_ARGUMENT);
    CHECK_STATUS(webex_sandbox_bot_email(sandbox, NULL), WEBEX_INVALID_ARGUMENT);
    CHECK_STATUS(webex_sandbox_user_token(sandbox, NULL, &out), WEBEX_INVALID_ARGUMENT);
    CHECK(out == NULL);
    CHECK(last_error_mentions("email is NULL"));
    CHECK_STATUS(webex_sandbox_user_token(sandbox, ALICE, NULL), WEBEX_INVALID_ARGUMENT);
    CHECK_STATUS(webex_sandbox_client_config(sandbox, NULL, &out), WEBEX_INVALID_ARGUMENT);
    uint64_t fault = 7;
    CHECK_STATUS(webex_sandbox_inject_fault(sandbox, NULL, &fault), WEBEX_INVALID_ARGUMENT);
    CHECK(fault == 0);
    CHECK_STATUS(webex_sandbox_inject_fault(sandbox, "{\"path\": \"/v1/nothing\"}", NULL), WEBEX_INVALID_ARGUMENT);
    out = (char *)"untouched";
    CHECK_STATUS(webex_sandbox_meeting_control(sandbox, NULL, "media", NULL, &out), WEBEX_INVALID_ARGUMENT);
    CHECK(out == NULL && last_error_mentions("meeting_number is NULL"));
    CHECK_STATUS(webex_sandbox_meeting_control(sandbox, "000", NULL, NULL, &out), WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("action is NULL"));
    CHECK_STATUS(webex_sandbox_meeting_control(sandbox, "000", "media", NULL, NULL), WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("out_json is NULL"));
    CHECK_STATUS(webex_client_close(h), WEBEX_OK);
    webex_string_free(config);
}

static void test_bad_handles(void) {
    char *config = config_for(ALICE);
    uint64_t h = 0;
    char *out = NULL;
    CHECK_STATUS(webex_client_call(0, "people.me", "{}", must_not_run, NULL), WEBEX_INVALID_HANDLE);
    CHECK(last_error_mentions("handle 0 is never a valid client"));
    CHECK_STATUS(webex_client_call(UINT64_MAX, "people.me", "{}", must_not_run, NULL), WEBEX_INVALID_HANDLE);
    CHECK(last_error_mentions("never issued"));
    CHECK_STATUS(webex_client_close(0), WEBEX_INVALID_HANDLE);
    /* A sandbox handle is not a client, and the other way round. */
    CHECK_STATUS(webex_client_call(sandbox, "people.me", "{}", must_not_run, NULL), WEBEX_INVALID_HANDLE);
    CHECK(last_error_mentions("is a sandbox, not a client"));
    CHECK_STATUS(webex_client_close(sandbox), WEBEX_INVALID_HANDLE);
    CHECK_STATUS(webex_client_new(config, NULL, NULL, &h), WEBEX_OK);
    CHECK_STATUS(webex_sandbox_info(h, &out), WEBEX_INVALID_HANDLE);
    CHECK_STATUS(webex_sandbox_stop(h), WEBEX_INVALID_HANDLE);
    /* Closed and stale handles; double close. */
    CHECK_STATUS(webex_client_close(h), WEBEX_OK);
    CHECK_STATUS(webex_client_close(h), WEBEX_CLOSED);
    CHECK(last_error_mentions("was closed"));
    CHECK_STATUS(webex_client_call(h, "people.me", "{}", must_not_run, NULL), WEBEX_CLOSED);
    CHECK_STATUS(webex_sandbox_stop(0), WEBEX_INVALID_HANDLE);
    CHECK_STATUS(webex_sandbox_clear_faults(UINT64_MAX), WEBEX_INVALID_HANDLE);
    webex_string_free(config);
}

static void test_invalid_json_and_utf8(void) {
    uint64_t h = 0, id = 0;
    char *config = config_for(ALICE);
    const char bad_utf8[] = {'{', '"', 't', '"', ':', '"', (char)0xC3, (char)0x28, '"', '}', 0};
    const char bad_op[] = {'r', 'o', 'o', 'm', 's', '.', (char)0xFF, 0};
    CHECK_STATUS(webex_client_new("{not json", NULL, NULL, &h), WEBEX_INVALID_ARGUMENT);
    CHECK_STATUS(webex_client_new(bad_utf8, NULL, NULL, &h), WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("config_json is not valid UTF-8"));
    CHECK_STATUS(webex_client_new("{\"meetings\": {\"bandwidth\": {\"video\": \"fast\"}}}", NULL, NULL, &h),
                 WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("meetings.bandwidth.video"));
    CHECK_STATUS(webex_client_new(config, NULL, NULL, &h), WEBEX_OK);
    CHECK_STATUS(webex_client_call(h, "rooms.create", "{not json", must_not_run, NULL), WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("params are not valid JSON"));
    CHECK_STATUS(webex_client_call(h, "rooms.create", "[1]", must_not_run, NULL), WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("params must be a JSON object"));
    CHECK_STATUS(webex_client_call(h, "rooms.create", bad_utf8, must_not_run, NULL), WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("params_json is not valid UTF-8"));
    CHECK_STATUS(webex_client_call(h, bad_op, "{}", must_not_run, NULL), WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("operation is not valid UTF-8"));
    CHECK_STATUS(webex_sandbox_inject_fault(sandbox, "{\"delayMs\": \"soon\"}", &id), WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("fault_json: not a sandbox fault"));
    /* A fault that could never apply is refused too, naming why. */
    CHECK_STATUS(webex_sandbox_inject_fault(sandbox, "{\"path\": \"v1/rooms\", \"status\": 500}", &id),
                 WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("a path prefix starting with `/`"));
    char *token = (char *)"untouched";
    CHECK_STATUS(webex_sandbox_user_token(sandbox, bad_utf8, &token), WEBEX_INVALID_ARGUMENT);
    CHECK(token == NULL);
    CHECK_STATUS(webex_client_close(h), WEBEX_OK);
    webex_string_free(config);
}

static void test_unknown_operation_and_unknown_user(void) {
    uint64_t h = 0;
    char *config = config_for(ALICE), *out = NULL;
    CHECK_STATUS(webex_client_new(config, NULL, NULL, &h), WEBEX_OK);
    CHECK_STATUS(webex_client_call(h, "rooms.creat", "{}", must_not_run, NULL), WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("did you mean 'rooms.create'?"));
    CHECK_STATUS(webex_client_call(h, "", "{}", must_not_run, NULL), WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("unknown operation"));
    CHECK_STATUS(webex_sandbox_user_token(sandbox, "nobody@example.com", &out), WEBEX_NOT_FOUND);
    CHECK(last_error_mentions("no user 'nobody@example.com'"));
    CHECK_STATUS(webex_client_close(h), WEBEX_OK);
    /* Close has waited for every callback: the refused calls never reached theirs. */
    CHECK(__atomic_load_n(&never_called, __ATOMIC_SEQ_CST) == 0);
    webex_string_free(config);
}

static void *last_error_on_another_thread(void *arg) {
    char *last = webex_last_error();
    *(int *)arg = last == NULL;
    webex_string_free(last);
    return NULL;
}

static void test_last_error_is_per_thread(void) {
    CHECK_STATUS(webex_client_close(0), WEBEX_INVALID_HANDLE);
    int clean = 0;
    pthread_t t;
    pthread_create(&t, NULL, last_error_on_another_thread, &clean);
    pthread_join(t, NULL);
    CHECK(clean);
    char *mine = webex_last_error();
    CHECK(mine && strstr(mine, "\"code\":\"INVALID_HANDLE\"") && strstr(mine, "\"codeNumber\":12"));
    webex_string_free(mine);
}

/* Meeting controls go to the sandbox as they are: what it refuses comes back with its message. */
static void test_sandbox_meeting_control_errors(void) {
    char *answer = (char *)"untouched";
    CHECK_STATUS(webex_sandbox_meeting_control(sandbox, "000", "media", "{not json", &answer), WEBEX_INVALID_ARGUMENT);
    CHECK(answer == NULL && last_error_mentions("params_json is not valid JSON"));
    CHECK_STATUS(webex_sandbox_meeting_control(sandbox, "000", "media", "[1]", &answer), WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("params must be a JSON object"));
    CHECK_STATUS(webex_sandbox_meeting_control(sandbox, "000", "explode", "", &answer), WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("unknown meeting control") && last_error_mentions("addBot"));
    CHECK_STATUS(webex_sandbox_meeting_control(sandbox, "000", "cut", "{}", &answer), WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("email"));
    CHECK_STATUS(webex_sandbox_meeting_control(sandbox, "000", "end", NULL, &answer), WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("meeting 000 is not running"));
    CHECK_STATUS(webex_sandbox_meeting_control(sandbox, "000", "addBot", "{\"video\": \"AV1\"}", &answer),
                 WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("AV1"));
    /* NULL and "" params are {}; a meeting that is not running has no media. */
    CHECK_STATUS(webex_sandbox_meeting_control(sandbox, "000", "media", "", &answer), WEBEX_OK);
    CHECK(answer && strcmp(answer, "[]") == 0);
    webex_string_free(answer);
    CHECK_STATUS(webex_sandbox_meeting_control(sandbox, "000", "media", NULL, &answer), WEBEX_OK);
    CHECK(answer && strcmp(answer, "[]") == 0);
    webex_string_free(answer);
}

static void test_sandbox_lifecycle_and_accessors(void) {
    uint64_t sb = 0;
    char *info = NULL, *base = NULL, *token = NULL;
    CHECK_STATUS(webex_sandbox_start(&sb), WEBEX_OK);
    CHECK(sb != 0 && sb != sandbox);
    CHECK_STATUS(webex_sandbox_info(sb, &info), WEBEX_OK);
    CHECK(tj_count(tj_find(info, "users")) == 3);
    CHECK_STATUS(webex_sandbox_base_url(sb, &base), WEBEX_OK);
    CHECK(base && strncmp(base, "http://127.0.0.1:", 17) == 0);
    CHECK_STATUS(webex_sandbox_user_token(sb, "BOB@example.com", &token), WEBEX_OK);
    CHECK(token && strstr(info, token));
    webex_string_free(info);
    CHECK_STATUS(webex_sandbox_stop(sb), WEBEX_OK);
    CHECK_STATUS(webex_sandbox_stop(sb), WEBEX_CLOSED);
    CHECK_STATUS(webex_sandbox_info(sb, &info), WEBEX_CLOSED);
    CHECK(info == NULL);
    CHECK_STATUS(webex_sandbox_meeting_control(sb, "000", "media", NULL, &info), WEBEX_CLOSED);
    webex_string_free(base), webex_string_free(token);
}

/* The sandbox over HTTPS: its client config carries the CA, so a client calls it; a client
 * without the CA refuses the server and says how to fix it. */
static void test_sandbox_over_tls(void) {
    uint64_t sb = 0, client = 0, stranger = 0;
    char *base = NULL, *config = NULL, *result = NULL, *error = NULL;
    CHECK_STATUS(webex_sandbox_start_with("{\"tls\": true}", &sb), WEBEX_OK);
    CHECK_STATUS(webex_sandbox_base_url(sb, &base), WEBEX_OK);
    CHECK(base && strncmp(base, "https://127.0.0.1:", 18) == 0);
    CHECK_STATUS(webex_sandbox_client_config(sb, ALICE, &config), WEBEX_OK);
    CHECK(config && strstr(config, "\"caCertificates\":\"-----BEGIN CERTIFICATE-----"));
    CHECK_STATUS(webex_client_new(config, NULL, NULL, &client), WEBEX_OK);
    CHECK_STATUS(run_op(client, "people.me", "{}", &result, NULL), WEBEX_OK);
    CHECK(result && strstr(result, ALICE));
    free(result);
    CHECK_STATUS(webex_sandbox_requests(sb, &result), WEBEX_OK);
    CHECK(result && strstr(result, "\"version\":\"HTTP/2.0\""));
    webex_string_free(result);
    CHECK_STATUS(webex_client_close(client), WEBEX_OK);

    /* The same user without the sandbox's CA: the server's certificate is refused. */
    char bare[512], *token = NULL;
    CHECK_STATUS(webex_sandbox_user_token(sb, ALICE, &token), WEBEX_OK);
    snprintf(bare, sizeof bare, "{\"credentials\":{\"access_token\":\"%s\"},\"services\":{\"discovery\":{\"hydra\":\"%s/v1\"}}}",
             token ? token : "", base ? base : "");
    CHECK_STATUS(webex_client_new(bare, NULL, NULL, &stranger), WEBEX_OK);
    CHECK_STATUS(run_op(stranger, "people.me", "{}", NULL, &error), WEBEX_NETWORK);
    CHECK(error && strstr(error, "certificate is not trusted") && strstr(error, "http.caCertificates"));
    CHECK(error && token && !strstr(error, token));
    CHECK_STATUS(webex_client_close(stranger), WEBEX_OK);
    webex_string_free(token), free(error);

    uint64_t bad = 0;
    CHECK_STATUS(webex_sandbox_start_with("{\"tsl\": true}", &bad), WEBEX_INVALID_ARGUMENT);
    CHECK(bad == 0);
    CHECK_STATUS(webex_sandbox_start_with("[]", &bad), WEBEX_INVALID_ARGUMENT);
    CHECK_STATUS(webex_sandbox_stop(sb), WEBEX_OK);
    webex_string_free(base), webex_string_free(config);
}

/* ---------- media: meeting audio through the C ABI ---------- */

#define SAMPLE_RATE 48000
#define FRAME 960 /* 20 ms */
#define HEARD_CAP SAMPLE_RATE /* the last second is kept */

/* A 440 Hz tone, frame `index` of it (mono, 20 ms), the same as the Rust tests' tone_frame. */
static void tone_frame(double hz, int index, int16_t *out) {
    const double pi = 3.14159265358979323846;
    for (int i = 0; i < FRAME; i++) {
        double t = (double)(index * FRAME + i) / SAMPLE_RATE;
        out[i] = (int16_t)(sin(2.0 * pi * hz * t) * 8000.0);
    }
}

/* The power of `hz` in `x` (Goertzel). */
static double tone_power(const int16_t *x, size_t n, double hz) {
    const double pi = 3.14159265358979323846;
    double coeff = 2.0 * cos(2.0 * pi * hz / SAMPLE_RATE), s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        double s0 = x[i] + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

/* The strongest whole frequency in lo..hi Hz. */
static int dominant_frequency(const int16_t *x, size_t n, int lo, int hi) {
    int best = lo;
    double best_power = -1;
    for (int hz = lo; hz <= hi; hz++) {
        double p = tone_power(x, n, hz);
        if (p > best_power) best_power = p, best = hz;
    }
    return best;
}

/* What Bob's audio callback saw (written on engine threads, read by the test under `mutex`;
 * the test thread is Alice's microphone, so it polls this once per frame it sends). */
typedef struct {
    pthread_mutex_t mutex;
    char speaker[128];        /* the participant id whose PCM is kept */
    int16_t pcm[HEARD_CAP];   /* the speaker's latest samples, oldest first */
    size_t len;
    int frames;               /* every callback */
    int unnamed, others;      /* frames with no participant id / another speaker */
    int bad;                  /* frames with a wrong format or a wrong meeting id */
    char meeting_id[128];
    int cleared;              /* set by the test once clearing returned */
    int after_clear;          /* callbacks that ran after that */
    uint64_t replier;         /* Bob's client: the callback answers a few frames with silence */
    int replies, replies_failed;
} Heard;

static void on_audio(void *user_data, const webex_audio_frame *f) {
    Heard *h = user_data;
    pthread_mutex_lock(&h->mutex);
    h->frames++;
    if (h->cleared) h->after_clear++;
    if (f->sample_rate != SAMPLE_RATE || f->channels != 1 || f->frames != FRAME || !f->samples || !f->meeting_id ||
        strcmp(f->meeting_id, h->meeting_id) != 0) {
        h->bad++;
    } else if (!f->participant_id) {
        h->unnamed++;
    } else if (strcmp(f->participant_id, h->speaker) != 0) {
        h->others++;
    } else {
        size_t n = f->frames * f->channels;
        if (h->len + n > HEARD_CAP) {
            size_t drop = h->len + n - HEARD_CAP;
            memmove(h->pcm, h->pcm + drop, (h->len - drop) * sizeof h->pcm[0]);
            h->len -= drop;
        }
        memcpy(h->pcm + h->len, f->samples, n * sizeof f->samples[0]);
        h->len += n;
    }
    int reply = h->replier && h->replies < 10;
    if (reply) h->replies++;
    pthread_mutex_unlock(&h->mutex);
    if (reply) {
        /* Sending from inside the audio callback (an engine thread) is allowed. */
        static const int16_t silence[FRAME];
        if (webex_meeting_send_audio(h->replier, f->meeting_id, silence, FRAME, 1) != WEBEX_OK) {
            pthread_mutex_lock(&h->mutex);
            h->replies_failed++;
            pthread_mutex_unlock(&h->mutex);
        }
    }
}

/* Media pacing: `us` microseconds of real time per frame, as a sound card or a camera would
 * deliver them (never a way to wait for the library). */
static void pace(long us) {
    struct timespec tick = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&tick, NULL);
}

/* Alice's microphone: frame `*next` of the tone, then 20 ms of real time. */
static WebexStatus speak(uint64_t client, const char *meeting_id, int *next) {
    int16_t frame[FRAME];
    tone_frame(440.0, (*next)++, frame);
    WebexStatus status = webex_meeting_send_audio(client, meeting_id, frame, FRAME, 1);
    pace(20 * 1000);
    return status;
}

/* Alice talks until Bob heard `want` new samples of her (what he heard before is dropped);
 * at most 30 s. Returns whether he did. */
static int speak_until_heard(uint64_t alice, const char *meeting_id, int *next, Heard *h, size_t want) {
    pthread_mutex_lock(&h->mutex);
    h->len = 0;
    pthread_mutex_unlock(&h->mutex);
    for (int i = 0; i < 30 * 50; i++) {
        CHECK_STATUS(speak(alice, meeting_id, next), WEBEX_OK);
        pthread_mutex_lock(&h->mutex);
        size_t len = h->len;
        pthread_mutex_unlock(&h->mutex);
        if (len >= want) return 1;
    }
    pthread_mutex_lock(&h->mutex);
    fprintf(stderr, "    Bob heard %zu of %zu samples of Alice in 30 s (%d frames: %d unnamed, %d of others, %d bad)\n",
            h->len, want, h->frames, h->unnamed, h->others, h->bad);
    pthread_mutex_unlock(&h->mutex);
    current_failed = 1;
    return 0;
}

/* Alice talks until Bob has half a second of her PCM; it must peak at 440 Hz. */
static void bob_hears_440(uint64_t alice, const char *meeting_id, int *next, Heard *h) {
    if (!speak_until_heard(alice, meeting_id, next, h, SAMPLE_RATE / 2)) return;
    pthread_mutex_lock(&h->mutex);
    int hz = dominant_frequency(h->pcm + h->len - SAMPLE_RATE / 2, SAMPLE_RATE / 2, 300, 600);
    pthread_mutex_unlock(&h->mutex);
    if (hz < 435 || hz > 445) fprintf(stderr, "    Bob hears %d Hz\n", hz);
    CHECK(hz >= 435 && hz <= 445);
}

/* Bob's roster shows Alice with audioMuted == `arg` ("true" / "false"). */
static int alice_audio_muted(const char *event_json, const void *arg) {
    const char *data = tj_find(event_json, "data");
    for (const char *m = tj_first(tj_find(data, "full")); m; m = tj_next(m)) {
        char *name = tj_string(m, "name");
        int alice = name && strcmp(name, "Alice") == 0;
        free(name);
        if (alice && tj_is(m, "audioMuted", arg)) return 1;
    }
    return 0;
}

/* The participant id of the member with `email` in a members:update event (caller frees), or NULL. */
static char *member_id(const char *event_json, const char *email) {
    const char *data = tj_find(event_json, "data");
    for (const char *m = tj_first(tj_find(data, "full")); m; m = tj_next(m)) {
        char *who = tj_string(m, "email");
        int found = who && strcmp(who, email) == 0;
        free(who);
        if (found) return tj_string(m, "id");
    }
    return NULL;
}

static int names_member(const char *event_json, const void *email) {
    char *id = member_id(event_json, email);
    free(id);
    return id != NULL;
}

/* Runs a sandbox meeting control that must succeed; returns its answer (webex_string_free). */
static char *meeting_control(const char *number, const char *action, const char *params) {
    char *answer = NULL;
    CHECK_STATUS(webex_sandbox_meeting_control(sandbox, number, action, params, &answer), WEBEX_OK);
    return answer;
}

/* The counter `counter` ("audioPackets", "videoPackets", ...) of what the sandbox's media
 * server received from `email` in meeting `number`. */
static unsigned long long media_counter(const char *number, const char *email, const char *counter) {
    char *media = meeting_control(number, "media", NULL);
    unsigned long long packets = 0;
    for (const char *m = tj_first(media); m; m = tj_next(m)) {
        char *who = tj_string(m, "email");
        const char *n = tj_find(m, counter);
        if (who && strcmp(who, email) == 0 && n) packets = strtoull(n, NULL, 10);
        free(who);
    }
    webex_string_free(media);
    return packets;
}

/* A scheduled meeting of `c` (a real one, so Locus starts it when someone joins): its number
 * (caller frees). */
static char *schedule_meeting(Client *c, const char *title) {
    char *scheduled = ok_op(c->handle, "scheduledMeetings.create",
                            "{\"title\": \"%s\", \"start\": \"2030-01-01T10:00:00Z\", \"end\": \"2030-01-01T10:30:00Z\"}",
                            title);
    char *number = tj_string(scheduled, "meetingNumber");
    free(scheduled);
    return number;
}

/* meetings.create for meeting `number`: the meeting's id (caller frees). */
static char *meeting_create(Client *c, const char *number) {
    char *meeting = ok_op(c->handle, "meetings.create", "{\"destination\": \"%s\"}", S(number));
    char *id = tj_string(meeting, "id");
    free(meeting);
    return id;
}

/* meetings.join with `media` (members of the params, e.g. "\"video\": {...}"): the view
 * (caller frees), whose media must be CONNECTED. */
static char *meeting_join(Client *c, const char *id, const char *media) {
    char *view = ok_op(c->handle, "meetings.join", "{\"meetingId\": \"%s\", %s}", S(id), media);
    CHECK(str_is(view, "mediaState", "CONNECTED"));
    return view;
}

static const char *AUDIO_BOTH_WAYS = "\"audio\": {\"send\": true, \"receive\": true}";

/* Alice and Bob in one meeting with audio both ways; Bob's audio callback (set before he
 * joins) keeps Alice's PCM. */
typedef struct {
    char *number;      /* the scheduled meeting's number */
    char *a_id, *b_id; /* Alice's and Bob's meeting ids */
    char *alice_pid;   /* Alice's participant id */
    Heard *heard;      /* the data of Bob's audio callback */
} AudioCall;

static void audio_call_start(AudioCall *call, Client *alice, Client *bob, const char *title) {
    call->number = schedule_meeting(alice, title);
    call->a_id = meeting_create(alice, call->number);
    char *a_view = meeting_join(alice, call->a_id, AUDIO_BOTH_WAYS);
    call->alice_pid = tj_string(a_view, "selfId");
    CHECK(call->alice_pid != NULL);
    call->b_id = meeting_create(bob, call->number);
    Heard *h = call->heard = calloc(1, sizeof *h);
    pthread_mutex_init(&h->mutex, NULL);
    snprintf(h->speaker, sizeof h->speaker, "%s", S(call->alice_pid));
    snprintf(h->meeting_id, sizeof h->meeting_id, "%s", S(call->b_id));
    CHECK_STATUS(webex_meeting_set_audio_callback(bob->handle, S(call->b_id), on_audio, h), WEBEX_OK);
    free(meeting_join(bob, call->b_id, AUDIO_BOTH_WAYS));
    free(a_view);
}

/* Frees the call's data: Bob's callback must be cleared (or his client closed) before. */
static void audio_call_free(AudioCall *call) {
    pthread_mutex_destroy(&call->heard->mutex);
    free(call->heard);
    free(call->number), free(call->a_id), free(call->b_id), free(call->alice_pid);
}

static void test_bob_hears_alices_tone_and_her_mute(void) {
    Client *alice = client_open(ALICE), *bob = client_open(BOB);
    AudioCall call;
    audio_call_start(&call, alice, bob, "Tone check");
    Heard *h = call.heard;
    const char *a_id = S(call.a_id), *b_id = S(call.b_id), *number = S(call.number);
    pthread_mutex_lock(&h->mutex);
    h->replier = bob->handle;
    pthread_mutex_unlock(&h->mutex);

    /* The tone: half a second of Bob's PCM from Alice peaks at 440 Hz. */
    int next = 0;
    bob_hears_440(alice->handle, a_id, &next, h);
    pthread_mutex_lock(&h->mutex);
    CHECK(h->bad == 0 && h->others == 0);
    CHECK(h->replies > 0 && h->replies_failed == 0);
    pthread_mutex_unlock(&h->mutex);

    /* Mute: once Bob's roster shows it, Alice's frames are accepted but never reach the server. */
    free(ok_op(alice->handle, "meetings.muteAudio", "{\"meetingId\": \"%s\"}", a_id));
    free(client_wait_event_where(bob, "members:update", alice_audio_muted, "true", "showing Alice muted"));
    unsigned long long before = media_counter(number, ALICE, "audioPackets");
    CHECK(before > 0);
    for (int i = 0; i < 25; i++) CHECK_STATUS(speak(alice->handle, a_id, &next), WEBEX_OK);
    CHECK(media_counter(number, ALICE, "audioPackets") == before);

    /* Unmute: Bob hears her again; once his callback is cleared it is never called again. */
    free(ok_op(alice->handle, "meetings.unmuteAudio", "{\"meetingId\": \"%s\"}", a_id));
    speak_until_heard(alice->handle, a_id, &next, h, 5 * FRAME);
    CHECK(media_counter(number, ALICE, "audioPackets") > before);
    CHECK_STATUS(webex_meeting_set_audio_callback(bob->handle, b_id, NULL, NULL), WEBEX_OK);
    pthread_mutex_lock(&h->mutex);
    h->cleared = 1;
    pthread_mutex_unlock(&h->mutex);
    for (int i = 0; i < 10; i++) CHECK_STATUS(speak(alice->handle, a_id, &next), WEBEX_OK);
    pthread_mutex_lock(&h->mutex);
    CHECK(h->after_clear == 0);
    h->cleared = 0;
    pthread_mutex_unlock(&h->mutex);
    /* Set again, for the clear after the close below. */
    CHECK_STATUS(webex_meeting_set_audio_callback(bob->handle, b_id, on_audio, h), WEBEX_OK);

    /* Bad frames and arguments. */
    int16_t silence[2 * FRAME] = {0};
    CHECK_STATUS(webex_meeting_send_audio(alice->handle, a_id, silence, 500, 1), WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("500") && last_error_mentions("480 or 960"));
    CHECK_STATUS(webex_meeting_send_audio(alice->handle, a_id, silence, FRAME, 3), WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("channels"));
    CHECK_STATUS(webex_meeting_send_audio(alice->handle, a_id, NULL, FRAME, 1), WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("samples is NULL"));
    CHECK_STATUS(webex_meeting_send_audio(alice->handle, NULL, silence, FRAME, 1), WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("meeting_id"));
    CHECK_STATUS(webex_meeting_send_audio(alice->handle, a_id, silence, FRAME, 2), WEBEX_OK);
    CHECK(webex_meeting_send_audio(alice->handle, "no-such-meeting", silence, FRAME, 1) == WEBEX_NOT_FOUND);
    CHECK(webex_meeting_set_audio_callback(alice->handle, "no-such-meeting", on_audio, h) == WEBEX_NOT_FOUND);
    CHECK_STATUS(webex_meeting_send_audio(0, a_id, silence, FRAME, 1), WEBEX_INVALID_HANDLE);
    CHECK_STATUS(webex_meeting_set_audio_callback(bob->handle, NULL, NULL, NULL), WEBEX_INVALID_ARGUMENT);

    /* Alice leaves: her frames are refused; the server keeps only Bob's media. */
    char *left = ok_op(alice->handle, "meetings.leave", "{\"meetingId\": \"%s\"}", a_id);
    CHECK(str_is(left, "state", "LEFT"));
    CHECK_STATUS(speak(alice->handle, a_id, &next), WEBEX_CLOSED);
    CHECK(last_error_mentions("LEFT"));
    char *media = meeting_control(number, "media", NULL);
    CHECK(media && strstr(media, BOB) && !strstr(media, ALICE));
    webex_string_free(media);
    free(ok_op(bob->handle, "meetings.leave", "{\"meetingId\": \"%s\"}", b_id));

    uint64_t bob_handle = bob->handle;
    client_close(alice);
    client_close(bob);
    /* Clearing works after the close too; then the callback's data may go. */
    CHECK_STATUS(webex_meeting_set_audio_callback(bob_handle, b_id, NULL, NULL), WEBEX_OK);
    CHECK_STATUS(webex_meeting_set_audio_callback(bob_handle, b_id, NULL, NULL), WEBEX_OK);
    CHECK_STATUS(webex_meeting_set_audio_callback(bob_handle, b_id, on_audio, h), WEBEX_CLOSED);
    CHECK_STATUS(webex_meeting_set_audio_callback(999999, b_id, NULL, NULL), WEBEX_INVALID_HANDLE);
    free(left);
    audio_call_free(&call);
}

/* Reconnection: the media server drops Alice's media session; with meetings.reconnection on,
 * her client brings it back by itself (and again when the app asks), and Bob hears her. */
static void test_alices_media_comes_back_after_a_cut(void) {
    Client *alice = client_open_with(ALICE, "\"meetings\": {\"reconnection\": {\"enabled\": true}}");
    Client *bob = client_open(BOB);
    AudioCall call;
    audio_call_start(&call, alice, bob, "Reconnection");
    const char *a_id = S(call.a_id);
    int next = 0;
    bob_hears_440(alice->handle, a_id, &next, call.heard);

    int from = client_event_count(alice);
    char params[256];
    snprintf(params, sizeof params, "{\"email\": \"%s\"}", ALICE);
    char *cut = meeting_control(S(call.number), "cut", params);
    CHECK(cut && strcmp(cut, "{}") == 0);
    webex_string_free(cut);
    char *starting = client_wait_event_from(alice, from, "meeting:reconnectionStarting", contains, a_id, "for her meeting");
    char *success = client_wait_event_from(alice, from, "meeting:reconnectionSuccess", contains, a_id, "for her meeting");
    CHECK(starting && tj_is(tj_find(starting, "data"), "attempt", "1"));
    CHECK(success && tj_is(tj_find(success, "data"), "attempt", "1"));
    free(client_wait_event_from(alice, from, "media:stateChange", contains, "\"RECONNECTING\"", "to RECONNECTING"));
    char *view = ok_op(alice->handle, "meetings.get", "{\"meetingId\": \"%s\"}", a_id);
    CHECK(str_is(view, "state", "JOINED") && str_is(view, "mediaState", "CONNECTED"));
    bob_hears_440(alice->handle, a_id, &next, call.heard);

    /* The app may bring media back itself: a new connection, at once. */
    char *again = ok_op(alice->handle, "meetings.reconnect", "{\"meetingId\": \"%s\"}", a_id);
    CHECK(str_is(again, "mediaState", "CONNECTED"));
    bob_hears_440(alice->handle, a_id, &next, call.heard);
    pthread_mutex_lock(&call.heard->mutex);
    CHECK(call.heard->bad == 0 && call.heard->others == 0);
    pthread_mutex_unlock(&call.heard->mutex);

    free(ok_op(alice->handle, "meetings.leave", "{\"meetingId\": \"%s\"}", a_id));
    free(ok_op(bob->handle, "meetings.leave", "{\"meetingId\": \"%s\"}", S(call.b_id)));
    client_close(alice);
    client_close(bob);
    free(starting), free(success), free(view), free(again);
    audio_call_free(&call);
}

/* ---------- media: meeting video through the C ABI ---------- */

#define VIDEO_FRAME_US 66667 /* the test pattern's 15 fps */
#define MAX_IVF_FRAMES 64
#define MAX_SENDERS 4

static const char *MEDIA_BOT = "media-bot@sandbox.example";

/* The frames of an IVF file (VP8): a 32-byte file header ("DKIF", its length at bytes 6..8),
 * then per frame a 12-byte header (u32 LE size, u64 LE pts) and the frame. */
typedef struct {
    unsigned char *file;
    size_t count;
    const unsigned char *data[MAX_IVF_FRAMES];
    size_t len[MAX_IVF_FRAMES];
} Ivf;

/* Reads `path` (relative to the repository, WEBEX_ROOT) into `ivf`; returns whether it holds
 * frames. Free with free(ivf->file). */
static int ivf_load(Ivf *ivf, const char *path) {
    memset(ivf, 0, sizeof *ivf);
    char full[2048];
    snprintf(full, sizeof full, "%s/%s", WEBEX_ROOT, path);
    FILE *f = fopen(full, "rb");
    long size = -1;
    if (f && fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (!f || size < 32 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "    cannot read %s\n", full);
        if (f) fclose(f);
        return 0;
    }
    ivf->file = malloc((size_t)size);
    size_t n = fread(ivf->file, 1, (size_t)size, f);
    fclose(f);
    if (n != (size_t)size || memcmp(ivf->file, "DKIF", 4) != 0) {
        fprintf(stderr, "    %s is not an IVF file\n", full);
        return 0;
    }
    const unsigned char *p = ivf->file;
    size_t at = (size_t)p[6] | (size_t)p[7] << 8;
    while (at + 12 <= n && ivf->count < MAX_IVF_FRAMES) {
        size_t len = (size_t)p[at] | (size_t)p[at + 1] << 8 | (size_t)p[at + 2] << 16 | (size_t)p[at + 3] << 24;
        if (len == 0 || at + 12 + len > n) break;
        ivf->data[ivf->count] = p + at + 12;
        ivf->len[ivf->count++] = len;
        at += 12 + len;
    }
    return ivf->count > 0;
}

/* Whether `data` is one of the file's frames, byte for byte. */
static int ivf_has(const Ivf *ivf, const uint8_t *data, size_t len) {
    for (size_t i = 0; i < ivf->count; i++)
        if (ivf->len[i] == len && memcmp(ivf->data[i], data, len) == 0) return 1;
    return 0;
}

/* A VP8 key frame: bit 0 of its frame tag is clear. */
static int vp8_keyframe(const uint8_t *frame) {
    return (frame[0] & 1) == 0;
}

/* The frames Bob's video callback saw of one sender. */
typedef struct {
    char id[128];
    int frames;
    int first_keyframe;              /* of the first frame it saw of this sender */
    uint32_t first_width, first_height;
    char first_codec[8];
} Sender;

/* What Bob's video callback saw (written on engine threads under `mutex`, which `cond`
 * signals on each frame). */
typedef struct {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    const Ivf *asset;                /* every frame must be one of its frames */
    char meeting_id[128];
    Sender senders[MAX_SENDERS];
    int nsenders;
    int frames, unnamed;             /* every callback; those without participant id */
    int bad;                         /* wrong meeting, codec, keyframe flag, or a frame not in the asset */
    int cleared, after_clear;        /* as Heard's */
} Seen;

static void on_video(void *user_data, const webex_video_frame *f) {
    Seen *s = user_data;
    pthread_mutex_lock(&s->mutex);
    s->frames++;
    if (s->cleared) s->after_clear++;
    if (!f->meeting_id || strcmp(f->meeting_id, s->meeting_id) != 0 || !f->codec || strcmp(f->codec, "VP8") != 0 ||
        !f->data || f->len == 0 || f->keyframe != vp8_keyframe(f->data) || !ivf_has(s->asset, f->data, f->len))
        s->bad++;
    Sender *sender = NULL;
    for (int i = 0; f->participant_id && i < s->nsenders; i++)
        if (strcmp(s->senders[i].id, f->participant_id) == 0) sender = &s->senders[i];
    if (!f->participant_id) {
        s->unnamed++;
    } else if (!sender && s->nsenders < MAX_SENDERS) {
        sender = &s->senders[s->nsenders++];
        snprintf(sender->id, sizeof sender->id, "%s", f->participant_id);
        sender->first_keyframe = f->keyframe;
        sender->first_width = f->width, sender->first_height = f->height;
        snprintf(sender->first_codec, sizeof sender->first_codec, "%s", S(f->codec));
    }
    if (sender) sender->frames++;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mutex);
}

/* The frames Bob saw of participant `id` (call with the mutex held). */
static int frames_of(const Seen *s, const char *id) {
    for (int i = 0; id && i < s->nsenders; i++)
        if (strcmp(s->senders[i].id, id) == 0) return s->senders[i].frames;
    return 0;
}

/* The first frame Bob saw of `id` is a 320x240 VP8 keyframe. */
static void check_first_frame(Seen *s, const char *id) {
    pthread_mutex_lock(&s->mutex);
    for (int i = 0; id && i < s->nsenders; i++) {
        const Sender *p = &s->senders[i];
        if (strcmp(p->id, id) != 0) continue;
        if (!p->first_keyframe || p->first_width != 320 || p->first_height != 240 || strcmp(p->first_codec, "VP8") != 0)
            fprintf(stderr, "    the first frame of %s: keyframe %d, %ux%u, %s\n", id, p->first_keyframe,
                    p->first_width, p->first_height, p->first_codec);
        CHECK(p->first_keyframe && p->first_width == 320 && p->first_height == 240);
        CHECK(strcmp(p->first_codec, "VP8") == 0);
    }
    pthread_mutex_unlock(&s->mutex);
}

/* Waits (at most 30 s) until Bob saw `want` frames of `id`, who sends by themselves. */
static int seen_wait(Seen *s, const char *id, int want) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    pthread_mutex_lock(&s->mutex);
    int ok = 1;
    while (ok && frames_of(s, id) < want) ok = pthread_cond_timedwait(&s->cond, &s->mutex, &deadline) == 0;
    if (!ok) {
        fprintf(stderr, "    Bob saw %d of %d frames of %s in 30 s (%d frames: %d unnamed, %d bad)\n", frames_of(s, id),
                want, S(id), s->frames, s->unnamed, s->bad);
        current_failed = 1;
    }
    pthread_mutex_unlock(&s->mutex);
    return ok;
}

/* Alice's camera: frame `*next` of the test pattern (looped), then one frame's real time. */
static WebexStatus film(uint64_t client, const char *meeting_id, const Ivf *asset, int *next) {
    size_t i = (size_t)(*next)++ % asset->count;
    WebexStatus status =
        webex_meeting_send_video(client, meeting_id, asset->data[i], asset->len[i], vp8_keyframe(asset->data[i]), VIDEO_FRAME_US);
    pace(VIDEO_FRAME_US);
    return status;
}

/* Alice films until Bob saw `want` frames of her (`id`); at most 30 s. */
static int film_until_seen(uint64_t alice, const char *meeting_id, const Ivf *asset, int *next, Seen *s, const char *id,
                           int want) {
    int seen = 0;
    for (int i = 0; i < 30 * 15 && seen < want; i++) {
        CHECK_STATUS(film(alice, meeting_id, asset, next), WEBEX_OK);
        pthread_mutex_lock(&s->mutex);
        seen = frames_of(s, id);
        pthread_mutex_unlock(&s->mutex);
    }
    if (seen < want) {
        fprintf(stderr, "    Bob saw %d of %d frames of Alice in 30 s\n", seen, want);
        current_failed = 1;
    }
    return seen >= want;
}

/* Bob receives video: first the sandbox's media bot's test pattern, then Alice's (the same
 * pattern, read from the asset file and sent frame by frame at 15 fps). */
static void test_bob_sees_the_media_bot_and_alice(void) {
    Ivf asset;
    if (!ivf_load(&asset, "sandbox/assets/test-pattern-320x240.ivf") || asset.count < 2) {
        CHECK(!"the test pattern asset is readable");
        free(asset.file);
        return;
    }
    Client *alice = client_open(ALICE), *bob = client_open(BOB);
    char *number = schedule_meeting(alice, "Video check");
    char *b_id = meeting_create(bob, number);
    Seen *s = calloc(1, sizeof *s);
    pthread_mutex_init(&s->mutex, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->asset = &asset;
    snprintf(s->meeting_id, sizeof s->meeting_id, "%s", S(b_id));
    CHECK_STATUS(webex_meeting_set_video_callback(bob->handle, S(b_id), on_video, s), WEBEX_OK);
    free(meeting_join(bob, b_id, "\"video\": {\"receive\": true}"));

    /* The media bot joins with its VP8 test pattern; Bob's roster names it, and so do its frames. */
    char *bot = meeting_control(S(number), "addBot", "{\"video\": \"VP8\"}");
    CHECK(bot && strstr(bot, MEDIA_BOT));
    webex_string_free(bot);
    char *roster = client_wait_event_where(bob, "members:update", names_member, MEDIA_BOT, "naming the media bot");
    char *bot_id = roster ? member_id(roster, MEDIA_BOT) : NULL;
    CHECK(bot_id != NULL);
    if (seen_wait(s, bot_id, 10)) check_first_frame(s, bot_id);

    /* Alice joins sending video and films: Bob sees her frames by her participant id. */
    char *a_id = meeting_create(alice, number);
    char *a_view = meeting_join(alice, a_id, "\"video\": {\"send\": true}");
    char *alice_pid = tj_string(a_view, "selfId");
    CHECK(alice_pid != NULL);
    int next = 0;
    if (film_until_seen(alice->handle, S(a_id), &asset, &next, s, alice_pid, 10)) check_first_frame(s, alice_pid);
    CHECK(media_counter(S(number), ALICE, "videoPackets") > 0);

    /* Bob asks for a keyframe of Alice: her client is told to send one. */
    int from = client_event_count(alice);
    char *asked = ok_op(bob->handle, "meetings.requestKeyframe", "{\"meetingId\": \"%s\", \"participantId\": \"%s\"}",
                        S(b_id), S(alice_pid));
    CHECK(asked && strcmp(asked, "{}") == 0);
    free(client_wait_event_from(alice, from, "meeting:keyframeRequested", contains, S(a_id), "for her meeting"));
    char params[256];
    snprintf(params, sizeof params, "{\"meetingId\": \"%s\", \"participantId\": \"nobody\"}", S(b_id));
    free(err_op(bob->handle, "meetings.requestKeyframe", params, WEBEX_NOT_FOUND));

    /* Bad frames and arguments. */
    const uint8_t *key = asset.data[0], *inter = asset.data[1];
    size_t key_len = asset.len[0];
    CHECK(vp8_keyframe(key) && !vp8_keyframe(inter));
    CHECK_STATUS(webex_meeting_send_video(alice->handle, S(a_id), key, 0, true, VIDEO_FRAME_US), WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("empty"));
    CHECK_STATUS(webex_meeting_send_video(alice->handle, S(a_id), NULL, 100, true, VIDEO_FRAME_US),
                 WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("data is NULL"));
    CHECK_STATUS(webex_meeting_send_video(alice->handle, S(a_id), key, key_len, true, 0), WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("duration"));
    CHECK_STATUS(webex_meeting_send_video(alice->handle, S(a_id), inter, asset.len[1], true, VIDEO_FRAME_US),
                 WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("inter frame"));
    CHECK_STATUS(webex_meeting_send_video(alice->handle, NULL, key, key_len, true, VIDEO_FRAME_US), WEBEX_INVALID_ARGUMENT);
    CHECK(last_error_mentions("meeting_id"));
    CHECK(webex_meeting_send_video(alice->handle, "no-such-meeting", key, key_len, true, VIDEO_FRAME_US) == WEBEX_NOT_FOUND);
    CHECK(webex_meeting_set_video_callback(alice->handle, "no-such-meeting", on_video, s) == WEBEX_NOT_FOUND);
    CHECK_STATUS(webex_meeting_send_video(0, S(a_id), key, key_len, true, VIDEO_FRAME_US), WEBEX_INVALID_HANDLE);
    CHECK_STATUS(webex_meeting_set_video_callback(bob->handle, NULL, NULL, NULL), WEBEX_INVALID_ARGUMENT);
    /* Bob only receives. */
    CHECK_STATUS(webex_meeting_send_video(bob->handle, S(b_id), key, key_len, true, VIDEO_FRAME_US), WEBEX_CLOSED);

    /* Once Bob's callback is cleared it is never called again, while the bot and Alice go on. */
    CHECK_STATUS(webex_meeting_set_video_callback(bob->handle, S(b_id), NULL, NULL), WEBEX_OK);
    pthread_mutex_lock(&s->mutex);
    s->cleared = 1;
    pthread_mutex_unlock(&s->mutex);
    for (int i = 0; i < 8; i++) CHECK_STATUS(film(alice->handle, S(a_id), &asset, &next), WEBEX_OK);
    pthread_mutex_lock(&s->mutex);
    CHECK(s->after_clear == 0);
    CHECK(s->bad == 0);
    CHECK(s->nsenders == 2);
    pthread_mutex_unlock(&s->mutex);
    /* Set again, for the clear after the close below. */
    CHECK_STATUS(webex_meeting_set_video_callback(bob->handle, S(b_id), on_video, s), WEBEX_OK);

    /* Alice leaves: her frames are refused. */
    char *left = ok_op(alice->handle, "meetings.leave", "{\"meetingId\": \"%s\"}", S(a_id));
    CHECK(str_is(left, "state", "LEFT"));
    CHECK_STATUS(film(alice->handle, S(a_id), &asset, &next), WEBEX_CLOSED);
    CHECK(last_error_mentions("LEFT"));
    webex_string_free(meeting_control(S(number), "removeBot", NULL));
    free(ok_op(bob->handle, "meetings.leave", "{\"meetingId\": \"%s\"}", S(b_id)));

    uint64_t bob_handle = bob->handle;
    client_close(alice);
    client_close(bob);
    /* Clearing works after the close too; then the callback's data may go. */
    CHECK_STATUS(webex_meeting_set_video_callback(bob_handle, S(b_id), NULL, NULL), WEBEX_OK);
    CHECK_STATUS(webex_meeting_set_video_callback(bob_handle, S(b_id), on_video, s), WEBEX_CLOSED);
    pthread_mutex_destroy(&s->mutex);
    pthread_cond_destroy(&s->cond);
    free(s);
    free(asset.file);
    free(number), free(b_id), free(roster), free(bot_id), free(a_id), free(a_view), free(alice_pid), free(asked);
    free(left);
}

/* ---------- main ---------- */

typedef struct {
    const char *group;
    const char *name;
    void (*fn)(void);
} Test;

static const Test TESTS[] = {
    {"ops", "people", test_people},
    {"ops", "rooms and pages", test_rooms_and_pages},
    {"ops", "memberships", test_memberships},
    {"ops", "messages and attachment actions", test_messages_and_attachment_actions},
    {"ops", "teams and team memberships", test_teams_and_team_memberships},
    {"ops", "webhooks", test_webhooks},
    {"ops", "scheduled meetings", test_scheduled_meetings},
    {"ops", "config and raw http", test_config_and_raw_http},
    {"ops", "OAuth code flow and an app store", test_oauth_code_flow_and_an_app_store},
    {"events", "ready event through the callback", test_ready_event_through_the_callback},
    {"events", "the event callback may use the handle from ready", test_the_event_callback_may_use_the_handle_from_ready},
    {"events", "a client without event callback works", test_a_client_without_event_callback_works},
    {"events", "live events through the callback", test_live_events_through_the_callback},
    {"clients", "two clients in one process", test_two_clients_in_one_process},
    {"close", "close with calls in flight cancels each once", test_close_with_calls_in_flight_cancels_each_once},
    {"close", "close from inside a callback", test_close_from_inside_a_callback},
    {"close", "a callback may start the next call", test_a_callback_may_start_the_next_call},
    {"close", "engine threads do not take SIGPIPE", test_engine_threads_do_not_take_sigpipe},
    {"close", "close_async from a callback says when it is done", test_close_async_from_a_callback_says_when_it_is_done},
    {"errors", "rate limit error carries retry-after", test_rate_limit_error_carries_retry_after},
    {"errors", "log records reach a C callback", test_log_records_reach_a_c_callback},
    {"errors", "bad token and bad params come back in the callback",
     test_bad_token_and_bad_params_come_back_in_the_callback},
    {"misuse", "version and status names", test_version_and_status_names},
    {"misuse", "NULL arguments", test_null_arguments},
    {"misuse", "bad, stale and closed handles, double close", test_bad_handles},
    {"misuse", "invalid JSON and invalid UTF-8", test_invalid_json_and_utf8},
    {"misuse", "unknown operation and unknown user", test_unknown_operation_and_unknown_user},
    {"misuse", "last error is per thread", test_last_error_is_per_thread},
    {"misuse", "sandbox lifecycle and accessors", test_sandbox_lifecycle_and_accessors},
    {"misuse", "sandbox over TLS: the CA in its config, refused without it", test_sandbox_over_tls},
    {"misuse", "sandbox meeting control errors", test_sandbox_meeting_control_errors},
    {"media", "Bob hears Alice's tone and her mute", test_bob_hears_alices_tone_and_her_mute},
    {"media", "Alice's media comes back after a cut", test_alices_media_comes_back_after_a_cut},
    {"media", "Bob sees the media bot and Alice", test_bob_sees_the_media_bot_and_alice},
    /* Last: needs every group above (run without a group filter to be meaningful). */
    {"all", "every operation was driven", test_every_operation_was_driven},
};

int main(int argc, char **argv) {
    const char *only = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0;
    setvbuf(stdout, NULL, _IONBF, 0);
    if (webex_sandbox_start(&sandbox) != WEBEX_OK) {
        char *last = webex_last_error();
        fprintf(stderr, "cannot start the sandbox: %s\n", S(last));
        webex_string_free(last);
        printf("0 passed, 1 failed\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof TESTS / sizeof TESTS[0]; i++) {
        const Test *t = &TESTS[i];
        if (only && strcmp(only, t->group) != 0) continue;
        current_failed = 0;
        t->fn();
        printf("%s %s: %s\n", current_failed ? "FAIL" : "ok  ", t->group, t->name);
        if (current_failed) failed++;
        else passed++;
    }
    if (webex_sandbox_stop(sandbox) != WEBEX_OK) failed++;
    for (int i = 0; i < ops_called_count; i++) free(ops_called[i]);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
