# Source: the Okta + OPA FastAPI "hello" demo ("Python FastAPI microservice with Okta and OPA",
# stackstalk.com, 2021-12-21; app code: github.com/stackstalk/python-samples, secure-app/app.py).
# The app posts {"input": {"method", "api", "jwt": {"tokenValue"}}} to
# http://localhost:8181/v1/data/demoapi/authz/allow.
# NOTE: the article's policy text could not be retrieved from this machine (no web access, not in
# the stored corpus); this file is written to the article's description (package demoapi.authz,
# Rego v0 syntax, default-deny, GET /sayhello allowed when the token's `scp` holds
# `read_sayhello`, the token decoded with io.jwt.decode). Replace it with the verbatim file when
# available; warden loads it as is.
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
