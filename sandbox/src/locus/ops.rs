//! Locus mutations. Each one bumps the sequence once per published event and publishes it
//! (lock order locus → mercury: callers hold the loci and pass the locked hub).

use uuid::Uuid;

use super::bot::MEDIA_BOT_EMAIL;
use super::roap::LocalMedia;
use super::{Device, LocusState, LocusStore, Participant, PersonRef};
use crate::errors::{ApiError, ApiResult};
use crate::mercury::Hub;

/// What a join request asks for.
#[derive(Debug)]
pub(crate) struct Join {
    pub device_url: String,
    pub device_type: String,
    pub correlation_id: Option<String>,
    pub media: Option<LocalMedia>,
    /// `moderator: true` in the body.
    pub moderator: bool,
    pub pin: Option<String>,
}

/// Audio or video.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Audio,
    Video,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Audio => "audio",
            Kind::Video => "video",
        }
    }
}

/// A mute change: local (`status.*Status`) or by a moderator (`controls.*.muted`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mute {
    pub kind: Kind,
    pub by_moderator: bool,
    pub muted: bool,
}

/// The answer to a join (or media, controls, end) on an ENDED locus. UNSURE: 409 and the
/// errorCode are guesses; the real Locus answer for "meeting ended" was never observed.
pub(crate) fn ended() -> ApiError {
    ApiError::conflict("The meeting has ended.").with_code(2_403_004)
}

impl LocusStore {
    /// `me` joins locus `i` (or rejoins, keeping the participant id), from `j.device_url`.
    pub fn join(&mut self, hub: &mut Hub, i: usize, me: &PersonRef, j: &Join) -> ApiResult<()> {
        match self.loci[i].state {
            LocusState::Ended => return Err(ended()),
            LocusState::Inactive => {
                // An old locus URL after everybody left: it comes back to life unless the
                // meeting already runs in a newer locus (UNSURE what Locus does then).
                if self.active_for(&self.loci[i].meeting.number).is_some() {
                    return Err(ApiError::conflict("The meeting continues in a newer locus; join it with /loci/call."));
                }
                self.loci[i].state = LocusState::Active;
            }
            LocusState::Active => {}
        }
        let l = &mut self.loci[i];
        // Host key claim: `moderator: true` with the scheduled meeting's host key as `pin`
        // (UNSURE: how the SDK's `moderator`/`pin` pair is checked by Locus).
        let claims_host = j.moderator && j.pin.is_some() && j.pin == l.meeting.host_key;
        let moderator = me.uuid == l.meeting.host.uuid || claims_host;
        let pi = match l.participants.iter().position(|p| p.person.uuid == me.uuid) {
            Some(pi) => pi,
            None => {
                let csis = l.fresh_csis();
                l.participants.push(Participant {
                    id: Uuid::new_v4(),
                    person: me.clone(),
                    joined: false,
                    is_creator: l.participants.is_empty(),
                    moderator: false,
                    removed: false,
                    devices: Vec::new(),
                    audio_muted: false,
                    video_muted: false,
                    audio_locked: false,
                    video_locked: false,
                    csis,
                });
                l.participants.len() - 1
            }
        };
        let p = &mut l.participants[pi];
        p.joined = true;
        p.removed = false;
        p.moderator |= moderator;
        let device = Device {
            url: j.device_url.clone(),
            device_type: j.device_type.clone(),
            joined: true,
            correlation_id: j.correlation_id.clone(),
        };
        match p.devices.iter_mut().find(|d| d.url == j.device_url) {
            Some(d) => *d = device,
            None => p.devices.push(device),
        }
        if let Some(m) = &j.media {
            p.audio_muted = m.audio_muted.unwrap_or(p.audio_muted);
            p.video_muted = m.video_muted.unwrap_or(p.video_muted);
        }
        l.bump();
        self.publish(hub, i, "locus.participant_joined", Some(me.uuid));
        Ok(())
    }

    /// Participant `pi` leaves (or is removed by the cloud: `removed`); the locus goes
    /// INACTIVE when nobody is left. Leaving twice changes nothing.
    pub fn leave(&mut self, hub: &mut Hub, i: usize, pi: usize, removed: bool) {
        let l = &mut self.loci[i];
        let p = &mut l.participants[pi];
        if !p.joined {
            return;
        }
        p.joined = false;
        p.removed = removed;
        p.devices.iter_mut().for_each(|d| d.joined = false);
        let person = p.person.uuid;
        let participant = p.id;
        self.sfu.remove(l.id, participant);
        let l = &mut self.loci[i];
        // The built-in participant does not keep a meeting going on its own: it leaves with
        // the last person (in the same event).
        if l.participants.iter().filter(|p| p.joined).all(|p| p.person.email == MEDIA_BOT_EMAIL) {
            for bot in l.participants.iter_mut().filter(|p| p.joined) {
                bot.joined = false;
                bot.devices.iter_mut().for_each(|d| d.joined = false);
                self.sfu.remove(l.id, bot.id);
            }
        }
        if l.state == LocusState::Active && l.participants.iter().all(|p| !p.joined) {
            l.state = LocusState::Inactive;
        }
        l.bump();
        self.publish(hub, i, "locus.participant_left", Some(person));
    }

    /// Applies a mute change to participant `pi`; publishes
    /// `locus.participant_<kind>_muted|unmuted` when it changed anything.
    pub fn mute(&mut self, hub: &mut Hub, i: usize, pi: usize, change: Mute, actor: Uuid) {
        let Mute { kind, by_moderator, muted } = change;
        let p = &mut self.loci[i].participants[pi];
        let flag = match (kind, by_moderator) {
            (Kind::Audio, false) => &mut p.audio_muted,
            (Kind::Video, false) => &mut p.video_muted,
            (Kind::Audio, true) => &mut p.audio_locked,
            (Kind::Video, true) => &mut p.video_locked,
        };
        if *flag == muted {
            return;
        }
        *flag = muted;
        self.loci[i].bump();
        let event = format!("locus.participant_{}_{}", kind.name(), if muted { "muted" } else { "unmuted" });
        self.publish(hub, i, &event, Some(actor));
    }

    /// Ends locus `i` for everybody: state ENDED, then one `participant_left` per joined
    /// participant and a final `controls_updated`, all to everybody who was in it (+ actor).
    pub fn end(&mut self, hub: &mut Hub, i: usize, actor: Option<Uuid>) {
        let mut to = self.loci[i].joined_people();
        to.extend(actor);
        // ENDED first, so every event already says so and no client mistakes the first
        // participant_left for a normal departure.
        self.loci[i].state = LocusState::Ended;
        let joined: Vec<usize> =
            (0..self.loci[i].participants.len()).filter(|&pi| self.loci[i].participants[pi].joined).collect();
        for pi in joined {
            let l = &mut self.loci[i];
            let p = &mut l.participants[pi];
            p.joined = false;
            p.devices.iter_mut().for_each(|d| d.joined = false);
            l.bump();
            self.publish_to(hub, i, "locus.participant_left", &to);
        }
        self.loci[i].bump();
        self.publish_to(hub, i, "locus.controls_updated", &to);
        self.sfu.close_room(self.loci[i].id);
    }
}
