//! Variable and function scopes with PowerShell's dynamic scoping.
//!
//! Scopes live in a slab and point at their parent: a function's scope
//! points at the scope it was called from, so a read walks the call chain
//! and a write lands in the current scope (copy-on-write, as PowerShell
//! does). Pipelines of functions each keep their own scope alive between
//! `begin`, `process` and `end`, which a plain stack could not do.

use std::rc::Rc;

use rustc_hash::FxHashMap;

use super::types::PsType;
use super::value::Value;
use crate::syntax::ast::FunctionDef;

#[derive(Clone, Debug)]
pub struct Variable {
    pub name: Rc<str>,
    pub value: Value,
    /// `[int]$x = 1` constrains later assignments to `$x` in this scope.
    pub ty: Option<PsType>,
    pub read_only: bool,
}

#[derive(Debug, Default)]
pub struct Scope {
    pub vars: FxHashMap<Rc<str>, Variable>,
    pub functions: FxHashMap<Rc<str>, Rc<FunctionDef>>,
    pub parent: Option<usize>,
    /// Script scopes answer `$script:`.
    pub is_script: bool,
}

pub const GLOBAL: usize = 0;

#[derive(Debug)]
pub struct Scopes {
    slab: Vec<Option<Scope>>,
    free: Vec<usize>,
    pub cur: usize,
}

impl Default for Scopes {
    fn default() -> Self {
        Scopes::new()
    }
}

impl Scopes {
    pub fn new() -> Scopes {
        Scopes {
            slab: vec![Some(Scope {
                is_script: true,
                ..Scope::default()
            })],
            free: Vec::new(),
            cur: GLOBAL,
        }
    }

    /// Allocates a child of `parent`; the caller makes it current when it
    /// runs code in it and releases it with [`Scopes::release`].
    pub fn alloc(&mut self, parent: usize, is_script: bool) -> usize {
        let scope = Scope {
            parent: Some(parent),
            is_script,
            ..Scope::default()
        };
        match self.free.pop() {
            Some(i) => {
                self.slab[i] = Some(scope);
                i
            }
            None => {
                self.slab.push(Some(scope));
                self.slab.len() - 1
            }
        }
    }

    pub fn release(&mut self, id: usize) {
        if id != GLOBAL && id < self.slab.len() {
            self.slab[id] = None;
            self.free.push(id);
        }
    }

    pub fn get(&self, id: usize) -> Option<&Scope> {
        self.slab.get(id).and_then(|s| s.as_ref())
    }

    pub fn get_mut(&mut self, id: usize) -> Option<&mut Scope> {
        self.slab.get_mut(id).and_then(|s| s.as_mut())
    }

    /// The scope chain from `from` outwards.
    fn chain(&self, from: usize) -> impl Iterator<Item = &Scope> {
        let mut next = Some(from);
        std::iter::from_fn(move || {
            let s = self.get(next?)?;
            next = s.parent;
            Some(s)
        })
    }

    pub fn lookup(&self, key: &str) -> Option<&Variable> {
        self.chain(self.cur).find_map(|s| s.vars.get(key))
    }

    /// Finds the scope that holds a variable, for in-place updates.
    pub fn lookup_scope(&self, key: &str) -> Option<usize> {
        let mut next = Some(self.cur);
        while let Some(id) = next {
            let s = self.get(id)?;
            if s.vars.contains_key(key) {
                return Some(id);
            }
            next = s.parent;
        }
        None
    }

    pub fn script_scope(&self) -> usize {
        let mut next = Some(self.cur);
        while let Some(id) = next {
            match self.get(id) {
                Some(s) if s.is_script => return id,
                Some(s) => next = s.parent,
                None => break,
            }
        }
        GLOBAL
    }

    pub fn function(&self, key: &str) -> Option<Rc<FunctionDef>> {
        self.chain(self.cur)
            .find_map(|s| s.functions.get(key).cloned())
    }

    pub fn all_functions(&self) -> Vec<Rc<FunctionDef>> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for s in self.chain(self.cur) {
            for (k, f) in &s.functions {
                if seen.insert(k.clone()) {
                    out.push(f.clone());
                }
            }
        }
        out
    }

    /// Every visible variable, innermost first wins.
    pub fn visible_vars(&self) -> Vec<Variable> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for s in self.chain(self.cur) {
            for (k, v) in &s.vars {
                if seen.insert(k.clone()) {
                    out.push(v.clone());
                }
            }
        }
        out.sort_by_key(|v| v.name.to_lowercase());
        out
    }
}
