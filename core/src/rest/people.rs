//! People: `/people` (protocol.md §1.8, OpenAPI webex-messaging "People").

use super::{Extra, NoParams};
use crate::boundary::operation::{Operation, call, call_id, list};
use crate::error::{Error, Result};
use crate::http::{Http, Pages};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_with::skip_serializing_none;

/// The most ids one `people.list` call accepts.
const MAX_IDS: usize = 85;

crate::wire_enum!(
    /// A person's presence.
    PersonStatus {
        /// Active within the last 10 minutes.
        Active = "active",
        /// In a call.
        Call = "call",
        /// Do not disturb.
        DoNotDisturb = "DoNotDisturb",
        /// Last active more than 10 minutes ago.
        Inactive = "inactive",
        /// In a meeting.
        Meeting = "meeting",
        /// Out of office.
        OutOfOffice = "OutOfOffice",
        /// Never logged in.
        Pending = "pending",
        /// Sharing content.
        Presenting = "presenting",
        /// Unknown.
        Unknown = "unknown",
    }
);

crate::wire_enum!(
    /// The kind of account.
    PersonType {
        /// A person.
        Person = "person",
        /// A bot.
        Bot = "bot",
        /// A guest (app user).
        Appuser = "appuser",
    }
);

crate::wire_enum!(
    /// The kind of phone number.
    PhoneNumberType {
        /// Work number.
        Work = "work",
        /// Work extension.
        WorkExtension = "work_extension",
        /// Mobile number.
        Mobile = "mobile",
        /// Fax number.
        Fax = "fax",
    }
);

crate::wire_enum!(
    /// The kind of SIP address.
    SipAddressType {
        /// Personal room address.
        PersonalRoom = "personal-room",
        /// Enterprise address.
        Enterprise = "enterprise",
        /// Cloud calling address.
        CloudCalling = "cloud-calling",
    }
);

/// A phone number of a person.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PhoneNumber {
    /// `work`, `work_extension`, `mobile` or `fax`.
    #[serde(rename = "type")]
    pub number_type: Option<PhoneNumberType>,
    /// The number.
    pub value: Option<String>,
    /// Whether it is the primary number.
    pub primary: Option<bool>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A SIP address of a person.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SipAddress {
    /// `personal-room`, `enterprise` or `cloud-calling`.
    #[serde(rename = "type")]
    pub address_type: Option<SipAddressType>,
    /// The address.
    pub value: Option<String>,
    /// Whether it is the primary address.
    pub primary: Option<bool>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A postal address of a person.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// The kind of address, e.g. `work`.
    #[serde(rename = "type")]
    pub address_type: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// Locality (often the city).
    pub locality: Option<String>,
    /// Region (often the state).
    pub region: Option<String>,
    /// Street.
    pub street_address: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A person (user, bot or guest).
#[skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    /// Person id.
    pub id: String,
    /// Email addresses.
    pub emails: Option<Vec<String>>,
    /// Phone numbers.
    pub phone_numbers: Option<Vec<PhoneNumber>>,
    /// Webex Calling extension.
    pub extension: Option<String>,
    /// Webex Calling location id.
    pub location_id: Option<String>,
    /// Full name.
    pub display_name: Option<String>,
    /// Nickname.
    pub nick_name: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Avatar URL.
    pub avatar: Option<String>,
    /// Org id.
    pub org_id: Option<String>,
    /// Admin role ids.
    pub roles: Option<Vec<String>>,
    /// License ids.
    pub licenses: Option<Vec<String>>,
    /// Department.
    pub department: Option<String>,
    /// Manager (free text).
    pub manager: Option<String>,
    /// Manager's person id.
    pub manager_id: Option<String>,
    /// Job title.
    pub title: Option<String>,
    /// Postal addresses.
    pub addresses: Option<Vec<Address>>,
    /// When the person was created.
    pub created: Option<String>,
    /// When the person was last changed.
    pub last_modified: Option<String>,
    /// Time zone.
    pub timezone: Option<String>,
    /// When the person was last active.
    pub last_activity: Option<String>,
    /// Webex sites where the person has a role.
    pub site_urls: Option<Vec<String>>,
    /// SIP addresses.
    pub sip_addresses: Option<Vec<SipAddress>>,
    /// XMPP federation id.
    pub xmpp_federation_jid: Option<String>,
    /// Presence.
    pub status: Option<PersonStatus>,
    /// Whether account activation is pending (sent as a boolean or as `"true"`/`"false"`).
    #[serde(default, deserialize_with = "loose_bool")]
    pub invite_pending: Option<bool>,
    /// Whether the person may use Webex (sent as a boolean or as `"true"`/`"false"`).
    #[serde(default, deserialize_with = "loose_bool")]
    pub login_enabled: Option<bool>,
    /// `person`, `bot` or `appuser`.
    #[serde(rename = "type")]
    pub person_type: Option<PersonType>,
    /// Members the cloud sends that this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A boolean the cloud sends either as JSON `true`/`false` or as the strings `"true"`/`"false"`
/// (the OpenAPI documents strings); anything else reads as absent rather than failing the person.
fn loose_bool<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<bool>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => Some(b),
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    })
}

/// Parameters of `people.list`.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListPeople {
    /// Exact email address.
    pub email: Option<String>,
    /// Display name prefix.
    pub display_name: Option<String>,
    /// Person ids (at most 85; sent comma-joined).
    pub id: Option<Vec<String>>,
    /// Org id (admins).
    pub org_id: Option<String>,
    /// Comma-separated admin role ids (admins).
    pub roles: Option<String>,
    /// Include Webex Calling data (admins).
    pub calling_data: Option<bool>,
    /// Webex Calling location id (admins).
    pub location_id: Option<String>,
    /// Leave out presence status (faster).
    pub exclude_status: Option<bool>,
    /// Page size.
    pub max: Option<u32>,
}

/// The people API.
#[derive(Clone)]
pub struct People {
    pub(crate) http: Http,
}

impl People {
    /// The caller.
    pub async fn me(&self) -> Result<Person> {
        let url = format!("{}/me", super::hydra(&self.http, "people")?);
        self.http.send_json(crate::http::HttpRequest::get(url)).await
    }

    /// Get a person.
    pub async fn get(&self, person_id: &str) -> Result<Person> {
        super::get(&self.http, "people", "personId", person_id).await
    }

    /// List people, lazily across pages (`notFoundIds` of an id lookup are not reported).
    pub fn list(&self, params: &ListPeople) -> Result<Pages<Person>> {
        check_ids(params)?;
        super::list(&self.http, "people", params)
    }
}

/// At most 85 ids, each one non-empty id (they are sent comma-joined).
fn check_ids(params: &ListPeople) -> Result<()> {
    let Some(ids) = &params.id else { return Ok(()) };
    if ids.len() > MAX_IDS {
        return Err(Error::invalid(format!(
            "people.list: `id` has {} entries but the cloud accepts at most {MAX_IDS}; split the lookup",
            ids.len()
        )));
    }
    if ids.iter().any(|i| i.trim().is_empty() || i.contains(',')) {
        return Err(Error::invalid("people.list: every `id` entry must be one non-empty person id (no commas)"));
    }
    Ok(())
}

/// The people rows of the operation table.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        call("people.me", "The caller.", |c, _: NoParams| async move { c.people().me().await }),
        call_id(
            "people.get",
            "personId",
            "Get a person.",
            |c, id, _: NoParams| async move { c.people().get(&id).await },
        ),
        list("people.list", "List people (by email, display name or ids).", |c, p: ListPeople| c.people().list(&p)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_keeps_unknowns() {
        let p: Person = serde_json::from_value(serde_json::json!({
            "id": "Y2lzY29zcGFyazovL3VzL1BFT1BMRS8w",
            "emails": ["john.andersen@example.com"],
            "phoneNumbers": [{"type": "work", "value": "+1 408 526 7209", "primary": true},
                             {"type": "pager", "value": "1"}],
            "displayName": "John Andersen",
            "nickName": "John",
            "firstName": "John",
            "lastName": "Andersen",
            "avatar": "https://example.com/a.png",
            "orgId": "o1",
            "roles": ["r1"],
            "licenses": ["l1"],
            "addresses": [{"type": "work", "country": "US", "locality": "Milpitas", "zone": "x"}],
            "created": "2015-10-18T14:26:16.000Z",
            "lastModified": "2015-10-18T14:26:16.000Z",
            "timezone": "America/Denver",
            "lastActivity": "2015-10-18T14:26:16.028Z",
            "siteUrls": ["site1-example.webex.com#attendee"],
            "sipAddresses": [{"type": "personal-room", "value": "a@x.webex.com", "primary": false}],
            "status": "busy",
            "invitePending": "false",
            "loginEnabled": true,
            "type": "person",
            "pronouns": {"value": "they/them"}
        }))
        .unwrap();
        assert_eq!(p.status, Some(PersonStatus::Other("busy".into())));
        assert_eq!(p.person_type, Some(PersonType::Person));
        assert_eq!(p.invite_pending, Some(false));
        assert_eq!(p.login_enabled, Some(true));
        let phones = p.phone_numbers.as_ref().unwrap();
        assert_eq!(phones[0].number_type, Some(PhoneNumberType::Work));
        assert_eq!(phones[1].number_type, Some(PhoneNumberType::Other("pager".into())));
        assert_eq!(p.addresses.as_ref().unwrap()[0].extra["zone"], "x");
        assert_eq!(p.sip_addresses.as_ref().unwrap()[0].address_type, Some(SipAddressType::PersonalRoom));
        assert_eq!(p.extra["pronouns"]["value"], "they/them");
        let back = serde_json::to_value(&p).unwrap();
        assert_eq!(back["status"], "busy");
        assert_eq!(back["invitePending"], false);
    }

    #[test]
    fn loose_bools_never_fail_the_person() {
        let p: Person = serde_json::from_value(serde_json::json!({"id": "x", "invitePending": "maybe"})).unwrap();
        assert_eq!(p.invite_pending, None);
        let p: Person = serde_json::from_value(serde_json::json!({"id": "x"})).unwrap();
        assert_eq!(p.login_enabled, None);
    }

    #[test]
    fn ids_are_a_list() {
        let p: ListPeople = serde_json::from_value(serde_json::json!({"id": ["a", "b"], "max": 2})).unwrap();
        assert_eq!(p.id.as_deref(), Some(&["a".to_owned(), "b".to_owned()][..]));
        assert!(serde_json::from_value::<ListPeople>(serde_json::json!({"ids": ["a"]})).is_err());
        check_ids(&p).unwrap();
        let many = ListPeople { id: Some((0..86).map(|i| i.to_string()).collect()), ..Default::default() };
        let err = check_ids(&many).unwrap_err();
        assert!(err.message.contains("at most 85"), "{}", err.message);
        let blank = ListPeople { id: Some(vec!["a,b".into()]), ..Default::default() };
        assert!(check_ids(&blank).is_err());
    }
}
