"""A PEP's client of the AuthZEN Authorization API 1.0, written from the specification (HTTPS JSON
binding, §Transport) and the certification scenario's harness rules, not from warden's code.

It discovers the endpoints from ``/.well-known/authzen-configuration`` (the default paths when
there is none), sends every request as ``application/json`` with an ``X-Request-ID``, and checks
every answer as the harness does: the request id echoed, ``200`` with ``application/json`` and the
shape of the API's response (a boolean ``decision``; an ``evaluations`` array of decisions; search
``results`` of the searched entity with ``type``/``id`` or ``name``, an optional ``page`` whose
``next_token`` is a string).
"""

from __future__ import annotations

import uuid
from typing import Any, Dict, Iterator, List, Optional

import httpx

DEFAULT_PATHS = {
    "access_evaluation_endpoint": "/access/v1/evaluation",
    "access_evaluations_endpoint": "/access/v1/evaluations",
    "search_subject_endpoint": "/access/v1/search/subject",
    "search_resource_endpoint": "/access/v1/search/resource",
    "search_action_endpoint": "/access/v1/search/action",
}


class ProtocolError(AssertionError):
    """The PDP answered something the specification does not allow."""


class Answer:
    """A PDP answer: ``status``, ``body`` (parsed JSON) and ``request_id`` (the echoed header)."""

    def __init__(self, response: httpx.Response) -> None:
        self.status = response.status_code
        self.headers = response.headers
        self.request_id = response.headers.get("x-request-id")
        self.body: Any = response.json() if response.content else None


class AuthZENClient:
    def __init__(self, base_url: str, token: Optional[str] = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(timeout=10)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.endpoints = dict(DEFAULT_PATHS)
        self.metadata: Dict[str, Any] = {}

    def close(self) -> None:
        self.http.close()

    def discover(self) -> Dict[str, Any]:
        """GET the metadata (§PDP Metadata) and use its endpoints."""
        response = self.http.get(self.base_url + "/.well-known/authzen-configuration")
        if response.status_code == 404:
            return {}
        _expect(response.status_code == 200, f"metadata: HTTP {response.status_code}")
        _expect(
            response.headers.get("content-type", "").startswith("application/json"), "metadata: not application/json"
        )
        metadata = response.json()
        _expect(
            metadata.get("policy_decision_point") == self.base_url,
            f"metadata: policy_decision_point {metadata.get('policy_decision_point')!r}",
        )
        _expect(
            isinstance(metadata.get("access_evaluation_endpoint"), str),
            "metadata: access_evaluation_endpoint is required",
        )
        for key in DEFAULT_PATHS:
            if key in metadata:
                _expect(metadata[key].startswith(self.base_url + "/"), f"metadata: {key} is not a URL of the PDP")
                self.endpoints[key] = metadata[key][len(self.base_url) :]
            else:
                self.endpoints.pop(key, None)
        self.metadata = metadata
        return metadata

    # --- the APIs -------------------------------------------------------------------------------

    def post(
        self,
        endpoint: str,
        body: Any,
        *,
        raw: Optional[bytes] = None,
        content_type: str = "application/json",
        request_id: Optional[str] = "",
    ) -> Answer:
        """POST ``body`` (or ``raw`` bytes); checks the request id is echoed."""
        rid = str(uuid.uuid4()) if request_id == "" else request_id
        headers = {**self.headers, "Content-Type": content_type}
        if rid is not None:
            headers["X-Request-ID"] = rid
        path = self.endpoints.get(endpoint, DEFAULT_PATHS[endpoint])
        if raw is None:
            response = self.http.post(self.base_url + path, json=body, headers=headers)
        else:
            response = self.http.post(self.base_url + path, content=raw, headers=headers)
        answer = Answer(response)
        if rid is not None:
            _expect(answer.request_id == rid, f"X-Request-ID not echoed: sent {rid!r}, got {answer.request_id!r}")
        if answer.status == 200:
            _expect(
                response.headers.get("content-type", "").startswith("application/json"), "200 without application/json"
            )
            _expect(isinstance(answer.body, dict), "the body of a 200 is not a JSON object")
        return answer

    def evaluation(self, body: Any) -> Answer:
        answer = self.post("access_evaluation_endpoint", body)
        if answer.status == 200:
            _decision(answer.body, "evaluation")
        return answer

    def evaluations(self, body: Any) -> Answer:
        answer = self.post("access_evaluations_endpoint", body)
        if answer.status == 200:
            if isinstance(body.get("evaluations"), list) and body["evaluations"]:
                listed = answer.body.get("evaluations")
                _expect(isinstance(listed, list), "evaluations: no evaluations array")
                for i, decided in enumerate(listed):
                    _decision(decided, f"evaluations[{i}]")
            else:
                _decision(answer.body, "evaluations (backwards-compatible)")
        return answer

    def search(self, what: str, body: Any) -> Answer:
        answer = self.post(f"search_{what}_endpoint", body)
        if answer.status == 200:
            results = answer.body.get("results")
            _expect(isinstance(results, list), f"search {what}: results is not an array")
            for i, result in enumerate(results):
                if what == "action":
                    _expect(isinstance(result.get("name"), str), f"search action: results[{i}] has no name")
                else:
                    _expect(
                        isinstance(result.get("type"), str) and isinstance(result.get("id"), str),
                        f"search {what}: results[{i}] lacks type or id",
                    )
                    _expect(result["type"] == body[what]["type"], f"search {what}: results[{i}] is of another type")
            page = answer.body.get("page")
            if page is not None:
                _expect(isinstance(page, dict), f"search {what}: page is not an object")
                if "next_token" in page:
                    _expect(isinstance(page["next_token"], str), f"search {what}: page.next_token is not a string")
        return answer

    def search_all(self, what: str, body: Dict[str, Any], limit: int) -> Iterator[List[Any]]:
        """Every page of a search, following ``next_token`` (§Pagination), the request otherwise unchanged."""
        page: Dict[str, Any] = {"limit": limit}
        for _ in range(1000):  # bounded: a PDP that never ends its pages fails
            answer = self.search(what, {**body, "page": page})
            _expect(answer.status == 200, f"search {what}: HTTP {answer.status} {answer.body!r}")
            yield answer.body["results"]
            token = (answer.body.get("page") or {}).get("next_token", "")
            if not token:
                return
            page = {"limit": limit, "token": token}
        raise ProtocolError(f"search {what}: more than 1000 pages")


def _decision(value: Any, where: str) -> None:
    _expect(
        isinstance(value, dict) and isinstance(value.get("decision"), bool),
        f"{where}: no boolean decision in {value!r}",
    )
    if "context" in value:
        _expect(isinstance(value["context"], dict), f"{where}: context is not an object")


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ProtocolError(message)
