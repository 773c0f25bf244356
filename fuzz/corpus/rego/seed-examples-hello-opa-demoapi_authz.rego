# Source: the Okta + OPA FastAPI "hello" demo ("Python FastAPI microservice with Okta and OPA",
# stackstalk.com, 2021-12-21; app code: github.com/stackstalk/python-samples, secure-app/app.py).
# The app posts {"input": {"method", "api", "jwt": {"tokenValue"}}} to
# http://localhost:8181/v1/data/demoapi/authz/allow.
# This file is the article's policy restated, not its text: the same package, default and decisions,
# with `==` comparisons where the article unifies with `=`, the scope test in a helper rule
# (`has_scope`), and `_` for the JWT parts the article names `header` and `signature` but does not
# use. The article's policy exactly as printed is kept with warden's shared test data
# (seeds/okta-opa/demoapi_authz.rego); tests/examples/test_hello.py loads that file in place and
# checks that it decides every request as this one does. Rego v0 syntax, as OPA ran it then.
package demoapi.authz

default allow = false

allow {
    input.method == "GET"
    input.api == "/sayhello"
    has_scope("read_sayhello")
}

has_scope(scope) {
    token.payload.scp[_] == scope
}

token = {"payload": payload} {
    [_, payload, _] := io.jwt.decode(input.jwt.tokenValue)
}
