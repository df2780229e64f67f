#!/usr/bin/env python3
"""Drives a running TokenMeter server's Messages API with the official `anthropic` Python SDK, unchanged.

Usage: anthropic_sdk_check.py BASE_URL API_KEY BUDGET_KEY EXPECTED_TEXT TEXT_MODEL TOOL_MODEL LONG_MODEL

The test upstream behind the server answers TEXT_MODEL with EXPECTED_TEXT, TOOL_MODEL with a call of the
function get_weather with {"city":"Paris"}, and LONG_MODEL with a long, slow answer.

Checks, each recorded in the printed JSON:
  - messages.create(): the text equals EXPECTED_TEXT, stop_reason end_turn, usage;
  - messages.stream(): the SDK's accumulator yields the same text and final message;
  - messages.create(stream=True): the raw events, message_start first, message_stop last;
  - tool use: one tool_use block with the input, stop_reason tool_use, streamed and not;
  - the budget cut (BUDGET_KEY, LONG_MODEL): stop_reason max_tokens, streamed and not;
  - leaving mid-stream after 5 text deltas;
  - messages.count_tokens(): input_tokens > 0;
  - errors: an unknown model raises NotFoundError, a wrong key AuthenticationError.
Exit 0 when every check passed, 1 when one failed, 77 when the `anthropic` package is not installed.
"""
import json
import sys

try:
    import anthropic
except ImportError:
    print(json.dumps({"skipped": "the anthropic package is not installed (pip install anthropic)"}))
    sys.exit(77)

WEATHER_TOOL = {"name": "get_weather", "description": "The weather in a city",
                "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
ASK = [{"role": "user", "content": "Say the test sentence."}]


def main() -> int:
    base_url, api_key, budget_key, expected, text_model, tool_model, long_model = sys.argv[1:8]
    client = anthropic.Anthropic(base_url=base_url, api_key=api_key, max_retries=0, timeout=20)
    seen = {"sdk_version": anthropic.__version__}
    ok = True

    def check(name, condition):
        nonlocal ok
        seen[name] = bool(condition)
        ok = ok and bool(condition)

    message = client.messages.create(model=text_model, max_tokens=200, messages=ASK, system="Answer exactly.")
    seen["text"] = "".join(b.text for b in message.content if b.type == "text")
    check("text_exact", seen["text"] == expected)
    check("end_turn", message.stop_reason == "end_turn" and message.usage.input_tokens > 0 and message.usage.output_tokens > 0)
    seen["request_id"] = getattr(message, "_request_id", None)

    with client.messages.stream(model=text_model, max_tokens=200, messages=ASK) as stream:
        streamed = "".join(stream.text_stream)
        final = stream.get_final_message()
    seen["stream_text"] = streamed
    check("stream_text_exact", streamed == expected and final.stop_reason == "end_turn")
    check("stream_final_text", "".join(b.text for b in final.content if b.type == "text") == expected)

    types = [event.type for event in client.messages.create(model=text_model, max_tokens=200, messages=ASK, stream=True)]
    check("raw_events", types[0] == "message_start" and types[-1] == "message_stop" and "content_block_delta" in types)

    call = client.messages.create(model=tool_model, max_tokens=200, tools=[WEATHER_TOOL],
                                  messages=[{"role": "user", "content": "Weather in Paris?"}])
    uses = [b for b in call.content if b.type == "tool_use"]
    check("tool_use", len(uses) == 1 and uses[0].name == "get_weather" and uses[0].input == {"city": "Paris"}
          and call.stop_reason == "tool_use")
    with client.messages.stream(model=tool_model, max_tokens=200, tools=[WEATHER_TOOL],
                                messages=[{"role": "user", "content": "Weather in Paris?"}]) as stream:
        for _ in stream:
            pass
        final = stream.get_final_message()
    uses = [b for b in final.content if b.type == "tool_use"]
    check("tool_use_streamed", len(uses) == 1 and uses[0].input == {"city": "Paris"} and final.stop_reason == "tool_use")

    budget = anthropic.Anthropic(base_url=base_url, api_key=budget_key, max_retries=0, timeout=20)
    with budget.messages.stream(model=long_model, max_tokens=4000, messages=[{"role": "user", "content": "Write at length."}]) as stream:
        seen["cut_stream_text"] = "".join(stream.text_stream)
        final = stream.get_final_message()
    check("cut_stream", final.stop_reason == "max_tokens" and len(seen["cut_stream_text"]) > 0)
    cut = budget.messages.create(model=long_model, max_tokens=4000, messages=[{"role": "user", "content": "Write at length."}])
    check("cut", cut.stop_reason == "max_tokens")

    deltas = []
    with client.messages.stream(model=long_model, max_tokens=4000, messages=[{"role": "user", "content": "Write at length."}]) as stream:
        for text in stream.text_stream:
            deltas.append(text)
            if len(deltas) == 5:
                break
    seen["left_text"] = "".join(deltas)

    counted = client.messages.count_tokens(model=text_model, messages=ASK)
    seen["count_tokens"] = counted.input_tokens
    check("count_tokens", counted.input_tokens > 0)

    try:
        client.messages.create(model="no-such-model", max_tokens=10, messages=ASK)
        seen["unknown_model"] = "accepted"
    except anthropic.NotFoundError as error:
        seen["unknown_model"] = error.body.get("error", {}).get("type") if isinstance(error.body, dict) else "404"
    try:
        anthropic.Anthropic(base_url=base_url, api_key="tm_wrong_key", max_retries=0).messages.create(
            model=text_model, max_tokens=10, messages=ASK)
        seen["wrong_key"] = "accepted"
    except anthropic.AuthenticationError as error:
        seen["wrong_key"] = error.body.get("error", {}).get("type") if isinstance(error.body, dict) else "401"
    check("errors", seen["unknown_model"] == "not_found_error" and seen["wrong_key"] == "authentication_error")

    print(json.dumps(seen, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
