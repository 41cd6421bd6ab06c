//! Scheduled meetings: the `/meetings` REST resource (protocol.md §1.8, OpenAPI webex-meeting
//! "Meetings"). Operations are named `scheduledMeetings.*`; `meetings.*` is kept for joining.

use super::Extra;
use crate::boundary::operation::{Operation, call, call_id, list};
use crate::error::{Error, Result};
use crate::http::{Http, Method, Pages};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;

crate::wire_enum!(
    /// What a meeting object stands for.
    MeetingType {
        /// The series (the object that is created and updated).
        MeetingSeries = "meetingSeries",
        /// One scheduled occurrence of a series.
        ScheduledMeeting = "scheduledMeeting",
        /// A meeting instance that happened or is happening.
        Meeting = "meeting",
    }
);

crate::wire_enum!(
    /// Where a meeting is in its life.
    MeetingState {
        /// Active (a series with future occurrences).
        Active = "active",
        /// Scheduled.
        Scheduled = "scheduled",
        /// Ready to start.
        Ready = "ready",
        /// People wait in the lobby.
        Lobby = "lobby",
        /// In progress.
        InProgress = "inProgress",
        /// Ended.
        Ended = "ended",
        /// Nobody joined.
        Missed = "missed",
        /// Expired.
        Expired = "expired",
    }
);

crate::wire_enum!(
    /// The kind of scheduled meeting.
    ScheduledType {
        /// A regular meeting.
        Meeting = "meeting",
        /// A webinar.
        Webinar = "webinar",
        /// A meeting in the host's personal room.
        PersonalRoomMeeting = "personalRoomMeeting",
    }
);

crate::wire_enum!(
    /// What happens to people who join an unlocked meeting uninvited.
    UnlockedMeetingJoinSecurity {
        /// They join.
        AllowJoin = "allowJoin",
        /// They wait in the lobby.
        AllowJoinWithLobby = "allowJoinWithLobby",
        /// They cannot join.
        BlockFromJoin = "blockFromJoin",
    }
);

crate::wire_enum!(
    /// Whether a call-in number is toll-free.
    TollType {
        /// A toll number.
        Toll = "toll",
        /// A toll-free number.
        TollFree = "tollFree",
    }
);

/// A call-in number of a meeting.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallInNumber {
    /// Label, e.g. `Call-in toll-free number (US/Canada)`.
    pub label: Option<String>,
    /// The number.
    pub call_in_number: Option<String>,
    /// `toll` or `tollFree`.
    pub toll_type: Option<TollType>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// How to join a meeting by phone.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Telephony {
    /// The code to enter after dialling in.
    pub access_code: Option<String>,
    /// Call-in numbers.
    pub call_in_numbers: Option<Vec<CallInNumber>>,
    /// Links to global call-in numbers (`{rel, href, method}`).
    pub links: Option<Vec<Value>>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A scheduled meeting (series, occurrence or instance).
#[skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Meeting {
    /// Meeting id.
    pub id: String,
    /// The series this occurrence or instance belongs to.
    pub meeting_series_id: Option<String>,
    /// The scheduled occurrence this instance belongs to.
    pub scheduled_meeting_id: Option<String>,
    /// Meeting number (to join by number).
    pub meeting_number: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Agenda.
    pub agenda: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// Numeric password for phones and video systems.
    pub phone_and_video_system_password: Option<String>,
    /// `meetingSeries`, `scheduledMeeting` or `meeting`.
    pub meeting_type: Option<MeetingType>,
    /// Life-cycle state.
    pub state: Option<MeetingState>,
    /// Time zone of `start` and `end`.
    pub timezone: Option<String>,
    /// Start time (ISO 8601).
    pub start: Option<String>,
    /// End time (ISO 8601).
    pub end: Option<String>,
    /// Recurrence rule (RFC 2445 RRULE).
    pub recurrence: Option<String>,
    /// Host's person id.
    pub host_user_id: Option<String>,
    /// Host's display name.
    pub host_display_name: Option<String>,
    /// Host's email.
    pub host_email: Option<String>,
    /// Host key (to claim the host role).
    pub host_key: Option<String>,
    /// Webex site.
    pub site_url: Option<String>,
    /// Link to join.
    pub web_link: Option<String>,
    /// SIP address to join.
    pub sip_address: Option<String>,
    /// IP address for video systems to dial.
    pub dial_in_ip_address: Option<String>,
    /// The space of a space meeting.
    pub room_id: Option<String>,
    /// Phone joining details.
    pub telephony: Option<Telephony>,
    /// Whether it is an instant meeting for a space.
    pub adhoc: Option<bool>,
    /// Record automatically.
    pub enabled_auto_record_meeting: Option<bool>,
    /// Any signed-in attendee may become co-host.
    pub allow_any_user_to_be_co_host: Option<bool>,
    /// Attendees may join before the host.
    pub enabled_join_before_host: Option<bool>,
    /// Attendees may connect audio before the host joins.
    pub enable_connect_audio_before_host: Option<bool>,
    /// How many minutes before the start attendees may join.
    pub join_before_host_minutes: Option<u32>,
    /// Leave the password out of invitations.
    pub exclude_password: Option<bool>,
    /// Listed on the site's public calendar.
    pub public_meeting: Option<bool>,
    /// Reminder, in minutes before the start.
    pub reminder_time: Option<u32>,
    /// What happens to uninvited people when the meeting is unlocked.
    pub unlocked_meeting_join_security: Option<UnlockedMeetingJoinSecurity>,
    /// Session type id.
    pub session_type_id: Option<u32>,
    /// `meeting`, `webinar` or `personalRoomMeeting`.
    pub scheduled_type: Option<ScheduledType>,
    /// In-meeting options (chat, video, polling...).
    pub meeting_options: Option<Value>,
    /// What attendees may do.
    pub attendee_privileges: Option<Value>,
    /// Integration tags.
    pub integration_tags: Option<Vec<String>>,
    /// Tracking codes.
    pub tracking_codes: Option<Vec<Value>>,
    /// Audio connection options.
    pub audio_connection_options: Option<Value>,
    /// Webinar registration settings.
    pub registration: Option<Value>,
    /// Simultaneous interpretation settings.
    pub simultaneous_interpretation: Option<Value>,
    /// Breakout sessions are enabled.
    pub enabled_breakout_sessions: Option<bool>,
    /// Members the cloud sends that this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A person to invite to a new meeting.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Invitee {
    /// Email.
    pub email: String,
    /// Display name (at most 128 characters).
    pub display_name: Option<String>,
    /// Make the invitee a co-host.
    pub co_host: Option<bool>,
    /// Make the invitee a panelist (webinars).
    pub panelist: Option<bool>,
}

/// Parameters of `scheduledMeetings.create` and `scheduledMeetings.update`.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateMeeting {
    /// An instant meeting for the space `roomId` (then `title`, `start`, `end` are optional).
    pub adhoc: Option<bool>,
    /// The space of an `adhoc` meeting.
    pub room_id: Option<String>,
    /// Meeting template id.
    pub template_id: Option<String>,
    /// Title (at most 128 characters; required unless `adhoc`).
    pub title: Option<String>,
    /// Agenda (at most 1300 characters).
    pub agenda: Option<String>,
    /// Password (generated when left out).
    pub password: Option<String>,
    /// Start time (ISO 8601; required unless `adhoc`).
    pub start: Option<String>,
    /// End time (ISO 8601, 10 minutes to 24 hours after `start`; required unless `adhoc`).
    pub end: Option<String>,
    /// Time zone of `start` and `end` (IANA name).
    pub timezone: Option<String>,
    /// Recurrence rule (RFC 2445 RRULE).
    pub recurrence: Option<String>,
    /// Record automatically.
    pub enabled_auto_record_meeting: Option<bool>,
    /// Any signed-in attendee may become co-host.
    pub allow_any_user_to_be_co_host: Option<bool>,
    /// Attendees may join before the host.
    pub enabled_join_before_host: Option<bool>,
    /// Attendees may connect audio before the host joins.
    pub enable_connect_audio_before_host: Option<bool>,
    /// How many minutes before the start attendees may join (0, 5, 10 or 15).
    pub join_before_host_minutes: Option<u32>,
    /// Leave the password out of invitations.
    pub exclude_password: Option<bool>,
    /// List on the site's public calendar.
    pub public_meeting: Option<bool>,
    /// Reminder, in minutes before the start.
    pub reminder_time: Option<u32>,
    /// What happens to uninvited people when the meeting is unlocked.
    pub unlocked_meeting_join_security: Option<UnlockedMeetingJoinSecurity>,
    /// Session type id.
    pub session_type_id: Option<u32>,
    /// `meeting`, `webinar` or `personalRoomMeeting`.
    pub scheduled_type: Option<ScheduledType>,
    /// Webinar: attendees watch a webcast.
    pub enabled_webcast_view: Option<bool>,
    /// Webinar: panelist password.
    pub panelist_password: Option<String>,
    /// Lock the meeting automatically.
    pub enable_automatic_lock: Option<bool>,
    /// Minutes after the start to lock automatically.
    pub automatic_lock_minutes: Option<u32>,
    /// The first signed-in attendee becomes co-host.
    pub allow_first_user_to_be_co_host: Option<bool>,
    /// Authenticated video devices may start or join.
    pub allow_authenticated_devices: Option<bool>,
    /// People to invite.
    pub invitees: Option<Vec<Invitee>>,
    /// Email invitations to the invitees.
    pub send_email: Option<bool>,
    /// Schedule on behalf of this host (admins).
    pub host_email: Option<String>,
    /// Webex site to schedule on.
    pub site_url: Option<String>,
    /// In-meeting options (chat, video, polling...), as the cloud documents them.
    pub meeting_options: Option<Value>,
    /// What attendees may do, as the cloud documents it.
    pub attendee_privileges: Option<Value>,
    /// Webinar registration settings.
    pub registration: Option<Value>,
    /// Integration tags.
    pub integration_tags: Option<Vec<String>>,
    /// Simultaneous interpretation settings.
    pub simultaneous_interpretation: Option<Value>,
    /// Enable breakout sessions.
    pub enabled_breakout_sessions: Option<bool>,
    /// Pre-assigned breakout sessions (`{name, invitees}`).
    pub breakout_sessions: Option<Vec<Value>>,
    /// Tracking codes (`{name, value}`).
    pub tracking_codes: Option<Vec<Value>>,
    /// Audio watermark.
    pub enabled_audio_watermark: Option<bool>,
    /// Visual watermark.
    pub enabled_visual_watermark: Option<bool>,
    /// Visual watermark opacity (percent).
    pub visual_watermark_opacity: Option<u32>,
    /// Audio connection options.
    pub audio_connection_options: Option<Value>,
    /// Attendees must sign in.
    pub require_attendee_login: Option<bool>,
    /// Only invitees may join.
    pub restrict_to_invitees: Option<bool>,
    /// Live streaming.
    pub enabled_live_stream: Option<bool>,
    /// Live stream settings.
    pub live_stream: Option<Value>,
}

/// Parameters of `scheduledMeetings.update` (a full replacement; besides `meetingId`).
pub type UpdateMeeting = CreateMeeting;

/// Parameters of `scheduledMeetings.patch` (only the members given change; besides `meetingId`).
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchMeeting {
    /// Title.
    pub title: Option<String>,
    /// Agenda.
    pub agenda: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// Start time (ISO 8601).
    pub start: Option<String>,
    /// End time (ISO 8601).
    pub end: Option<String>,
    /// Time zone of `start` and `end`.
    pub timezone: Option<String>,
    /// Recurrence rule (RFC 2445 RRULE).
    pub recurrence: Option<String>,
    /// Record automatically.
    pub enabled_auto_record_meeting: Option<bool>,
    /// Any signed-in attendee may become co-host.
    pub allow_any_user_to_be_co_host: Option<bool>,
    /// Attendees may join before the host.
    pub enabled_join_before_host: Option<bool>,
    /// Attendees may connect audio before the host joins.
    pub enable_connect_audio_before_host: Option<bool>,
    /// How many minutes before the start attendees may join.
    pub join_before_host_minutes: Option<u32>,
    /// Leave the password out of invitations.
    pub exclude_password: Option<bool>,
    /// List on the site's public calendar.
    pub public_meeting: Option<bool>,
    /// Reminder, in minutes before the start.
    pub reminder_time: Option<u32>,
    /// What happens to uninvited people when the meeting is unlocked.
    pub unlocked_meeting_join_security: Option<UnlockedMeetingJoinSecurity>,
    /// Session type id.
    pub session_type_id: Option<u32>,
    /// Webinar: attendees watch a webcast.
    pub enabled_webcast_view: Option<bool>,
    /// Webinar: panelist password.
    pub panelist_password: Option<String>,
    /// Lock the meeting automatically.
    pub enable_automatic_lock: Option<bool>,
    /// Minutes after the start to lock automatically.
    pub automatic_lock_minutes: Option<u32>,
    /// The first signed-in attendee becomes co-host.
    pub allow_first_user_to_be_co_host: Option<bool>,
    /// Authenticated video devices may start or join.
    pub allow_authenticated_devices: Option<bool>,
    /// Email the invitees about the change.
    pub send_email: Option<bool>,
    /// Act on behalf of this host (admins).
    pub host_email: Option<String>,
    /// In-meeting options.
    pub meeting_options: Option<Value>,
    /// What attendees may do.
    pub attendee_privileges: Option<Value>,
    /// Integration tags.
    pub integration_tags: Option<Vec<String>>,
    /// Enable breakout sessions.
    pub enabled_breakout_sessions: Option<bool>,
    /// Tracking codes (`{name, value}`).
    pub tracking_codes: Option<Vec<Value>>,
    /// Audio watermark.
    pub enabled_audio_watermark: Option<bool>,
    /// Visual watermark.
    pub enabled_visual_watermark: Option<bool>,
    /// Visual watermark opacity (percent).
    pub visual_watermark_opacity: Option<u32>,
    /// Audio connection options.
    pub audio_connection_options: Option<Value>,
    /// Attendees must sign in.
    pub require_attendee_login: Option<bool>,
    /// Only invitees may join.
    pub restrict_to_invitees: Option<bool>,
    /// Live streaming.
    pub enabled_live_stream: Option<bool>,
    /// Live stream settings.
    pub live_stream: Option<Value>,
}

/// Parameters of `scheduledMeetings.list`.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListMeetings {
    /// Only the meeting with this number (excludes `webLink`, `roomId`).
    pub meeting_number: Option<String>,
    /// Only the meeting with this link (excludes `meetingNumber`, `roomId`).
    pub web_link: Option<String>,
    /// Only meetings of this space (excludes `meetingNumber`, `webLink`).
    pub room_id: Option<String>,
    /// Only occurrences or instances of this series.
    pub meeting_series_id: Option<String>,
    /// `meetingSeries`, `scheduledMeeting` or `meeting`.
    pub meeting_type: Option<MeetingType>,
    /// Only meetings in this state.
    pub state: Option<MeetingState>,
    /// `meeting`, `webinar` or `personalRoomMeeting`.
    pub scheduled_type: Option<ScheduledType>,
    /// Only occurrences that were changed from their series.
    pub is_modified: Option<bool>,
    /// Only instances with chat.
    pub has_chat: Option<bool>,
    /// Only instances with a recording.
    pub has_recording: Option<bool>,
    /// Only instances with a transcription.
    pub has_transcription: Option<bool>,
    /// Only instances with a summary.
    pub has_summary: Option<bool>,
    /// Only instances with closed captions.
    pub has_closed_caption: Option<bool>,
    /// Only instances with polls.
    pub has_polls: Option<bool>,
    /// Only instances with Q&A.
    #[serde(rename = "hasQA")]
    pub has_qa: Option<bool>,
    /// Only instances with Slido.
    pub has_slido: Option<bool>,
    /// The current occurrence of a series rather than the whole series.
    pub current: Option<bool>,
    /// From this time (inclusive, ISO 8601).
    pub from: Option<String>,
    /// To this time (exclusive, ISO 8601).
    pub to: Option<String>,
    /// Meetings of this host (admins).
    pub host_email: Option<String>,
    /// Webex site.
    pub site_url: Option<String>,
    /// Only meetings with this integration tag.
    pub integration_tag: Option<String>,
    /// Page size (at most 100).
    pub max: Option<u32>,
}

/// Parameters of `scheduledMeetings.get` (besides `meetingId`).
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetMeeting {
    /// For a series id: the current occurrence rather than the series.
    pub current: Option<bool>,
    /// Act on behalf of this host (admins).
    pub host_email: Option<String>,
}

/// Parameters of `scheduledMeetings.delete` (besides `meetingId`).
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeleteMeeting {
    /// Act on behalf of this host (admins).
    pub host_email: Option<String>,
    /// Email the invitees about the cancellation.
    pub send_email: Option<bool>,
}

fn given(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.trim().is_empty())
}

/// A scheduled meeting needs a title and times; an instant one needs its space.
fn check_create(p: &CreateMeeting) -> Result<()> {
    if p.adhoc == Some(true) {
        if !given(&p.room_id) {
            return Err(Error::invalid(
                "scheduledMeetings.create: `adhoc: true` needs the `roomId` of the space the meeting is for",
            ));
        }
        return Ok(());
    }
    let missing: Vec<&str> = [("title", &p.title), ("start", &p.start), ("end", &p.end)]
        .into_iter()
        .filter(|(_, v)| !given(v))
        .map(|(n, _)| n)
        .collect();
    if !missing.is_empty() {
        let names = missing.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
        let verb = if missing.len() == 1 { "is" } else { "are" };
        return Err(Error::invalid(format!(
            "scheduledMeetings.create: {names} {verb} required (or set `adhoc: true` with a `roomId` for an instant space meeting)"
        )));
    }
    Ok(())
}

/// `meetingNumber`, `webLink` and `roomId` select one meeting each; at most one may be given.
fn check_list(p: &ListMeetings) -> Result<()> {
    let given: Vec<&str> = [("meetingNumber", &p.meeting_number), ("webLink", &p.web_link), ("roomId", &p.room_id)]
        .into_iter()
        .filter(|(_, v)| given(v))
        .map(|(n, _)| n)
        .collect();
    if given.len() > 1 {
        return Err(Error::invalid(format!(
            "scheduledMeetings.list: `meetingNumber`, `webLink` and `roomId` exclude each other (got {})",
            given.join(" and ")
        )));
    }
    Ok(())
}

/// The scheduled meetings API.
#[derive(Clone)]
pub struct ScheduledMeetings {
    pub(crate) http: Http,
}

impl ScheduledMeetings {
    /// Schedule a meeting (or start an instant space meeting with `adhoc`).
    pub async fn create(&self, params: &CreateMeeting) -> Result<Meeting> {
        check_create(params)?;
        super::create(&self.http, "meetings", params).await
    }

    /// List meetings, lazily across pages.
    pub fn list(&self, params: &ListMeetings) -> Result<Pages<Meeting>> {
        check_list(params)?;
        super::list(&self.http, "meetings", params)
    }

    /// Get a meeting.
    pub async fn get(&self, meeting_id: &str, params: &GetMeeting) -> Result<Meeting> {
        super::get_with(&self.http, "meetings", "meetingId", meeting_id, params).await
    }

    /// Replace a meeting's settings (PUT).
    pub async fn update(&self, meeting_id: &str, params: &UpdateMeeting) -> Result<Meeting> {
        super::update(&self.http, Method::PUT, "meetings", "meetingId", meeting_id, params).await
    }

    /// Change some of a meeting's settings (PATCH).
    pub async fn patch(&self, meeting_id: &str, params: &PatchMeeting) -> Result<Meeting> {
        super::update(&self.http, Method::PATCH, "meetings", "meetingId", meeting_id, params).await
    }

    /// Cancel a meeting.
    pub async fn delete(&self, meeting_id: &str, params: &DeleteMeeting) -> Result<()> {
        super::delete(&self.http, "meetings", "meetingId", meeting_id, params).await
    }
}

/// The scheduled meetings rows of the operation table.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        call(
            "scheduledMeetings.create",
            "Schedule a meeting (or start an instant space meeting with adhoc).",
            |c, p: CreateMeeting| async move { c.scheduled_meetings().create(&p).await },
        ),
        list("scheduledMeetings.list", "List scheduled meetings.", |c, p: ListMeetings| {
            c.scheduled_meetings().list(&p)
        }),
        call_id("scheduledMeetings.get", "meetingId", "Get a scheduled meeting.", |c, id, p: GetMeeting| async move {
            c.scheduled_meetings().get(&id, &p).await
        }),
        call_id(
            "scheduledMeetings.update",
            "meetingId",
            "Replace a scheduled meeting's settings.",
            |c, id, p: UpdateMeeting| async move { c.scheduled_meetings().update(&id, &p).await },
        ),
        call_id(
            "scheduledMeetings.patch",
            "meetingId",
            "Change some of a scheduled meeting's settings.",
            |c, id, p: PatchMeeting| async move { c.scheduled_meetings().patch(&id, &p).await },
        ),
        call_id(
            "scheduledMeetings.delete",
            "meetingId",
            "Cancel a scheduled meeting.",
            |c, id, p: DeleteMeeting| async move { c.scheduled_meetings().delete(&id, &p).await },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_and_keeps_unknowns() {
        let m: Meeting = serde_json::from_value(json!({
            "id": "870f51ff287b41be84648412901e0402",
            "meetingNumber": "123456789",
            "title": "Example Daily Meeting",
            "agenda": "Example Agenda",
            "password": "BgJep@43",
            "phoneAndVideoSystemPassword": "12345678",
            "meetingType": "meetingSeries",
            "state": "archived",
            "timezone": "UTC",
            "start": "2019-11-01T20:00:00Z",
            "end": "2019-11-01T21:00:00Z",
            "recurrence": "FREQ=DAILY;INTERVAL=1;COUNT=10",
            "hostUserId": "h1",
            "hostDisplayName": "John Andersen",
            "hostEmail": "john.andersen@example.com",
            "hostKey": "123456",
            "siteUrl": "site4-example.webex.com",
            "webLink": "https://site4-example.webex.com/site4/j.php?MTID=x",
            "sipAddress": "123456789@site4-example.webex.com",
            "dialInIpAddress": "192.168.100.100",
            "enabledAutoRecordMeeting": false,
            "joinBeforeHostMinutes": 0,
            "reminderTime": 10,
            "unlockedMeetingJoinSecurity": "allowJoinWithLobby",
            "sessionTypeId": 3,
            "scheduledType": "meeting",
            "telephony": {
                "accessCode": "1234567890",
                "callInNumbers": [{"label": "US Toll", "callInNumber": "123456789", "tollType": "toll"},
                                  {"label": "Local", "callInNumber": "1", "tollType": "premium"}],
                "links": [{"rel": "globalCallinNumbers", "href": "/v1/meetings/x/globalCallinNumbers", "method": "GET"}]
            },
            "meetingOptions": {"enabledChat": true},
            "integrationTags": ["dbaeceebea5c4a63ac9d5ef1edfe36b9"],
            "enabledBreakoutSessions": false,
            "hostDidJoin": false,
            "liveStream": {"enabled": false}
        }))
        .unwrap();
        assert_eq!(m.meeting_type, Some(MeetingType::MeetingSeries));
        assert_eq!(m.state, Some(MeetingState::Other("archived".into())));
        assert_eq!(m.unlocked_meeting_join_security, Some(UnlockedMeetingJoinSecurity::AllowJoinWithLobby));
        let tel = m.telephony.as_ref().unwrap();
        let numbers = tel.call_in_numbers.as_ref().unwrap();
        assert_eq!(numbers[0].toll_type, Some(TollType::Toll));
        assert_eq!(numbers[1].toll_type, Some(TollType::Other("premium".into())));
        assert_eq!(m.extra["hostDidJoin"], false);
        assert_eq!(m.extra["liveStream"]["enabled"], false);
        let back = serde_json::to_value(&m).unwrap();
        assert_eq!(back["state"], "archived");
        assert_eq!(back["hostDidJoin"], false);
    }

    #[test]
    fn create_checks_and_encodes() {
        let e = check_create(&CreateMeeting { title: Some("t".into()), ..Default::default() }).unwrap_err();
        assert!(e.message.contains("`start`, `end` are required"), "{}", e.message);
        let e = check_create(&CreateMeeting { title: Some("t".into()), start: Some("s".into()), ..Default::default() })
            .unwrap_err();
        assert!(e.message.contains("`end` is required"), "{}", e.message);
        let e = check_create(&CreateMeeting { adhoc: Some(true), ..Default::default() }).unwrap_err();
        assert!(e.message.contains("`roomId`"), "{}", e.message);
        check_create(&CreateMeeting { adhoc: Some(true), room_id: Some("r".into()), ..Default::default() }).unwrap();
        let p: CreateMeeting = serde_json::from_value(json!({
            "title": "t", "start": "2030-01-01T10:00:00Z", "end": "2030-01-01T11:00:00Z",
            "invitees": [{"email": "a@example.com", "coHost": true}], "scheduledType": "webinar"
        }))
        .unwrap();
        check_create(&p).unwrap();
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"title": "t", "start": "2030-01-01T10:00:00Z", "end": "2030-01-01T11:00:00Z",
                   "scheduledType": "webinar", "invitees": [{"email": "a@example.com", "coHost": true}]})
        );
        assert!(serde_json::from_value::<CreateMeeting>(json!({"title": "t", "whatever": 1})).is_err());
        assert!(serde_json::from_value::<CreateMeeting>(json!({"invitees": [{"mail": "a"}]})).is_err());
    }

    #[test]
    fn list_selectors_exclude_each_other() {
        let e = check_list(&ListMeetings {
            meeting_number: Some("1".into()),
            room_id: Some("r".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.message.contains("meetingNumber and roomId"), "{}", e.message);
        let p: ListMeetings = serde_json::from_value(json!({"hasQA": true, "meetingType": "meeting"})).unwrap();
        check_list(&p).unwrap();
        assert_eq!(serde_json::to_value(&p).unwrap(), json!({"meetingType": "meeting", "hasQA": true}));
    }
}
