"""What the official MCP conformance suite (0.2.0-alpha.12) asks of a server that a capability
spec cannot express, scenario by scenario, with the reason; read from the suite's own source
(what each scenario sends and checks), not from capgen.

The rule: a scenario is listed when passing it needs a protocol feature outside a spec's model
(the server asking the client something, logging, subscriptions, tasks) or spec syntax that
does not exist. What the alpha2 syntax can already say (an image tool is a binary upstream, a
resource template is a REST call, a completion is a list of candidate values, mixed content is
a multipart answer, an argument that is a header's value is an `x-mcp-header`) is not listed:
when it fails, capgen has to change.
"""

from __future__ import annotations

from tests.conformance.suite import Listed, checks

_ASKS = "the server asks the client {} in the middle of a request; a spec-built tool only calls HTTP upstreams"
_MRTR = (
    "answers InputRequiredResult (SEP-2322 multi-round trips) asking the client for {}: "
    "a spec-built tool only calls HTTP upstreams"
)
_TASKS = (
    "the tasks extension (SEP-2663; not scored): a spec has no long-running operation to hand "
    "over as a task, nor tasks/get, tasks/update or tasks/cancel"
)
_SUBSCRIBE = (
    "resource subscriptions: nothing in a spec says when a resource changes, and the server "
    "keeps no sessions to notify"
)

INEXPRESSIBLE = {
    "tools-call-sampling": Listed(_ASKS.format("for an LLM completion (sampling/createMessage)")),
    "tools-call-elicitation": Listed(_ASKS.format("for user input (elicitation/create)")),
    "elicitation-sep1034-defaults": Listed(_ASKS.format("for user input with defaults")),
    "elicitation-sep1330-enums": Listed(_ASKS.format("for user input with enums")),
    "input-required-result-basic-elicitation": Listed(_MRTR.format("user input")),
    "input-required-result-basic-sampling": Listed(_MRTR.format("an LLM completion")),
    "input-required-result-basic-list-roots": Listed(_MRTR.format("its roots")),
    "input-required-result-request-state": Listed(_MRTR.format("input, with requestState")),
    "input-required-result-multiple-input-requests": Listed(_MRTR.format("several inputs")),
    "input-required-result-multi-round": Listed(_MRTR.format("input, over several rounds")),
    "input-required-result-non-tool-request": Listed(_MRTR.format("input, from prompts/get")),
    "input-required-result-result-type": Listed(_MRTR.format("input (resultType)")),
    "input-required-result-tampered-state": Listed(_MRTR.format("input, with a signed state")),
    "input-required-result-capability-check": Listed(_MRTR.format("what it declared")),
    "logging-set-level": Listed(
        "logging/setLevel: a spec has no log messages to send (and the logging capability is "
        "deprecated as of 2026-07-28, SEP-2577)"
    ),
    "tools-call-with-logging": Listed("a tool that sends log notifications while it runs"),
    "resources-subscribe": Listed(_SUBSCRIBE),
    "resources-unsubscribe": Listed(_SUBSCRIBE),
    "prompts-get-embedded-resource": Listed(
        "a prompt message embedding the resource whose URI the caller passes (resourceUri): "
        "McpPromptMessage.content is a string in every era (alpha2 to beta5, no other key "
        "allowed), and no prompt syntax refers to a resource"
    ),
    "prompts-get-with-image": Listed(
        "a prompt message whose content is an image: McpPromptMessage.content is a string in "
        "every era (alpha2 to beta5, no other key allowed), and a file prompt (location) is a "
        "text template; nothing in a spec says a message is an image"
    ),
    "json-schema-2020-12": Listed(
        "an input schema whose author wrote $schema, $defs ($anchor), additionalProperties, "
        "allOf/anyOf and if/then/else at its root: McpToolInputParameter says one property's "
        "name, type, description and required in every era (alpha2 to beta5), nothing at the "
        "root. capgen could write $schema and additionalProperties on every tool by policy, "
        "but the checks are about keeping what an author wrote, and $defs, allOf/anyOf and "
        "if/then/else have no source at all",
        checks(
            "json-schema-2020-12-$schema",
            "json-schema-2020-12-$defs",
            "json-schema-2020-12-additionalProperties",
            "sep-2106-composition-keywords-preserved",
            "sep-2106-conditional-keywords-preserved",
            "sep-2106-anchor-keyword-preserved",
        ),
    ),
    "server-stateless": Listed(
        "the diagnostic tools test_missing_capability (needs the client's sampling capability), "
        "test_streaming_elicitation (elicits) and test_logging_tool (logs)",
        checks(
            "sep-2575-server-rejects-undeclared-capability",
            "sep-2575-missing-capability-http-400",
            "sep-2575-http-server-no-independent-requests-on-stream",
            "sep-2575-server-no-log-without-loglevel",
        ),
    ),
    **{
        f"tasks-{name}": Listed(_TASKS)
        for name in (
            "lifecycle",
            "capability-negotiation",
            "wire-fields",
            "request-state-removal",
            "mrtr-input",
            "request-headers",
            "dispatch-and-envelope",
            "required-task-error",
            "mrtr-composition",
        )
    },
}

_FIXTURE = "calls the fixture's {} by name: the fixture capability run covers it"
# what the seed does not declare, and the fixture capability (fixture/everything.yaml) does
SEED_WITHOUT = {
    **{
        scenario: Listed(_FIXTURE.format(f"tool {tool}"))
        for scenario, tool in (
            ("tools-call-simple-text", "test_simple_text"),
            ("tools-call-image", "test_image_content"),
            ("tools-call-audio", "test_audio_content"),
            ("tools-call-embedded-resource", "test_embedded_resource"),
            ("tools-call-error", "test_error_handling"),
            ("tools-call-with-progress", "test_tool_with_progress"),
            ("tools-call-mixed-content", "test_multiple_content_types"),
            ("json-schema-2020-12", "json_schema_2020_12_tool"),
        )
    },
    "http-custom-header-server-validation": Listed(
        "needs a tool argument announced as x-mcp-header; no seed argument is the whole value "
        "of a consumed header: the fixture's test_custom_header covers it"
    ),
    **{
        scenario: Listed(_FIXTURE.format(what))
        for scenario, what in (
            ("resources-list", "resources"),
            ("resources-read-text", "resource test://static-text"),
            ("resources-read-binary", "resource test://static-binary"),
            ("resources-templates-read", "template test://template/{id}/data"),
            ("prompts-list", "prompts"),
            ("prompts-get-simple", "prompt test_simple_prompt"),
            ("prompts-get-with-args", "prompt test_prompt_with_arguments"),
            ("completion-complete", "prompt test_prompt_with_arguments"),
        )
    },
    "caching": Listed(
        "the seed declares no prompts and no resources: prompts/list, resources/list and "
        "resources/templates/list are -32601 there, as server-stateless requires of methods "
        "a server does not advertise; the fixture capability run checks their hints",
        checks(
            "sep-2549-prompts-list-caching-hints",
            "sep-2549-resources-list-caching-hints",
            "sep-2549-resources-templates-list-caching-hints",
        ),
    ),
}
