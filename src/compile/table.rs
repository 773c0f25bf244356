//! The compiled rule table: one row per (rule, action, role) as in Cerbos's rule table,
//! plus what evaluation needs beside rows (derived roles, parent roles, scope permissions).
use crate::cel::CompiledExpr;
use crate::glob::Pattern;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::HashMap;
use std::sync::Arc;

pub use crate::policy::Effect;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    Principal,
    Resource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopePermissions {
    Unspecified,
    OverrideParent,
    RequireParentalConsentForAllows,
}

/// A compiled `match` tree.
#[derive(Debug, Clone)]
pub enum Cond {
    Expr(Arc<CompiledExpr>),
    All(Vec<Cond>),
    Any(Vec<Cond>),
    None(Vec<Cond>),
}

/// Constants and the used variables (in evaluation order) of one policy or derived role.
#[derive(Debug)]
pub struct Params {
    /// Identity for the per-request variable cache.
    pub key: usize,
    pub constants: crate::cel::Vars,
    pub variables: Vec<(String, Arc<CompiledExpr>)>,
}

#[derive(Debug, Default)]
pub struct OutputExprs {
    pub rule_activated: Option<Arc<CompiledExpr>>,
    pub condition_not_met: Option<Arc<CompiledExpr>>,
}

impl OutputExprs {
    /// Role-policy allows become synthetic denies with swapped outputs.
    pub fn swapped(&self) -> OutputExprs {
        OutputExprs { rule_activated: self.condition_not_met.clone(), condition_not_met: self.rule_activated.clone() }
    }
}

/// Identity and source of a compiled policy.
#[derive(Debug)]
pub struct PolicyMeta {
    pub fqn: String,
    /// The FQN without `cerbos.`, as reported in decisions.
    pub key: String,
    pub file: String,
}

#[derive(Debug)]
pub struct Row {
    pub kind: PolicyKind,
    pub origin: usize,
    pub version: String,
    pub scope: String,
    pub resource: Pattern,
    pub role: Pattern,
    /// The action of an ordinary row; role-policy rows carry `allow_actions` instead.
    pub action: Option<Pattern>,
    pub allow_actions: Vec<Pattern>,
    pub principal: Option<String>,
    pub condition: Option<Arc<Cond>>,
    pub derived_role_condition: Option<Arc<Cond>>,
    pub origin_derived_role: Option<String>,
    /// None for the stub row of a policy without rules.
    pub effect: Option<Effect>,
    pub scope_permissions: ScopePermissions,
    pub output: Option<Arc<OutputExprs>>,
    pub name: String,
    pub params: Option<Arc<Params>>,
    pub derived_role_params: Option<Arc<Params>>,
    /// Rows of one rule share a key so a condition is evaluated once per request.
    pub eval_key: usize,
    pub from_role_policy: bool,
}

impl Row {
    /// A row of a policy with no rule data yet: matches nothing until resource, role and action are set
    /// (as is, it is the stub that makes a rule-less policy exist in its scope).
    pub fn of_policy(
        kind: PolicyKind,
        origin: usize,
        version: &str,
        scope: &str,
        scope_permissions: ScopePermissions,
        params: Option<Arc<Params>>,
        eval_key: usize,
    ) -> Row {
        Row {
            kind,
            origin,
            version: version.to_string(),
            scope: scope.to_string(),
            resource: Pattern::Literal(String::new()),
            role: Pattern::Any,
            action: None,
            allow_actions: vec![],
            principal: None,
            condition: None,
            derived_role_condition: None,
            origin_derived_role: None,
            effect: None,
            scope_permissions,
            output: None,
            name: String::new(),
            params,
            derived_role_params: None,
            eval_key,
            from_role_policy: false,
        }
    }
}

/// A derived role as imported by one resource policy.
#[derive(Debug)]
pub struct DerivedRoleDef {
    pub name: String,
    pub parent_roles: Vec<String>,
    pub condition: Option<Arc<Cond>>,
    pub params: Arc<Params>,
}

#[derive(Debug, Clone, Default)]
pub struct PolicySchemas {
    pub principal: Option<crate::schema::SchemaRefSpec>,
    pub resource: Option<crate::schema::SchemaRefSpec>,
}

/// Numbers for the versions and scopes that policies name, assigned at load, so that the
/// index is probed with integers: a check looks each of its (version, scope) pairs up once.
#[derive(Debug, Default)]
pub struct Interner {
    ids: FxHashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    pub(crate) fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(s.to_string(), id);
        self.names.push(s.to_string());
        id
    }

    pub fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }

    pub fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }
}

/// An interned (version, scope) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScopeKey {
    version: u32,
    scope: u32,
}

impl ScopeKey {
    pub fn new(version: u32, scope: u32) -> ScopeKey {
        ScopeKey { version, scope }
    }
}

/// A map keyed by (version, scope), probed with the pair's [`ScopeKey`].
#[derive(Debug)]
pub struct Scoped<T>(FxHashMap<ScopeKey, T>);

impl<T> Default for Scoped<T> {
    fn default() -> Self {
        Scoped(FxHashMap::default())
    }
}

impl<T: Default> Scoped<T> {
    pub fn entry(&mut self, key: ScopeKey) -> &mut T {
        self.0.entry(key).or_default()
    }
}

impl<T> Scoped<T> {
    pub fn get(&self, key: ScopeKey) -> Option<&T> {
        self.0.get(&key)
    }
}

/// Rows of one (policy kind, version, scope), split so a lookup by resource kind is a hash probe.
#[derive(Debug, Default)]
pub struct Bucket {
    pub by_resource: FxHashMap<String, Vec<u32>>,
    /// Rows whose resource is a wildcard, in row order.
    pub wildcard_resource: Vec<u32>,
}

#[derive(Default)]
pub struct RuleTable {
    pub rows: Vec<Row>,
    /// The numbering behind [`ScopeKey`]s.
    pub versions: Interner,
    pub scopes: Interner,
    pub meta: Vec<PolicyMeta>,
    /// Interned scopes that have principal / resource policies.
    pub principal_scopes: FxHashSet<u32>,
    pub resource_scopes: FxHashSet<u32>,
    pub scope_permissions: FxHashMap<String, ScopePermissions>,
    /// (version, scope) -> sanitized resource kind -> the derived roles its policy's rules reference.
    pub derived_roles: Scoped<FxHashMap<String, Vec<Arc<DerivedRoleDef>>>>,
    /// scope -> role -> every ancestor role through role policies.
    pub parent_roles: FxHashMap<String, HashMap<String, Vec<String>>>,
    /// Keyed by resource-policy FQN.
    pub schemas: HashMap<String, PolicySchemas>,
    /// Principal-policy rows, then resource-policy rows, by (version, scope).
    pub principal_buckets: Scoped<Bucket>,
    pub resource_buckets: Scoped<Bucket>,
    /// (version, scope) -> role-policy rows (their resource is matched per query).
    pub role_policy_rows: Scoped<Vec<u32>>,
    pub eval_key_count: usize,
    /// The `_schemas` of the policy directory this table was compiled from.
    pub schema_store: crate::schema::SchemaStore,
}

impl std::fmt::Debug for RuleTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleTable").field("rows", &self.rows.len()).field("policies", &self.meta.len()).finish_non_exhaustive()
    }
}

impl RuleTable {
    /// The key of a (version, scope) pair, numbering it if it is new (at load only).
    pub(crate) fn intern_scope_key(&mut self, version: &str, scope: &str) -> ScopeKey {
        ScopeKey { version: self.versions.intern(version), scope: self.scopes.intern(scope) }
    }

    /// The key of a (version, scope) pair; None when no policy names that version or scope,
    /// in which case nothing is indexed under it.
    pub fn scope_key(&self, version: &str, scope: &str) -> Option<ScopeKey> {
        Some(ScopeKey { version: self.versions.get(version)?, scope: self.scopes.get(scope)? })
    }

    pub(crate) fn index(&mut self) {
        let RuleTable { rows, versions, scopes, role_policy_rows, principal_buckets, resource_buckets, .. } = self;
        for (i, row) in rows.iter().enumerate() {
            let key = ScopeKey { version: versions.intern(&row.version), scope: scopes.intern(&row.scope) };
            let i = i as u32;
            if row.from_role_policy {
                role_policy_rows.entry(key).push(i);
                continue;
            }
            let bucket = match row.kind {
                PolicyKind::Principal => principal_buckets.entry(key),
                PolicyKind::Resource => resource_buckets.entry(key),
            };
            match row.resource.literal() {
                Some(r) => bucket.by_resource.entry(r.to_string()).or_default().push(i),
                None if row.resource.as_str().is_empty() => bucket.by_resource.entry(String::new()).or_default().push(i),
                None => bucket.wildcard_resource.push(i),
            }
        }
    }

    /// Rows of a kind in (version, scope) whose resource matches, in row order.
    pub fn candidate_rows(&self, kind: PolicyKind, key: ScopeKey, resource: &str, out: &mut Vec<u32>) {
        out.clear();
        let Some(bucket) = self.bucket(kind, key) else { return };
        let lit = bucket.by_resource.get(resource).map(|v| v.as_slice()).unwrap_or(&[]);
        if bucket.wildcard_resource.is_empty() {
            out.extend_from_slice(lit);
            return;
        }
        let globs = bucket.wildcard_resource.iter().copied().filter(|&i| self.rows[i as usize].resource.matches(resource));
        // Merge the two sorted id lists to keep row order.
        let mut a = lit.iter().copied().peekable();
        let mut b = globs.peekable();
        loop {
            match (a.peek(), b.peek()) {
                (Some(&x), Some(&y)) => {
                    if x < y {
                        out.push(x);
                        a.next();
                    } else {
                        out.push(y);
                        b.next();
                    }
                }
                (Some(_), None) => {
                    out.extend(a);
                    break;
                }
                (None, Some(_)) => {
                    out.extend(b);
                    break;
                }
                (None, None) => break,
            }
        }
    }

    fn bucket(&self, kind: PolicyKind, key: ScopeKey) -> Option<&Bucket> {
        match kind {
            PolicyKind::Principal => self.principal_buckets.get(key),
            PolicyKind::Resource => self.resource_buckets.get(key),
        }
    }

    /// Whether any row of a kind in (version, scope) applies to `resource` (no allocation).
    pub fn has_rows_for(&self, kind: PolicyKind, key: ScopeKey, resource: &str) -> bool {
        let Some(bucket) = self.bucket(kind, key) else { return false };
        bucket.by_resource.get(resource).is_some_and(|v| !v.is_empty())
            || bucket.wildcard_resource.iter().any(|&i| self.rows[i as usize].resource.matches(resource))
    }

    pub fn bucket_exists(&self, kind: PolicyKind, key: ScopeKey) -> bool {
        self.bucket(kind, key).is_some()
    }

    /// Roles plus their role-policy ancestors for the given scope (Cerbos's `AddParentRoles`).
    /// Borrows the roles as they are when no role policy adds parents (the common case).
    pub fn add_parent_roles<'a>(&self, scope: &str, roles: &'a [String]) -> std::borrow::Cow<'a, [String]> {
        let Some(by_role) = self.parent_roles.get(scope) else { return std::borrow::Cow::Borrowed(roles) };
        if !roles.iter().any(|r| by_role.contains_key(r)) {
            return std::borrow::Cow::Borrowed(roles);
        }
        let mut out: Vec<String> = roles.to_vec();
        for r in roles {
            if let Some(parents) = by_role.get(r) {
                out.extend(parents.iter().cloned());
            }
        }
        std::borrow::Cow::Owned(out)
    }
}
