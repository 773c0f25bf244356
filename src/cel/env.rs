//! The one CEL environment every Cerbos condition runs in: the standard library, the
//! cel-go extensions Cerbos enables, and Cerbos's own functions. Built once, shared.

use std::sync::{Arc, LazyLock};

use cel::{extensions, DeclarationError, Env};

static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| {
    // Registration only fails on a duplicate declaration: a programming error caught by
    // every test, so failing loudly here is right.
    Arc::new(build().expect("the Cerbos CEL environment declares each overload once"))
});

pub(crate) fn env() -> &'static Arc<Env> {
    &ENV
}

fn build() -> Result<Env, DeclarationError> {
    let mut env = Env::stdlib();
    // cel-go keeps the last of repeated map literal keys.
    env.set_error_on_duplicate_map_keys(false);
    env.add_extension(extensions::strings)?;
    env.add_extension(extensions::lists)?;
    env.add_extension(extensions::math)?;
    env.add_extension(extensions::encoders)?;
    super::lib_sets::register(&mut env)?;
    super::hierarchy::register(&mut env)?;
    super::spiffe::register(&mut env)?;
    super::paths::register(&mut env)?;
    super::network::register(&mut env)?;
    super::lib_misc::register(&mut env)?;
    super::time_parse::register(&mut env)?;
    super::lib_sized::register(&mut env)?;
    super::budget::register(&mut env)?;
    Ok(env)
}
