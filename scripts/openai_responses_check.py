#!/usr/bin/env python3
"""Drives a running TokenMeter server's Responses API with the official `openai` Python SDK, unchanged.

Usage: openai_responses_check.py BASE_URL API_KEY BUDGET_KEY EXPECTED_TEXT

The test upstream behind the server answers, by model:
  gpt-4o-mini   EXPECTED_TEXT
  gpt-4.1-mini  a call of the function get_weather with {"city":"Paris"}
  gpt-4o        a long, slow answer (for the budget cut, with BUDGET_KEY, and for leaving mid-stream)

Checks, in order, each recorded in the printed JSON:
  - responses.create(stream=True): the text of the output_text deltas equals EXPECTED_TEXT, sequence numbers
    run from 0 without a gap, the last event is response.completed with usage;
  - responses.create(): output_text equals EXPECTED_TEXT, status completed, usage;
  - responses.stream(): the SDK's own accumulator builds the same final response (it checks that items, parts
    and deltas agree);
  - a function call: the output is one function_call item with the arguments, streamed and not;
  - the budget cut (BUDGET_KEY): status incomplete with reason max_output_tokens, streamed and not;
  - leaving mid-stream: the stream is closed after 5 text deltas;
  - errors: an unknown model raises NotFoundError, a wrong key AuthenticationError, background=True
    BadRequestError naming 'background'.
Exit 0 when every check passed, 1 when one failed, 77 when the `openai` package is not installed.
"""
import json
import sys

try:
    import openai
except ImportError:
    print(json.dumps({"skipped": "the openai package is not installed (pip install openai)"}))
    sys.exit(77)

WEATHER_TOOL = {
    "type": "function", "name": "get_weather", "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def streamed(client, **kwargs):
    """The events of a streamed response: (types, text, sequence numbers, last event)."""
    types, text, numbers, last = [], [], [], None
    for event in client.responses.create(stream=True, **kwargs):
        types.append(event.type)
        numbers.append(event.sequence_number)
        if event.type == "response.output_text.delta":
            text.append(event.delta)
        last = event
    return types, "".join(text), numbers, last


def main() -> int:
    base_url, api_key, budget_key, expected = sys.argv[1:5]
    client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=20)
    seen = {"sdk_version": openai.__version__}
    ok = True

    def check(name, condition):
        nonlocal ok
        seen[name] = bool(condition)
        ok = ok and bool(condition)

    # Streamed.
    types, text, numbers, last = streamed(client, model="gpt-4o-mini", input="Say the test sentence.",
                                          instructions="Answer exactly.")
    seen["stream_text"] = text
    check("stream_text_exact", text == expected)
    check("stream_numbered", numbers == list(range(len(numbers))))
    check("stream_completed", last is not None and last.type == "response.completed"
          and last.response.usage is not None and last.response.usage.output_tokens > 0)
    check("stream_created_first", types[:2] == ["response.created", "response.in_progress"])

    # Not streamed.
    response = client.responses.create(model="gpt-4o-mini", input=[
        {"role": "user", "content": [{"type": "input_text", "text": "Say the test sentence."}]}])
    seen["text"] = response.output_text
    check("text_exact", response.output_text == expected)
    check("status_completed", response.status == "completed" and response.usage.input_tokens > 0)
    seen["request_id"] = getattr(response, "_request_id", None)

    # The SDK's accumulating helper.
    with client.responses.stream(model="gpt-4o-mini", input="Say the test sentence.") as stream:
        for _ in stream:
            pass
        final = stream.get_final_response()
    check("helper_text_exact", final.output_text == expected)

    # A function call, streamed and not.
    call = client.responses.create(model="gpt-4.1-mini", input="Weather in Paris?", tools=[WEATHER_TOOL])
    item = call.output[0] if call.output else None
    check("function_call", item is not None and item.type == "function_call" and item.name == "get_weather"
          and json.loads(item.arguments) == {"city": "Paris"})
    with client.responses.stream(model="gpt-4.1-mini", input="Weather in Paris?", tools=[WEATHER_TOOL]) as stream:
        for _ in stream:
            pass
        final = stream.get_final_response()
    check("function_call_streamed", final.output and final.output[0].type == "function_call"
          and json.loads(final.output[0].arguments) == {"city": "Paris"})

    # The budget cut.
    budget = openai.OpenAI(base_url=base_url, api_key=budget_key, max_retries=0, timeout=20)
    types, text, numbers, last = streamed(budget, model="gpt-4o", input="Write at length.")
    seen["cut_stream_text"] = text
    check("cut_stream_incomplete", last is not None and last.type == "response.incomplete"
          and last.response.incomplete_details.reason == "max_output_tokens")
    check("cut_stream_numbered", numbers == list(range(len(numbers))))
    cut = budget.responses.create(model="gpt-4o", input="Write at length.")
    seen["cut_text"] = cut.output_text
    check("cut_incomplete", cut.status == "incomplete" and cut.incomplete_details.reason == "max_output_tokens")

    # Leaving mid-stream.
    stream = client.responses.create(model="gpt-4o", input="Write at length.", stream=True)
    deltas = []
    for event in stream:
        if event.type == "response.output_text.delta":
            deltas.append(event.delta)
            if len(deltas) == 5:
                break
    stream.close()
    seen["left_text"] = "".join(deltas)

    # Errors.
    try:
        client.responses.create(model="no-such-model", input="hi")
        seen["unknown_model"] = "accepted"
    except openai.NotFoundError as error:
        seen["unknown_model"] = error.code
    try:
        openai.OpenAI(base_url=base_url, api_key="tm_wrong_key", max_retries=0).responses.create(
            model="gpt-4o-mini", input="hi")
        seen["wrong_key"] = "accepted"
    except openai.AuthenticationError as error:
        seen["wrong_key"] = error.code
    try:
        client.responses.create(model="gpt-4o-mini", input="hi", background=True)
        seen["background"] = "accepted"
    except openai.BadRequestError as error:
        seen["background"] = error.param
    check("errors", seen["unknown_model"] == "model_not_found" and seen["wrong_key"] == "invalid_api_key"
          and seen["background"] == "background")

    print(json.dumps(seen, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
