//! Mercury `locus.*` events: one full DTO per recipient, each with the recipient's `self`.

use serde_json::{Value, json};
use uuid::Uuid;

use super::LocusStore;
use crate::mercury::Hub;

impl LocusStore {
    /// Publishes `event_type` for locus `i` to every JOINED participant plus `actor` (who may
    /// just have left), on every device of each person. Called with the loci still locked
    /// (lock order locus → mercury) so devices see events in sequence order.
    pub fn publish(&self, hub: &mut Hub, i: usize, event_type: &str, actor: Option<Uuid>) {
        let mut to = self.loci[i].joined_people();
        to.extend(actor);
        self.publish_to(hub, i, event_type, &to);
    }

    /// Publishes `event_type` for locus `i` to exactly these people (each once).
    pub fn publish_to(&self, hub: &mut Hub, i: usize, event_type: &str, people: &[Uuid]) {
        let mut to = people.to_vec();
        to.sort();
        to.dedup();
        let locus_url = self.url(self.loci[i].id);
        for person in to {
            let data = json!({
                "eventType": event_type,
                "locusUrl": locus_url,
                "locus": self.dto(i, Some(person)),
            });
            hub.publish(&[person], &data.to_string(), 1);
        }
    }

    /// Delivers a ROAP message for locus `i` to `person` over Mercury (protocol.md §6.3), on
    /// every device of theirs: event `locus.message.roap` with the `correlationId` of the
    /// request it answers. Same envelope as the other `locus.*` events, without a DTO.
    pub fn publish_roap(&self, hub: &mut Hub, i: usize, person: Uuid, correlation_id: Option<&str>, message: Value) {
        let data = json!({
            "eventType": "locus.message.roap",
            "locusUrl": self.url(self.loci[i].id),
            "correlationId": correlation_id,
            "message": message,
        });
        hub.publish(&[person], &data.to_string(), 1);
    }
}
