//! Identities of configuration instances: `Global`, `site:Redmond`,
//! `service:UserServer:pool01.contoso.com`, per-user `SalesPolicy` (shown
//! `Tag:SalesPolicy`), and domain names for the domain lists.

use super::schema::Family;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Global,
    Site(String),
    /// `service:<role>:<fqdn>`, kept as written after the prefix.
    Service(String),
    /// A per-user policy.
    Tag(String),
    Domain(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdentityError {
    #[error(
        "Wildcard characters are not allowed in -Identity ('{0}'); use -Filter to match several instances."
    )]
    Wildcard(String),
    #[error("'{given}' is not a valid identity for {noun}: use {expected}.")]
    WrongScope {
        given: String,
        noun: String,
        expected: String,
    },
    #[error("The identity is empty.")]
    Empty,
}

impl Scope {
    /// Reads an identity as typed on the command line.
    pub fn parse(family: &Family, text: &str) -> Result<Scope, IdentityError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(IdentityError::Empty);
        }
        if t.contains(['*', '?']) {
            return Err(IdentityError::Wildcard(t.to_string()));
        }
        let wrong = || IdentityError::WrongScope {
            given: t.to_string(),
            noun: family.noun.clone(),
            expected: expected_forms(family),
        };
        if family.is_domain_list() {
            if t.contains(':') || t.contains(' ') {
                return Err(wrong());
            }
            return Ok(Scope::Domain(t.to_string()));
        }
        let scope = match t.split_once(':') {
            None if t.eq_ignore_ascii_case("global") => Scope::Global,
            None => Scope::Tag(t.to_string()),
            Some((prefix, rest)) if !rest.is_empty() => {
                match prefix.to_ascii_lowercase().as_str() {
                    "site" => Scope::Site(rest.to_string()),
                    "tag" => Scope::Tag(rest.to_string()),
                    "service" => Scope::Service(rest.to_string()),
                    _ => return Err(wrong()),
                }
            }
            Some(_) => return Err(wrong()),
        };
        if !family.has_scope(scope.kind()) {
            return Err(wrong());
        }
        Ok(scope)
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Site(_) => "site",
            Scope::Service(_) => "service",
            Scope::Tag(_) => "tag",
            Scope::Domain(_) => "domain",
        }
    }

    /// As Get-* shows it.
    pub fn display(&self) -> String {
        match self {
            Scope::Global => "Global".into(),
            Scope::Site(s) => format!("Site:{s}"),
            Scope::Service(s) => format!("Service:{s}"),
            Scope::Tag(s) => format!("Tag:{s}"),
            Scope::Domain(d) => d.clone(),
        }
    }

    /// The storage key: case-insensitive identities compare equal.
    pub fn key(&self) -> String {
        self.display().to_lowercase()
    }

    /// Recovers the scope from a stored display identity.
    pub fn from_display(family: &Family, display: &str) -> Option<Scope> {
        if family.is_domain_list() {
            return Some(Scope::Domain(display.to_string()));
        }
        match display.split_once(':') {
            None if display.eq_ignore_ascii_case("global") => Some(Scope::Global),
            Some((p, rest)) => match p.to_ascii_lowercase().as_str() {
                "site" => Some(Scope::Site(rest.to_string())),
                "service" => Some(Scope::Service(rest.to_string())),
                "tag" => Some(Scope::Tag(rest.to_string())),
                _ => None,
            },
            None => None,
        }
    }
}

fn expected_forms(family: &Family) -> String {
    let forms: Vec<&str> = family
        .scopes
        .iter()
        .map(|s| match s.as_str() {
            "global" => "Global",
            "site" => "site:<site name>",
            "tag" => "<policy name> (or tag:<policy name>)",
            "service" => "service:UserServer:<pool FQDN>",
            "domain" => "a domain name such as fabrikam.com",
            other => other,
        })
        .collect();
    forms.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::schema::schema;

    fn fam(n: &str) -> &'static Family {
        match schema().family(n) {
            Some(f) => f,
            None => panic!("no family {n}"),
        }
    }

    #[test]
    fn identities_by_family() {
        let conf = fam("CsConferencingPolicy");
        assert_eq!(Scope::parse(conf, "global"), Ok(Scope::Global));
        assert_eq!(
            Scope::parse(conf, "site:Redmond").map(|s| s.display()),
            Ok("Site:Redmond".into())
        );
        assert_eq!(
            Scope::parse(conf, "SalesPolicy").map(|s| s.display()),
            Ok("Tag:SalesPolicy".into())
        );
        assert_eq!(
            Scope::parse(conf, "tag:SalesPolicy"),
            Ok(Scope::Tag("SalesPolicy".into()))
        );
        assert!(matches!(
            Scope::parse(conf, "site:*"),
            Err(IdentityError::Wildcard(_))
        ));
        assert!(matches!(
            Scope::parse(conf, "service:UserServer:a.b"),
            Err(IdentityError::WrongScope { .. })
        ));
        let meet = fam("CsMeetingConfiguration");
        assert!(Scope::parse(meet, "service:UserServer:pool.contoso.com").is_ok());
        assert!(Scope::parse(meet, "Sales").is_err());
        let dom = fam("CsAllowedDomain");
        assert_eq!(
            Scope::parse(dom, "fabrikam.com"),
            Ok(Scope::Domain("fabrikam.com".into()))
        );
    }
}
