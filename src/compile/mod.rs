//! Policies to a rule table: every condition compiled once, every reference checked,
//! rows laid out as Cerbos's rule table lays them out.
pub mod params;
pub mod table;

use crate::glob::Pattern;
use crate::naming::{policy_key, principal_policy_fqn, resource_policy_fqn, role_policy_fqn, sanitize, scope_parents, DEFAULT_VERSION};
use crate::policy::model::{self, Condition, Match, Output};
use crate::policy::parse::pos;
use crate::policy::{PolicyErrors, Problem, SourcePolicy};
use params::{compile_expr, Exports, ParamScope};
use serde_saphyr::Spanned;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use table::*;

struct DerivedRoleSet {
    file: String,
    definitions: Vec<(String, Arc<DerivedRoleDef>)>,
}

struct Compiler {
    problems: Vec<Problem>,
    table: RuleTable,
    eval_keys: HashMap<String, usize>,
    next_params: usize,
    /// scope -> role -> the parent roles its role policy names.
    direct_parent_roles: HashMap<String, HashMap<String, Vec<String>>>,
}

pub fn compile(policies: Vec<SourcePolicy>, schema_store: crate::schema::SchemaStore) -> Result<RuleTable, PolicyErrors> {
    params::with_compile_cache(|| compile_policies(policies, schema_store))
}

fn compile_policies(policies: Vec<SourcePolicy>, schema_store: crate::schema::SchemaStore) -> Result<RuleTable, PolicyErrors> {
    let table = RuleTable { schema_store, ..Default::default() };
    let mut c = Compiler { problems: Vec::new(), table, eval_keys: HashMap::new(), next_params: 0, direct_parent_roles: HashMap::new() };
    let policies: Vec<SourcePolicy> = policies.into_iter().filter(|p| !p.is_disabled()).collect();
    c.check_duplicates(&policies);

    let mut exports = Exports::default();
    for p in &policies {
        if let Some(ev) = &p.doc.export_variables {
            exports.add_variables(&p.file, &ev.value.name.value, &ev.value.definitions, &mut c.problems);
        }
        if let Some(ec) = &p.doc.export_constants {
            exports.add_constants(&p.file, &ec.value.name.value, &ec.value.definitions, &mut c.problems);
        }
    }

    let mut derived_sets: HashMap<String, DerivedRoleSet> = HashMap::new();
    for p in &policies {
        if let Some(dr) = &p.doc.derived_roles {
            let set = c.compile_derived_roles(p, &dr.value, &exports);
            derived_sets.insert(dr.value.name.value.clone(), set);
        }
    }

    for p in &policies {
        if let Some(rp) = &p.doc.resource_policy {
            c.compile_resource_policy(p, &rp.value, &exports, &derived_sets);
        } else if let Some(pp) = &p.doc.principal_policy {
            c.compile_principal_policy(p, &pp.value, &exports);
        } else if let Some(rp) = &p.doc.role_policy {
            c.compile_role_policy(p, &rp.value, &exports);
        }
    }
    c.check_scope_ancestors(&policies);

    if !c.problems.is_empty() {
        let texts: HashMap<&str, &str> = policies.iter().map(|p| (p.file.as_str(), p.text.as_str())).collect();
        let mut problems = c.problems;
        for p in &mut problems {
            if let Some(t) = texts.get(p.file.as_str()) {
                (p.line, p.column) = crate::policy::parse::node_start(t, (p.line, p.column));
            }
        }
        problems.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        problems.dedup();
        return Err(PolicyErrors(problems));
    }
    c.table.eval_key_count = c.eval_keys.len();
    c.finish_index();
    Ok(c.table)
}

/// One action of a principal-policy rule: (rule name, action pattern, effect, condition, output).
type PrincipalAction = (String, Pattern, Effect, Option<Arc<Cond>>, Option<Arc<OutputExprs>>);

/// The fully qualified name of a policy at a given scope.
type FqnAt<'a> = Box<dyn Fn(&str) -> String + 'a>;

impl Compiler {
    fn eval_key(&mut self, key: String) -> usize {
        let n = self.eval_keys.len();
        *self.eval_keys.entry(key).or_insert(n)
    }

    fn params_key(&mut self) -> usize {
        self.next_params += 1;
        self.next_params
    }

    fn check_duplicates(&mut self, policies: &[SourcePolicy]) {
        let mut seen: HashMap<String, &str> = HashMap::new();
        for p in policies {
            let id = policy_identity(p);
            if let Some(id) = id {
                if let Some(prev) = seen.get(&id) {
                    self.problems.push(Problem::of(
                        "duplicate policy definition",
                        &p.file,
                        (1, 1),
                        format!("Policy `{}` is defined more than once: also in {prev}", policy_key(&id)),
                    ));
                } else {
                    seen.insert(id, &p.file);
                }
            }
        }
    }

    fn compile_condition(
        &mut self,
        file: &str,
        cond: &Option<Spanned<Condition>>,
        scope: &ParamScope,
        exprs: &mut Vec<Arc<crate::cel::CompiledExpr>>,
    ) -> Option<Arc<Cond>> {
        let spanned = cond.as_ref()?;
        let cond = &spanned.value;
        if cond.script.is_some() {
            self.problems.push(Problem::of(
                "scripts in conditions are no longer supported",
                file,
                pos(spanned),
                "Unsupported feature: write the condition as `match` with CEL expressions",
            ));
            return None;
        }
        let m = cond.match_.as_ref()?;
        self.compile_match(file, m, scope, exprs).map(Arc::new)
    }

    fn compile_match(&mut self, file: &str, m: &Spanned<Match>, scope: &ParamScope, exprs: &mut Vec<Arc<crate::cel::CompiledExpr>>) -> Option<Cond> {
        let v = &m.value;
        let n = [v.expr.is_some(), v.all.is_some(), v.any.is_some(), v.none.is_some()].iter().filter(|x| **x).count();
        if n != 1 {
            self.problems.push(Problem::new(file, pos(m), "a `match` must have exactly one of `expr`, `all`, `any` or `none`"));
            return None;
        }
        if let Some(src) = &v.expr {
            let e = compile_expr(file, src, &mut self.problems)?;
            scope.check_refs(&e, pos(src), &mut self.problems);
            exprs.push(e.clone());
            return Some(Cond::Expr(e));
        }
        let (list, make): (&model::MatchList, fn(Vec<Cond>) -> Cond) = if let Some(l) = &v.all {
            (l, Cond::All)
        } else if let Some(l) = &v.any {
            (l, Cond::Any)
        } else {
            (v.none.as_ref().unwrap(), Cond::None)
        };
        if list.of.is_empty() {
            self.problems.push(Problem::new(file, pos(m), "`of` must list at least one condition"));
            return None;
        }
        let mut children = Vec::with_capacity(list.of.len());
        for child in &list.of {
            children.push(self.compile_match(file, child, scope, exprs)?);
        }
        Some(make(children))
    }

    fn compile_output(
        &mut self,
        file: &str,
        out: &Option<Spanned<Output>>,
        scope: &ParamScope,
        exprs: &mut Vec<Arc<crate::cel::CompiledExpr>>,
    ) -> Option<Arc<OutputExprs>> {
        let out = out.as_ref()?;
        let mut compiled = OutputExprs::default();
        let one = |this: &mut Self, src: &Option<Spanned<String>>, exprs: &mut Vec<Arc<crate::cel::CompiledExpr>>| -> Option<Arc<crate::cel::CompiledExpr>> {
            let src = src.as_ref()?;
            let e = compile_expr(file, src, &mut this.problems)?;
            scope.check_refs(&e, pos(src), &mut this.problems);
            exprs.push(e.clone());
            Some(e)
        };
        if let Some(when) = &out.value.when {
            compiled.rule_activated = one(self, &when.rule_activated, exprs);
            compiled.condition_not_met = one(self, &when.condition_not_met, exprs);
        }
        if compiled.rule_activated.is_none() {
            compiled.rule_activated = one(self, &out.value.expr, exprs);
        }
        let declared = out.value.expr.is_some() || out.value.when.as_ref().is_some_and(|w| w.rule_activated.is_some() || w.condition_not_met.is_some());
        if !declared {
            self.problems.push(Problem::of("empty output", file, pos(out), "Output must define `when.ruleActivated`, `when.conditionNotMet` or `expr`"));
            return None;
        }
        Some(Arc::new(compiled))
    }

    fn compile_derived_roles(&mut self, p: &SourcePolicy, dr: &model::DerivedRoles, exports: &Exports) -> DerivedRoleSet {
        let scope = ParamScope::new(&p.file, dr.variables.as_ref(), p.doc.variables.as_ref(), dr.constants.as_ref(), exports, &mut self.problems);
        let mut definitions = Vec::new();
        let mut names = HashSet::new();
        for def in &dr.definitions {
            let d = &def.value;
            if !names.insert(d.name.value.clone()) {
                self.problems.push(Problem::of(
                    "derived role redefined",
                    &p.file,
                    pos(&d.name),
                    format!("Derived role \"{}\" is defined more than once in \"{}\"", d.name.value, dr.name.value),
                ));
            }
            let mut exprs = Vec::new();
            let condition = self.compile_condition(&p.file, &d.condition, &scope, &mut exprs);
            let key = self.params_key();
            let params = Arc::new(scope.params_for(exprs.iter().map(|e| e.as_ref()), key));
            let parent_roles = d.parent_roles.iter().map(|r| r.value.clone()).collect();
            definitions.push((d.name.value.clone(), Arc::new(DerivedRoleDef { name: d.name.value.clone(), parent_roles, condition, params })));
        }
        DerivedRoleSet { file: p.file.clone(), definitions }
    }

    fn add_meta(&mut self, fqn: String, file: &str) -> usize {
        let key = policy_key(&fqn).to_string();
        self.table.meta.push(PolicyMeta { fqn, key, file: file.to_string() });
        self.table.meta.len() - 1
    }

    fn compile_resource_policy(&mut self, p: &SourcePolicy, rp: &model::ResourcePolicy, exports: &Exports, sets: &HashMap<String, DerivedRoleSet>) {
        let file = p.file.as_str();
        let scope_name = rp.scope.as_ref().map(|s| s.value.clone()).unwrap_or_default();
        let version = rp.version.value.clone();
        let resource = sanitize(&rp.resource.value);
        let fqn = resource_policy_fqn(&rp.resource.value, &version, &scope_name);
        let params_scope = ParamScope::new(file, rp.variables.as_ref(), p.doc.variables.as_ref(), rp.constants.as_ref(), exports, &mut self.problems);

        // Derived roles visible to this policy, by name; a name in two imports is ambiguous.
        let mut visible: HashMap<&str, Vec<(&Spanned<String>, &str, &Arc<DerivedRoleDef>)>> = HashMap::new();
        for imp in &rp.import_derived_roles {
            match sets.get(&imp.value) {
                Some(set) => {
                    for (name, def) in &set.definitions {
                        visible.entry(name.as_str()).or_default().push((imp, set.file.as_str(), def));
                    }
                }
                None => self.problems.push(Problem::of("import not found", file, pos(imp), format!("Derived roles import \"{}\" cannot be found", imp.value))),
            }
        }

        let perms = scope_permissions(rp.scope_permissions.as_ref().map(|s| s.value.as_str()));
        let origin = self.add_meta(fqn.clone(), file);
        let mut exprs = Vec::new();
        struct RuleParts {
            name: String,
            actions: Vec<Pattern>,
            roles: Vec<Pattern>,
            derived: Vec<Arc<DerivedRoleDef>>,
            condition: Option<Arc<Cond>>,
            effect: Effect,
            output: Option<Arc<OutputExprs>>,
        }
        let mut rules = Vec::new();
        let mut referenced: BTreeMap<String, Arc<DerivedRoleDef>> = BTreeMap::new();
        let mut unknown: BTreeMap<String, (u32, u32)> = BTreeMap::new();
        for (i, r) in rp.rules.iter().enumerate() {
            let rule = &r.value;
            let name = rule.name.as_ref().map(|n| n.value.clone()).unwrap_or_else(|| format!("rule-{:03}", i + 1));
            if rule.roles.is_empty() && rule.derived_roles.is_empty() {
                self.problems.push(Problem::of(
                    "invalid resource rule",
                    file,
                    pos(r),
                    format!("Rule '{name}' does not specify any roles or derived roles to be matched"),
                ));
            }
            let mut derived = Vec::new();
            for d in &rule.derived_roles {
                match visible.get(d.value.as_str()).map(|v| v.as_slice()) {
                    Some([(_, _, def)]) => {
                        referenced.insert(d.value.clone(), (*def).clone());
                        derived.push((*def).clone());
                    }
                    Some(many) if many.len() > 1 => {
                        let from: Vec<String> = many
                            .iter()
                            .map(|(imp, f, _)| {
                                let (l, c) = pos(imp);
                                format!("{f} (imported as \"{}\" at {l}:{c})", imp.value)
                            })
                            .collect();
                        self.problems.push(Problem::of(
                            "ambiguous derived role",
                            file,
                            pos(d),
                            format!("Derived role \"{}\" is defined in more than one import: {}", d.value, from.join(", ")),
                        ));
                    }
                    // Reported once per name, at its last use, as Cerbos does.
                    _ => {
                        unknown.insert(d.value.clone(), pos(d));
                    }
                }
            }
            let condition = self.compile_condition(file, &rule.condition, &params_scope, &mut exprs);
            let output = self.compile_output(file, &rule.output, &params_scope, &mut exprs);
            let actions = self.patterns(file, &rule.actions);
            // A `*` among the roles makes the rule apply to any role.
            let roles = if rule.roles.iter().any(|r| r.value == "*") { vec![Pattern::Any] } else { self.patterns(file, &rule.roles) };
            rules.push(RuleParts { name, actions, roles, derived, condition, effect: effect(&rule.effect.value), output });
        }
        for (name, at) in unknown {
            self.problems.push(Problem::of("unknown derived role", file, at, format!("Derived role \"{name}\" is not defined in any imports")));
        }
        let key = self.params_key();
        let params = Arc::new(params_scope.params_for(exprs.iter().map(|e| e.as_ref()), key));

        if let Some(s) = &rp.schemas {
            use crate::schema::{load_failure_message, SchemaRefSpec, Source};
            let conv = |this: &mut Self, r: &Option<model::SchemaRef>, source: Source| {
                r.as_ref().map(|r| {
                    if let Err(reason) = this.table.schema_store.check_ref(&r.r#ref.value) {
                        this.problems.push(Problem::of("invalid schema", file, pos(&r.r#ref), load_failure_message(source, &r.r#ref.value, &reason)));
                    }
                    SchemaRefSpec { uri: r.r#ref.value.clone(), ignore_actions: r.ignore_when.as_ref().map(|w| w.actions.clone()).unwrap_or_default() }
                })
            };
            let principal = conv(self, &s.principal_schema, Source::Principal);
            let resource = conv(self, &s.resource_schema, Source::Resource);
            self.table.schemas.insert(fqn.clone(), PolicySchemas { principal, resource });
        }
        if !referenced.is_empty() {
            let key = self.table.intern_scope_key(&version, &scope_name);
            self.table.derived_roles.entry(key).insert(resource.clone(), referenced.into_values().collect());
        }

        let consent = perms == ScopePermissions::RequireParentalConsentForAllows;
        let base = |this: &mut Self| Row {
            resource: Pattern::Literal(resource.clone()),
            ..Row::of_policy(PolicyKind::Resource, origin, &version, &scope_name, perms_or_default(perms), Some(params.clone()), this.eval_key(String::new()))
        };
        if rules.is_empty() {
            let row = base(self);
            self.table.rows.push(row);
        }
        for rule in &rules {
            let rule_key = format!("{}#{}", policy_key(&fqn), rule.name);
            let rule_eval_key = self.eval_key(format!("resource|{rule_key}"));
            for action in &rule.actions {
                for role in &rule.roles {
                    let mut row = base(self);
                    row.role = role.clone();
                    row.action = Some(action.clone());
                    row.name = rule.name.clone();
                    row.output = rule.output.clone();
                    row.eval_key = rule_eval_key;
                    (row.condition, row.effect) = consent_rewrite(consent, rule.condition.clone(), rule.effect);
                    self.table.rows.push(row);
                }
                for dr in &rule.derived {
                    let dr_eval_key = self.eval_key(format!("derived|{}|{rule_key}", dr.name));
                    for parent in &dr.parent_roles {
                        let mut row = base(self);
                        row.role = Pattern::new(parent).unwrap_or(Pattern::Literal(parent.clone()));
                        row.action = Some(action.clone());
                        row.name = rule.name.clone();
                        row.output = rule.output.clone();
                        row.eval_key = dr_eval_key;
                        row.derived_role_condition = dr.condition.clone();
                        row.derived_role_params = Some(dr.params.clone());
                        row.origin_derived_role = Some(dr.name.clone());
                        (row.condition, row.effect) = consent_rewrite(consent, rule.condition.clone(), rule.effect);
                        self.table.rows.push(row);
                    }
                }
            }
        }
    }

    fn compile_principal_policy(&mut self, p: &SourcePolicy, pp: &model::PrincipalPolicy, exports: &Exports) {
        let file = p.file.as_str();
        let scope_name = pp.scope.as_ref().map(|s| s.value.clone()).unwrap_or_default();
        let version = pp.version.value.clone();
        let fqn = principal_policy_fqn(&pp.principal.value, &version, &scope_name);
        let params_scope = ParamScope::new(file, pp.variables.as_ref(), p.doc.variables.as_ref(), pp.constants.as_ref(), exports, &mut self.problems);
        let perms = scope_permissions(pp.scope_permissions.as_ref().map(|s| s.value.as_str()));
        let consent = perms == ScopePermissions::RequireParentalConsentForAllows;
        let origin = self.add_meta(fqn.clone(), file);
        let mut exprs = Vec::new();
        // Cerbos keys rules by resource: a later rule for the same resource replaces an earlier one.
        let mut by_resource: Vec<(String, Vec<PrincipalAction>)> = Vec::new();
        for r in &pp.rules {
            let rule = &r.value;
            let mut actions = Vec::new();
            for (i, a) in rule.actions.iter().enumerate() {
                let a = &a.value;
                let name = a.name.as_ref().map(|n| n.value.clone()).unwrap_or_else(|| format!("{}_rule-{:03}", rule.resource.value, i + 1));
                let condition = self.compile_condition(file, &a.condition, &params_scope, &mut exprs);
                let output = self.compile_output(file, &a.output, &params_scope, &mut exprs);
                let pattern = self.pattern(file, &a.action);
                actions.push((name, pattern, effect(&a.effect.value), condition, output));
            }
            by_resource.retain(|(res, _)| *res != rule.resource.value);
            by_resource.push((rule.resource.value.clone(), actions));
        }
        let key = self.params_key();
        let params = Arc::new(params_scope.params_for(exprs.iter().map(|e| e.as_ref()), key));
        let principal = pp.principal.value.clone();
        let base = |this: &mut Self| Row {
            principal: Some(principal.clone()),
            ..Row::of_policy(PolicyKind::Principal, origin, &version, &scope_name, perms_or_default(perms), Some(params.clone()), this.eval_key(String::new()))
        };
        if by_resource.is_empty() {
            let row = base(self);
            self.table.rows.push(row);
        }
        for (resource, actions) in by_resource {
            let res_pattern = Pattern::new(&sanitize(&resource)).unwrap_or(Pattern::Literal(resource.clone()));
            for (name, action, eff, condition, output) in actions {
                let mut row = base(self);
                row.resource = res_pattern.clone();
                row.action = Some(action);
                row.eval_key = self.eval_key(format!("principal|{}#{name}", policy_key(&fqn)));
                row.name = name;
                row.output = output;
                (row.condition, row.effect) = consent_rewrite(consent, condition, eff);
                self.table.rows.push(row);
            }
        }
    }

    fn compile_role_policy(&mut self, p: &SourcePolicy, rp: &model::RolePolicy, exports: &Exports) {
        let file = p.file.as_str();
        let scope_name = rp.scope.as_ref().map(|s| s.value.clone()).unwrap_or_default();
        let version = rp.version.as_ref().map(|v| v.value.clone()).filter(|v| !v.is_empty()).unwrap_or_else(|| DEFAULT_VERSION.to_string());
        let role = rp.role.value.clone();
        let fqn = role_policy_fqn(&role, &version, &scope_name);
        let params_scope = ParamScope::new(file, rp.variables.as_ref(), p.doc.variables.as_ref(), rp.constants.as_ref(), exports, &mut self.problems);
        let origin = self.add_meta(fqn.clone(), file);
        let mut exprs = Vec::new();
        let mut compiled = Vec::new();
        let mut per_resource_idx: HashMap<String, usize> = HashMap::new();
        for r in &rp.rules {
            let rule = &r.value;
            let condition = self.compile_condition(file, &rule.condition, &params_scope, &mut exprs);
            let output = self.compile_output(file, &rule.output, &params_scope, &mut exprs);
            // Cerbos matches allowActions with MatchesGlob: a glob even without `*`.
            let allow = rule.allow_actions.iter().map(|s| self.checked(file, s, Pattern::glob(&s.value))).collect();
            let idx = per_resource_idx.entry(rule.resource.value.clone()).or_insert(0);
            let eval_key = format!("role|{}#{}_rule-{:03}", policy_key(&fqn), role, *idx);
            *idx += 1;
            compiled.push((rule.resource.value.clone(), rule.name.as_ref().map(|n| n.value.clone()).unwrap_or_default(), allow, condition, output, eval_key));
        }
        let key = self.params_key();
        let params = Arc::new(params_scope.params_for(exprs.iter().map(|e| e.as_ref()), key));
        for (resource, name, allow, condition, output, eval_key) in compiled {
            let eval_key = self.eval_key(eval_key);
            self.table.rows.push(Row {
                resource: Pattern::new(&resource).unwrap_or(Pattern::Literal(resource.clone())),
                role: Pattern::Literal(role.clone()),
                allow_actions: allow,
                condition,
                output,
                name,
                from_role_policy: true,
                ..Row::of_policy(PolicyKind::Resource, origin, &version, &scope_name, ScopePermissions::Unspecified, Some(params.clone()), eval_key)
            });
        }
        let parents: Vec<String> = rp.parent_roles.iter().map(|r| r.value.clone()).collect();
        self.direct_parent_roles.entry(scope_name).or_default().insert(role, parents);
    }

    fn pattern(&mut self, file: &str, s: &Spanned<String>) -> Pattern {
        self.checked(file, s, Pattern::new(&s.value))
    }

    /// The pattern, or a problem at its position and the text taken literally.
    fn checked(&mut self, file: &str, s: &Spanned<String>, pattern: Result<Pattern, String>) -> Pattern {
        match pattern {
            Ok(p) => p,
            Err(e) => {
                self.problems.push(Problem::new(file, pos(s), e));
                Pattern::Literal(s.value.clone())
            }
        }
    }

    fn patterns(&mut self, file: &str, list: &[Spanned<String>]) -> Vec<Pattern> {
        list.iter().map(|s| self.pattern(file, s)).collect()
    }

    /// A scoped policy needs a policy of the same kind and version at every ancestor scope.
    fn check_scope_ancestors(&mut self, policies: &[SourcePolicy]) {
        let ids: HashSet<String> = policies.iter().filter_map(policy_identity).collect();
        for p in policies {
            let (scope, make): (Option<&Spanned<String>>, FqnAt) = if let Some(rp) = &p.doc.resource_policy {
                let rp = &rp.value;
                (rp.scope.as_ref(), Box::new(move |s: &str| resource_policy_fqn(&rp.resource.value, &rp.version.value, s)))
            } else if let Some(pp) = &p.doc.principal_policy {
                let pp = &pp.value;
                (pp.scope.as_ref(), Box::new(move |s: &str| principal_policy_fqn(&pp.principal.value, &pp.version.value, s)))
            } else {
                continue;
            };
            let Some(scope) = scope else { continue };
            if scope.value.is_empty() {
                continue;
            }
            for parent in scope_parents(&scope.value) {
                let want = make(parent);
                if !ids.contains(&want) {
                    self.problems.push(Problem::of(
                        "missing policy definition",
                        &p.file,
                        pos(scope),
                        format!("Missing ancestor policy \"{}\": a policy in scope `{}` needs one at every parent scope", policy_key(&want), scope.value),
                    ));
                }
            }
        }
    }

    fn finish_index(&mut self) {
        let t = &mut self.table;
        for row in &t.rows {
            match row.kind {
                PolicyKind::Principal => {
                    t.principal_scopes.insert(t.scopes.intern(&row.scope));
                }
                PolicyKind::Resource => {
                    t.resource_scopes.insert(t.scopes.intern(&row.scope));
                }
            }
            if row.scope_permissions != ScopePermissions::Unspecified {
                t.scope_permissions.insert(row.scope.clone(), row.scope_permissions);
            }
        }
        // Role-policy parents, closed transitively within each scope.
        for (scope, direct) in &self.direct_parent_roles {
            let mut closed = HashMap::new();
            for role in direct.keys() {
                let mut seen = HashSet::new();
                let mut out = Vec::new();
                let mut stack = vec![role.clone()];
                while let Some(r) = stack.pop() {
                    if !seen.insert(r.clone()) {
                        continue;
                    }
                    if let Some(ps) = direct.get(&r) {
                        for pr in ps {
                            if !out.contains(pr) {
                                out.push(pr.clone());
                            }
                            stack.push(pr.clone());
                        }
                    }
                }
                closed.insert(role.clone(), out);
            }
            t.parent_roles.insert(scope.clone(), closed);
        }
        t.index();
    }
}

/// The identity Cerbos uses to detect duplicates and missing ancestors.
fn policy_identity(p: &SourcePolicy) -> Option<String> {
    let d = &p.doc;
    if let Some(rp) = &d.resource_policy {
        let rp = &rp.value;
        return Some(resource_policy_fqn(&rp.resource.value, &rp.version.value, rp.scope.as_ref().map(|s| s.value.as_str()).unwrap_or("")));
    }
    if let Some(pp) = &d.principal_policy {
        let pp = &pp.value;
        return Some(principal_policy_fqn(&pp.principal.value, &pp.version.value, pp.scope.as_ref().map(|s| s.value.as_str()).unwrap_or("")));
    }
    if let Some(rp) = &d.role_policy {
        let rp = &rp.value;
        return Some(role_policy_fqn(
            &rp.role.value,
            rp.version.as_ref().map(|v| v.value.as_str()).unwrap_or(""),
            rp.scope.as_ref().map(|s| s.value.as_str()).unwrap_or(""),
        ));
    }
    if let Some(dr) = &d.derived_roles {
        return Some(format!("cerbos.derived_roles.{}", dr.value.name.value));
    }
    if let Some(ev) = &d.export_variables {
        return Some(format!("cerbos.export_variables.{}", ev.value.name.value));
    }
    if let Some(ec) = &d.export_constants {
        return Some(format!("cerbos.export_constants.{}", ec.value.name.value));
    }
    None
}

fn effect(s: &str) -> Effect {
    if s == "EFFECT_DENY" {
        Effect::Deny
    } else {
        Effect::Allow
    }
}

fn scope_permissions(s: Option<&str>) -> ScopePermissions {
    match s {
        Some("SCOPE_PERMISSIONS_OVERRIDE_PARENT") => ScopePermissions::OverrideParent,
        Some("SCOPE_PERMISSIONS_REQUIRE_PARENTAL_CONSENT_FOR_ALLOWS") => ScopePermissions::RequireParentalConsentForAllows,
        _ => ScopePermissions::Unspecified,
    }
}

fn perms_or_default(p: ScopePermissions) -> ScopePermissions {
    if p == ScopePermissions::Unspecified {
        ScopePermissions::OverrideParent
    } else {
        p
    }
}

/// Under REQUIRE_PARENTAL_CONSENT_FOR_ALLOWS a conditional ALLOW becomes `DENY if none(condition)`.
fn consent_rewrite(consent: bool, condition: Option<Arc<Cond>>, effect: Effect) -> (Option<Arc<Cond>>, Option<Effect>) {
    match (consent, effect, condition) {
        (true, Effect::Allow, Some(c)) => (Some(Arc::new(Cond::None(vec![(*c).clone()]))), Some(Effect::Deny)),
        (_, e, c) => (c, Some(e)),
    }
}

#[cfg(test)]
pub(crate) mod conformance_tests;
