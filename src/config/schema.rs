//! The configuration families as data: nouns, verbs, scopes, properties
//! with their types, defaults, ranges and display order. Adding a family
//! is adding an entry to `schema.json` (made by `tools/gen_schema.py`).

use std::sync::OnceLock;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Schema {
    pub enums: std::collections::BTreeMap<String, Vec<String>>,
    pub families: Vec<Family>,
}

#[derive(Debug, Deserialize)]
pub struct Family {
    pub noun: String,
    pub synopsis: String,
    pub verbs: Vec<String>,
    /// global, site, tag, service, domain.
    pub scopes: Vec<String>,
    /// .NET type names of the objects (the first is the usual one).
    pub type_names: Vec<String>,
    /// For policies assigned with Grant-*: the user property that holds
    /// the policy name.
    pub user_property: Option<String>,
    /// In display order; `shown: false` ones exist but are not displayed.
    pub properties: Vec<PropDef>,
    /// Cmdlets of the family: (verb, name, synopsis), filled in on load so
    /// the registry can borrow them for the life of the process.
    #[serde(skip)]
    pub commands: Vec<(String, String, String)>,
}

#[derive(Debug, Deserialize)]
pub struct PropDef {
    pub name: String,
    /// Identity, Boolean, UInt16, UInt32, Int64, String, TimeSpan,
    /// PSListModifier, or the name of an enum.
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default)]
    pub default: Option<serde_json::Value>,
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub max: Option<i64>,
    #[serde(default = "yes")]
    pub shown: bool,
    #[serde(default)]
    pub read_only: bool,
    pub help: String,
}

fn yes() -> bool {
    true
}

static SCHEMA: OnceLock<Schema> = OnceLock::new();

/// The schema, parsed on first use (not at start-up: most runs never need it).
pub fn schema() -> &'static Schema {
    SCHEMA.get_or_init(|| {
        let mut s: Schema = match serde_json::from_str(include_str!("schema.json")) {
            Ok(s) => s,
            // The file is part of the build; a broken one fails every test.
            Err(e) => panic!("src/config/schema.json is not valid: {e}"),
        };
        for f in &mut s.families {
            let what = f.synopsis.clone();
            f.commands = f
                .verbs
                .iter()
                .map(|v| {
                    let synopsis = match v.as_str() {
                        "Get" => format!("Shows the settings of {what}."),
                        "Set" => format!("Changes the settings of {what}."),
                        "New" => format!("Creates a new instance of the settings of {what}."),
                        "Remove" => format!("Removes an instance of the settings of {what} (Global is reset to its defaults)."),
                        "Grant" => format!("Assigns a per-user policy of {what} to users."),
                        other => format!("{other}s {what}."),
                    };
                    (v.clone(), format!("{v}-{}", f.noun), synopsis)
                })
                .collect();
        }
        s
    })
}

impl Schema {
    pub fn family(&self, noun: &str) -> Option<&Family> {
        self.families
            .iter()
            .find(|f| f.noun.eq_ignore_ascii_case(noun))
    }

    pub fn enum_values(&self, name: &str) -> Option<&[String]> {
        self.enums.get(name).map(|v| v.as_slice())
    }
}

impl Family {
    pub fn has_verb(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v.eq_ignore_ascii_case(verb))
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s.eq_ignore_ascii_case(scope))
    }

    pub fn prop(&self, name: &str) -> Option<&PropDef> {
        self.properties
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// Properties a user can set (`-Name value` on Set and New).
    pub fn settable(&self) -> impl Iterator<Item = &PropDef> {
        self.properties
            .iter()
            .filter(|p| p.ty != "Identity" && !p.read_only && p.name != "Domain")
    }

    /// Domain lists are keyed by the domain name rather than a scope.
    pub fn is_domain_list(&self) -> bool {
        self.has_scope("domain")
    }

    /// The name of this family's cmdlet for a verb.
    pub fn command(&self, verb: &str) -> Option<&str> {
        self.commands
            .iter()
            .find(|(v, _, _)| v.eq_ignore_ascii_case(verb))
            .map(|(_, n, _)| n.as_str())
    }

    pub fn type_name(&self) -> &str {
        self.type_names
            .first()
            .map(String::as_str)
            .unwrap_or("System.Object")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_loads_with_the_families() {
        let s = schema();
        let conf = s.family("CsConferencingPolicy").map(|f| f.properties.len());
        assert_eq!(conf, Some(37));
        assert!(s.family("csaccessedgeconfiguration").is_some());
        assert_eq!(
            s.enum_values("MaxVideoConferenceResolution")
                .map(|v| v.len()),
            Some(2)
        );
    }
}
