//! The configuration engine: validated reads and writes of configuration
//! instances over the store, the identity rules of Lync (one instance per
//! scope, Global cannot be created or deleted), and the change log. One
//! engine per session; sessions share the store file.

use std::cell::{Cell, RefCell};
use std::path::Path;

use super::identity::Scope;
use super::schema::{Family, schema};
use super::store::{Change, Store, StoreError, StoredObject};
use super::values::defaults;

pub struct Engine {
    store: RefCell<Store>,
    /// Who changes are logged as: the local user or the SSH account.
    pub account: String,
    /// The role-membership counter when the session last read its roles.
    roles_seen: Cell<Option<i64>>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Rule(String),
}

type R<T> = Result<T, EngineError>;

impl Engine {
    /// Opens the store, creating it with the fresh-install defaults when new.
    pub fn open(path: &Path, account: &str) -> R<Engine> {
        let (store, created) = Store::open(path)?;
        let engine = Engine {
            store: RefCell::new(store),
            account: account.to_string(),
            roles_seen: Cell::new(None),
        };
        if created {
            engine.seed()?;
        }
        Ok(engine)
    }

    /// Fresh install: the global instance of each family with its defaults.
    fn seed(&self) -> R<()> {
        let mut st = self.store.borrow_mut();
        for f in &schema().families {
            if f.has_scope("global") {
                let obj = StoredObject {
                    identity: "Global".into(),
                    data: defaults(f),
                };
                st.put_object(&f.noun, "global", &obj)?;
            }
        }
        st.commit()?;
        Ok(())
    }

    pub fn path(&self) -> std::path::PathBuf {
        self.store.borrow().path().to_path_buf()
    }

    /// Ends the current top-level statement: its changes become durable.
    pub fn end_statement(&self) -> R<()> {
        Ok(self.store.borrow_mut().commit()?)
    }

    pub fn rollback(&self) {
        self.store.borrow_mut().rollback();
    }

    /// Runs `f` on the store inside the statement's transaction: a
    /// snapshot to read, upgraded to the write lock by the first write.
    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> Result<T, StoreError>) -> R<T> {
        let mut st = self.store.borrow_mut();
        st.begin_read()?;
        Ok(f(&mut st)?)
    }

    /// The statement is about to run a cmdlet that writes: it takes the
    /// write lock now, before its reads, so that a read-then-write
    /// statement (`Set-… ((Get-…).X + 1)`) waits for other writers instead
    /// of failing on a snapshot they made stale.
    pub fn expect_write(&self) -> R<()> {
        Ok(self.store.borrow_mut().begin_write()?)
    }

    /// Starts the statement's snapshot: reads never take the write lock.
    fn lock(&self) -> R<()> {
        Ok(self.store.borrow_mut().begin_read()?)
    }

    /// Runs `f` on the store in the statement's snapshot, for the checks
    /// made before the statement runs: they start the snapshot the
    /// statement goes on reading, but bind none of its writes.
    pub fn with_checks<T>(&self, f: impl FnOnce(&mut Store) -> Result<T, StoreError>) -> R<T> {
        let mut st = self.store.borrow_mut();
        st.begin_checks()?;
        Ok(f(&mut st)?)
    }

    /// Has role membership changed since the last call? A store that
    /// cannot say always has. One indexed read, in the snapshot of the
    /// statement about to run ([`Engine::with_checks`]).
    pub fn roles_changed(&self) -> R<bool> {
        let now = self.with_checks(|s| s.roles_version())?;
        let before = self.roles_seen.replace(now);
        Ok(now.is_none() || now != before)
    }

    // ------------------------------------------------------------ instances

    /// Every instance of a family, Global first, then in creation order.
    pub fn list(&self, family: &Family) -> R<Vec<StoredObject>> {
        self.lock()?;
        Ok(self.store.borrow().objects(&family.noun)?)
    }

    pub fn get(&self, family: &Family, scope: &Scope) -> R<Option<StoredObject>> {
        self.lock()?;
        Ok(self.store.borrow().object(&family.noun, &scope.key())?)
    }

    /// Creates an instance; refuses Global and existing identities.
    pub fn create(
        &self,
        family: &Family,
        scope: &Scope,
        data: serde_json::Map<String, serde_json::Value>,
        command: &str,
    ) -> R<StoredObject> {
        if *scope == Scope::Global {
            return Err(EngineError::Rule(format!(
                "The Global {noun} exists from installation and cannot be created again; change it with Set-{verbless}.",
                noun = family.noun,
                verbless = family.noun
            )));
        }
        if self.get(family, scope)?.is_some() {
            return Err(EngineError::Rule(format!(
                "A {} with the identity \"{}\" already exists.",
                family.noun,
                scope.display()
            )));
        }
        if family.is_domain_list() {
            self.check_domain_lists(scope)?;
        }
        let mut full = defaults(family);
        let mut given = vec!["created".to_string()];
        for (k, v) in data {
            given.push(format!("{k}={}", show(&v)));
            full.insert(k, v);
        }
        if family.is_domain_list() {
            full.insert("Domain".into(), serde_json::Value::String(scope.display()));
        }
        let obj = StoredObject {
            identity: scope.display(),
            data: full,
        };
        let mut st = self.store.borrow_mut();
        st.put_object(&family.noun, &scope.key(), &obj)?;
        st.log(
            &self.account,
            command,
            &format!("{}:{}", family.noun, scope.display()),
            &given.join("; "),
        )?;
        Ok(obj)
    }

    /// A domain may be on the allowed or the blocked list, never both.
    fn check_domain_lists(&self, scope: &Scope) -> R<()> {
        for noun in ["CsAllowedDomain", "CsBlockedDomain"] {
            if let Some(f) = schema().family(noun)
                && self.get(f, scope)?.is_some()
            {
                let list = if noun == "CsAllowedDomain" {
                    "allowed"
                } else {
                    "blocked"
                };
                return Err(EngineError::Rule(format!(
                    "The domain \"{}\" is already on the {list} domain list; a domain can be on only one of the two lists.",
                    scope.display()
                )));
            }
        }
        Ok(())
    }

    /// Changes properties of an existing instance.
    pub fn update(
        &self,
        family: &Family,
        scope: &Scope,
        changes: &serde_json::Map<String, serde_json::Value>,
        command: &str,
    ) -> R<()> {
        let Some(mut obj) = self.get(family, scope)? else {
            return Err(not_found(family, scope));
        };
        let mut detail = Vec::new();
        for (k, v) in changes {
            if obj.data.get(k) != Some(v) {
                let before = obj.data.get(k).map_or_else(|| "$null".to_string(), show);
                detail.push(format!("{k}: {before} -> {}", show(v)));
            }
            obj.data.insert(k.clone(), v.clone());
        }
        let mut st = self.store.borrow_mut();
        st.put_object(&family.noun, &scope.key(), &obj)?;
        let detail = if detail.is_empty() {
            "no change".to_string()
        } else {
            detail.join("; ")
        };
        st.log(
            &self.account,
            command,
            &format!("{}:{}", family.noun, scope.display()),
            &detail,
        )?;
        Ok(())
    }

    /// Deletes an instance; on Global, resets it to the defaults instead.
    pub fn remove(&self, family: &Family, scope: &Scope, command: &str) -> R<()> {
        let mut st = self.store.borrow_mut();
        if *scope == Scope::Global {
            let obj = StoredObject {
                identity: "Global".into(),
                data: defaults(family),
            };
            st.put_object(&family.noun, "global", &obj)?;
            st.log(
                &self.account,
                command,
                &format!("{}:Global", family.noun),
                "reset to defaults",
            )?;
            return Ok(());
        }
        if !st.delete_object(&family.noun, &scope.key())? {
            return Err(not_found(family, scope));
        }
        st.log(
            &self.account,
            command,
            &format!("{}:{}", family.noun, scope.display()),
            "removed",
        )?;
        Ok(())
    }

    pub fn changes(&self, last: Option<i64>) -> R<Vec<Change>> {
        self.lock()?;
        Ok(self.store.borrow().changes(last)?)
    }
}

/// A stored value as the change log shows it: True, 42, text, a,b.
fn show(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "$null".into(),
        serde_json::Value::Bool(true) => "True".into(),
        serde_json::Value::Bool(false) => "False".into(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => format!(
            "{{{}}}",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

pub fn not_found(family: &Family, scope: &Scope) -> EngineError {
    EngineError::Rule(format!(
        "Cannot get a {} with the identity \"{}\": no such instance exists.",
        family.noun,
        scope.display()
    ))
}
