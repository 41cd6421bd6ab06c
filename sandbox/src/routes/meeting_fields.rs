//! Building and validating scheduled-meeting objects (`/v1/meetings` bodies and answers).

use serde_json::{Map, Value, json};

use crate::body::{Body, JsonKind};
use crate::errors::{ApiError, ApiResult};
use crate::time::{self, iso_s, now_ms};

/// A field name and a maker of its default value.
type FieldDefault = (&'static str, fn() -> Value);

/// Option flags the API answers with and their defaults (spec example values).
const DEFAULTS: &[FieldDefault] = &[
    ("enabledAutoRecordMeeting", || false.into()),
    ("allowAnyUserToBeCoHost", || false.into()),
    ("enabledJoinBeforeHost", || false.into()),
    ("enableConnectAudioBeforeHost", || false.into()),
    ("joinBeforeHostMinutes", || 0.into()),
    ("excludePassword", || false.into()),
    ("publicMeeting", || false.into()),
    ("reminderTime", || 10.into()),
    ("unlockedMeetingJoinSecurity", || "allowJoin".into()),
    ("sessionTypeId", || 3.into()),
    ("scheduledType", || "meeting".into()),
    ("enabledWebcastView", || false.into()),
    ("enableAutomaticLock", || false.into()),
    ("automaticLockMinutes", || 0.into()),
    ("allowFirstUserToBeCoHost", || false.into()),
    ("allowAuthenticatedDevices", || false.into()),
    ("enabledBreakoutSessions", || false.into()),
    ("enabledAudioWatermark", || false.into()),
    ("enabledVisualWatermark", || false.into()),
    ("requireAttendeeLogin", || false.into()),
    ("restrictToInvitees", || false.into()),
    ("enabledLiveStream", || false.into()),
];

/// Optional settable fields echoed back as given, with their JSON kind.
const ECHOED: &[(&str, JsonKind)] = &[
    ("agenda", JsonKind::String),
    ("recurrence", JsonKind::String),
    ("meetingOptions", JsonKind::Object),
    ("attendeePrivileges", JsonKind::Object),
    ("registration", JsonKind::Object),
    ("simultaneousInterpretation", JsonKind::Object),
    ("audioConnectionOptions", JsonKind::Object),
    ("integrationTags", JsonKind::Array),
];

/// Enumerated string fields and their values.
const ENUMS: &[(&str, &[&str])] = &[
    ("unlockedMeetingJoinSecurity", &["allowJoin", "allowJoinWithLobby", "blockFromJoin"]),
    ("scheduledType", &["meeting", "webinar", "personalRoomMeeting"]),
];

/// A meeting may last 10 minutes to 24 hours (protocol.md §1.8).
const MIN_LEN_MS: i64 = 10 * 60_000;
const MAX_LEN_MS: i64 = 24 * 3_600_000;

fn random_digits(n: usize) -> String {
    (0..n).map(|i| char::from(b'0' + rand::random_range(u8::from(i == 0)..10))).collect()
}

fn random_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    (0..8).map(|_| char::from(ALPHABET[rand::random_range(0..ALPHABET.len())])).collect()
}

/// The generated, never-settable part of a new meeting series (id, numbers, links, host).
pub(crate) fn generated(id: &str, number: &str, host: (&str, &str, &str)) -> Map<String, Value> {
    let mut f = Map::new();
    f.insert("id".into(), id.into());
    f.insert("meetingNumber".into(), number.into());
    f.insert("phoneAndVideoSystemPassword".into(), random_digits(8).into());
    f.insert("meetingType".into(), "meetingSeries".into());
    // The brief asks for `scheduled` (the spec's example series says `active`).
    f.insert("state".into(), "scheduled".into());
    f.insert("hostUserId".into(), host.0.into());
    f.insert("hostDisplayName".into(), host.1.into());
    f.insert("hostEmail".into(), host.2.into());
    f.insert("hostKey".into(), random_digits(6).into());
    f.insert("siteUrl".into(), "sandbox.webex.com".into());
    f.insert("webLink".into(), format!("https://sandbox.webex.com/meet/j.php?MTID=m{id}").into());
    f.insert("sipAddress".into(), format!("{number}@sandbox.webex.com").into());
    f.insert("dialInIpAddress".into(), "127.0.0.1".into());
    f.insert(
        "telephony".into(),
        json!({
            "accessCode": number,
            "callInNumbers": [
                {"label": "US Toll", "callInNumber": "+1-408-525-6800", "tollType": "toll"},
                {"label": "US Toll Free", "callInNumber": "+1-866-432-9903", "tollType": "tollFree"}
            ],
            "links": [{"rel": "globalCallinNumbers", "href": format!("/v1/meetings/{id}/globalCallinNumbers"), "method": "GET"}]
        }),
    );
    f.insert("password".into(), random_password().into());
    f.insert("timezone".into(), "UTC".into());
    for (k, v) in DEFAULTS {
        f.insert((*k).into(), v());
    }
    f
}

/// A random meeting number (10 digits, like the cloud's).
pub(crate) fn meeting_number() -> String {
    format!("2{}", random_digits(9))
}

/// Applies a POST/PUT (`full`) or PATCH body to `fields`; returns the new `(start, end)`.
/// `full` requires title, start and end and resets unspecified options to their defaults.
pub(crate) fn apply(
    fields: &mut Map<String, Value>,
    body: &Body,
    full: bool,
    span: (i64, i64),
) -> ApiResult<(i64, i64)> {
    if full {
        for (k, v) in DEFAULTS {
            fields.insert((*k).into(), v());
        }
        for (k, _) in ECHOED {
            fields.remove(*k);
        }
    }
    match (full, body.str("title")?) {
        (_, Some(t)) if t.chars().count() > 128 => {
            return Err(ApiError::invalid("title", "longer than 128 characters"));
        }
        (_, Some(t)) if !t.trim().is_empty() => {
            fields.insert("title".into(), t.into());
        }
        (true, _) | (false, Some(_)) => return Err(ApiError::missing("title")),
        (false, None) => {}
    }
    if body.str("agenda")?.is_some_and(|a| a.chars().count() > 1300) {
        return Err(ApiError::invalid("agenda", "longer than 1300 characters"));
    }
    let when = |k: &str, current: i64| -> ApiResult<i64> {
        match body.str(k)? {
            Some(s) => time::parse(&s).ok_or_else(|| ApiError::invalid(k, "not an ISO 8601 date and time")),
            None if full => Err(ApiError::missing(k)),
            None => Ok(current),
        }
    };
    let (start, end) = (when("start", span.0)?, when("end", span.1)?);
    if end <= start {
        return Err(ApiError::invalid("end", "must be after 'start'"));
    }
    if end - start < MIN_LEN_MS || end - start > MAX_LEN_MS {
        return Err(ApiError::invalid("end", "a meeting lasts between 10 minutes and 24 hours"));
    }
    fields.insert("start".into(), iso_s(start).into());
    fields.insert("end".into(), iso_s(end).into());
    if let Some(tz) = body.str("timezone")? {
        fields.insert("timezone".into(), tz.into());
    }
    if let Some(p) = body.str("password")? {
        fields.insert("password".into(), p.into());
    }
    for (k, kind) in ECHOED {
        body.check_type(k, *kind)?;
        if let Some(v) = body.get(k) {
            fields.insert((*k).into(), v.clone());
        }
    }
    for (k, default) in DEFAULTS {
        let kind = match default() {
            Value::Bool(_) => JsonKind::Bool,
            Value::Number(_) => JsonKind::Number,
            _ => JsonKind::String,
        };
        body.check_type(k, kind)?;
        if let Some(v) = body.get(k) {
            if let Some((_, allowed)) = ENUMS.iter().find(|(e, _)| e == k)
                && !allowed.contains(&v.as_str().unwrap_or(""))
            {
                return Err(ApiError::invalid(k, &format!("must be one of {}", allowed.join(", "))));
            }
            fields.insert((*k).into(), v.clone());
        }
    }
    Ok((start, end))
}

/// Default start/end of an ad-hoc (instant) meeting: now, for an hour (guess).
pub(crate) fn adhoc_span() -> (i64, i64) {
    let now = now_ms();
    (now, now + 3_600_000)
}
