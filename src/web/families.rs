//! The configuration pages of the Control Panel: which family each shows,
//! under which heading of the left navigation, and the labels Lync's
//! Control Panel gives the settings (properties without one show their
//! shell name, which is what the shell command uses too).

use crate::config::schema::{Family, PropDef, schema};

/// One page of settings over a configuration family.
pub struct Page {
    /// The URL segment: `/p/<slug>`.
    pub slug: &'static str,
    pub title: &'static str,
    /// The heading of the left navigation it sits under.
    pub group: &'static str,
    pub noun: &'static str,
    /// The scopes "New" offers: (label, identity prefix, empty for a
    /// per-user policy, which is named bare).
    pub new_scopes: &'static [(&'static str, &'static str)],
}

pub const PAGES: &[Page] = &[
    Page {
        slug: "access-edge",
        title: "Access Edge Configuration",
        group: "External User Access",
        noun: "CsAccessEdgeConfiguration",
        new_scopes: &[],
    },
    Page {
        slug: "external-access-policy",
        title: "External Access Policy",
        group: "External User Access",
        noun: "CsExternalAccessPolicy",
        new_scopes: &[("User policy", ""), ("Site policy", "site:")],
    },
    Page {
        slug: "conferencing-policy",
        title: "Conferencing Policy",
        group: "Conferencing",
        noun: "CsConferencingPolicy",
        new_scopes: &[("User policy", ""), ("Site policy", "site:")],
    },
    Page {
        slug: "meeting-configuration",
        title: "Meeting Configuration",
        group: "Conferencing",
        noun: "CsMeetingConfiguration",
        new_scopes: &[("Site configuration", "site:")],
    },
];

pub fn page(slug: &str) -> Option<&'static Page> {
    PAGES.iter().find(|p| p.slug == slug)
}

impl Page {
    pub fn family(&self) -> Option<&'static Family> {
        schema().family(self.noun)
    }
}

/// Labels from Lync Server 2013 Control Panel, by family and property.
const LABELS: &[(&str, &str, &str)] = &[
    (
        "CsAccessEdgeConfiguration",
        "AllowFederatedUsers",
        "Enable communications with federated users",
    ),
    (
        "CsAccessEdgeConfiguration",
        "AllowOutsideUsers",
        "Enable communications with remote users",
    ),
    (
        "CsAccessEdgeConfiguration",
        "AllowAnonymousUsers",
        "Enable communications with anonymous users",
    ),
    (
        "CsAccessEdgeConfiguration",
        "EnableArchivingDisclaimer",
        "Send archiving disclaimer to federated partners",
    ),
    ("CsConferencingPolicy", "Description", "Description"),
    (
        "CsConferencingPolicy",
        "MaxMeetingSize",
        "Maximum meeting size",
    ),
    (
        "CsConferencingPolicy",
        "AllowAnonymousParticipantsInMeetings",
        "Allow participants to invite anonymous users",
    ),
    (
        "CsConferencingPolicy",
        "AllowConferenceRecording",
        "Enable recording of conferences",
    ),
    ("CsConferencingPolicy", "AllowIPAudio", "Enable IP audio"),
    ("CsConferencingPolicy", "AllowIPVideo", "Enable IP video"),
    (
        "CsConferencingPolicy",
        "EnableDialInConferencing",
        "Enable PSTN dial-in conferencing",
    ),
    (
        "CsConferencingPolicy",
        "AllowAnonymousUsersToDialOut",
        "Allow anonymous participants to dial out",
    ),
    ("CsExternalAccessPolicy", "Description", "Description"),
    (
        "CsExternalAccessPolicy",
        "EnableFederationAccess",
        "Enable communications with federated users",
    ),
    (
        "CsExternalAccessPolicy",
        "EnableXmppAccess",
        "Enable communications with XMPP federated users",
    ),
    (
        "CsExternalAccessPolicy",
        "EnableOutsideAccess",
        "Enable communications with remote users",
    ),
    (
        "CsExternalAccessPolicy",
        "EnablePublicCloudAccess",
        "Enable communications with public users",
    ),
    (
        "CsMeetingConfiguration",
        "AdmitAnonymousUsersByDefault",
        "Anonymous users can join meetings by default",
    ),
    (
        "CsMeetingConfiguration",
        "PstnCallersBypassLobby",
        "PSTN callers bypass lobby",
    ),
    (
        "CsMeetingConfiguration",
        "DesignateAsPresenter",
        "Designate as presenter",
    ),
];

/// The Control Panel's label of a property, if it has one.
pub fn label(noun: &str, property: &str) -> Option<&'static str> {
    LABELS
        .iter()
        .find(|(n, p, _)| *n == noun && *p == property)
        .map(|(_, _, l)| *l)
}

/// The properties an edit form offers, labelled ones first (in the order
/// above), then the rest in the schema's order. Lists and the Access Edge
/// routing settings (set through their own switches) are shell-only.
pub fn form_properties(f: &'static Family) -> Vec<&'static PropDef> {
    let editable = |p: &&PropDef| {
        p.ty != "PSListModifier"
            && !(f.noun == "CsAccessEdgeConfiguration"
                && matches!(
                    p.name.as_str(),
                    "RoutingMethod"
                        | "DefaultRouteFqdn"
                        | "IsPublicProvider"
                        | "VerificationLevel"
                        | "EnablePartnerDiscovery"
                        | "BeClearingHouse"
                        | "DiscoveredPartnerVerificationLevel"
                ))
    };
    let mut out: Vec<&PropDef> = LABELS
        .iter()
        .filter(|(n, _, _)| *n == f.noun)
        .filter_map(|(_, p, _)| f.prop(p))
        .filter(|p| !p.read_only)
        .collect();
    for p in f.settable().filter(editable) {
        if !out.iter().any(|o| o.name == p.name) {
            out.push(p);
        }
    }
    out
}

/// Is this property one of the labelled, main settings?
pub fn is_main(noun: &str, property: &str) -> bool {
    label(noun, property).is_some()
}
