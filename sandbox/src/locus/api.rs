//! The Rust test API for meetings (Locus) on [`Sandbox`].

use serde_json::Value;

use crate::Sandbox;
use crate::state::Shared;
use crate::state::lock;

impl Sandbox {
    /// Every locus, including INACTIVE and ENDED ones, oldest first, as full DTOs without a
    /// `self` (nobody's view): a JSON array.
    pub fn loci_json(&self) -> Value {
        let ls = lock(&self.shared.locus);
        Value::Array((0..ls.loci.len()).map(|i| ls.dto(i, None)).collect())
    }

    /// Ends the active meeting with this meeting number for everybody, as its host would
    /// (events `locus.participant_left` per participant, then `locus.controls_updated`).
    /// `false` when the meeting is not running.
    pub fn end_meeting(&self, meeting_number: &str) -> bool {
        self.shared.end_meeting(meeting_number)
    }

    /// Removes a JOINED person from the active meeting with this number, as the cloud does
    /// (self `LEFT` with `removed: true`: the SDK's autoRejoin path); event
    /// `locus.participant_left`. `false` when the meeting is not running or the person is not
    /// in it.
    pub fn kick(&self, meeting_number: &str, email: &str) -> bool {
        self.shared.kick(meeting_number, email)
    }

    /// Media counters of every participant with a media session in the active meeting with
    /// this number (join order); empty when the meeting is not running.
    pub fn meeting_media(&self, meeting_number: &str) -> Vec<crate::ParticipantMedia> {
        self.shared.meeting_media(meeting_number)
    }

    /// Drops a participant's media session (its peer connection closes; the Locus state is
    /// unchanged), as a media server that lost the client would. `false` when there was none.
    pub fn cut_media(&self, meeting_number: &str, email: &str) -> bool {
        self.shared.cut_media(meeting_number, email)
    }

    /// Sends every ROAP reply to `PUT <selfUrl>/media` over Mercury (`locus.message.roap`),
    /// even when the client asked for it in the HTTP response with
    /// `includeAnswerInHttpResponse`, as a Locus that answers asynchronously would.
    pub fn set_roap_via_mercury(&self, on: bool) {
        self.shared.set_roap_via_mercury(on)
    }
}

/// The meeting controls on the shared state: what [`Sandbox`] and the admin routes call.
impl Shared {
    /// [`Sandbox::end_meeting`].
    pub(crate) fn end_meeting(&self, meeting_number: &str) -> bool {
        let mut ls = lock(&self.locus);
        let Some(i) = ls.active_for(meeting_number) else { return false };
        ls.end(&mut lock(&self.mercury), i, None);
        true
    }

    /// [`Sandbox::kick`].
    pub(crate) fn kick(&self, meeting_number: &str, email: &str) -> bool {
        let Some(person) = self.store().person_by_email(email).map(|p| p.uuid) else { return false };
        let mut ls = lock(&self.locus);
        let Some(i) = ls.active_for(meeting_number) else { return false };
        let Some(pi) = ls.loci[i].participants.iter().position(|p| p.person.uuid == person && p.joined) else {
            return false;
        };
        ls.leave(&mut lock(&self.mercury), i, pi, true);
        true
    }

    /// [`Sandbox::meeting_media`].
    pub(crate) fn meeting_media(&self, meeting_number: &str) -> Vec<crate::ParticipantMedia> {
        let ls = lock(&self.locus);
        let Some(i) = ls.active_for(meeting_number) else { return Vec::new() };
        ls.sfu.media(ls.loci[i].id)
    }

    /// [`Sandbox::cut_media`].
    pub(crate) fn cut_media(&self, meeting_number: &str, email: &str) -> bool {
        let ls = lock(&self.locus);
        let Some(i) = ls.active_for(meeting_number) else { return false };
        let Some(p) = ls.loci[i].participants.iter().find(|p| p.person.email.eq_ignore_ascii_case(email)) else {
            return false;
        };
        ls.sfu.remove(ls.loci[i].id, p.id)
    }

    /// [`Sandbox::set_roap_via_mercury`].
    pub(crate) fn set_roap_via_mercury(&self, on: bool) {
        lock(&self.locus).roap_via_mercury = on;
    }
}
