"""The OpenAPI schema describes the incident and people endpoints cleanly, and the docs page loads."""

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

OURS = ("incidents/api/views.py", "incidents/api/serializers.py", "incidents/api/filters.py",
        "oncall/api/people.py", "oncall/api/serializers/people.py")
OUR_PATHS = [
    "/api/v1/incidents/", "/api/v1/incidents/{number}/", "/api/v1/incidents/{number}/{transition}/",
    "/api/v1/incidents/{number}/timeline/", "/api/v1/incidents/{number}/notes/",
    "/api/v1/incidents/{number}/roles/", "/api/v1/incidents/{number}/roles/{id}/",
    "/api/v1/incidents/{number}/updates/", "/api/v1/services/", "/api/v1/services/{slug}/",
    "/api/v1/users/", "/api/v1/users/me/", "/api/v1/users/{username}/", "/api/v1/teams/",
    "/api/v1/teams/{slug}/", "/api/v1/teams/{slug}/members/", "/api/v1/teams/{slug}/members/{username}/",
]

# Choice fields our serializers expose; an enum-name collision on one of them is ours too.
OUR_ENUMS = ["role", "status", "state", "category", "source"]


@pytest.fixture
def schema_and_problems():
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    problems = [
        msg for msg in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
        if any(name in msg for name in OURS) or any(p in msg for p in OUR_PATHS)
        or any(f'fields named "{field}"' in msg for field in OUR_ENUMS)
    ]
    GENERATOR_STATS.reset()
    return schema, problems


def test_schema_generates_without_warnings_for_our_endpoints(schema_and_problems):
    schema, problems = schema_and_problems
    assert problems == []
    validate_schema(schema)


def test_schema_documents_every_endpoint_and_the_transition_names(schema_and_problems):
    schema, _ = schema_and_problems
    for path in OUR_PATHS:
        assert path in schema["paths"], path
    transition = schema["paths"]["/api/v1/incidents/{number}/{transition}/"]["post"]
    names = next(p for p in transition["parameters"] if p["name"] == "transition")["schema"]["enum"]
    assert sorted(names) == sorted(["acknowledge", "investigate", "identify", "mitigate", "resolve", "close", "reopen"])
    filters = {p["name"] for p in schema["paths"]["/api/v1/incidents/"]["get"]["parameters"]}
    assert {"status", "severity", "team", "service", "created_after", "created_before", "q", "page",
            "page_size"} <= filters


def test_schema_and_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_schema_documents_the_ingest_endpoints_with_their_own_shapes(schema_and_problems):
    schema, _ = schema_and_problems
    validate_schema(schema)
    paths = schema["paths"]
    for path in ("/v2/enqueue", "/api/v1/events/", "/api/v1/integrations/alertmanager/",
                 "/api/v1/integrations/webhook/{key}/", "/api/v1/heartbeats/{key}/"):
        assert path in paths, path
    event = paths["/v2/enqueue"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert event["properties"]["event_action"]["enum"] == ["trigger", "acknowledge", "resolve"]
    # Optional, so nullable: OpenAPI 3.0 lists the null in the enum.
    assert event["properties"]["payload"]["properties"]["severity"]["enum"] == ["critical", "error", "warning", "info",
                                                                              None]
    assert set(paths["/v2/enqueue"]["post"]["responses"]) == {"202", "400", "403", "413", "429"}
    assert set(paths["/api/v1/heartbeats/{key}/"]) == {"get", "post"}
