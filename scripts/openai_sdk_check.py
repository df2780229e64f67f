#!/usr/bin/env python3
"""Drives a running TokenMeter server with the official `openai` Python SDK, unchanged.

Usage: openai_sdk_check.py BASE_URL API_KEY MODEL EXPECTED_TEXT

Checks, in order: a streamed completion (the text must equal EXPECTED_TEXT; with include_usage the last
chunk carries usage), a non-streamed completion (same text, usage present), and that a wrong key raises
openai.AuthenticationError; the non-streamed answer's `_request_id` (x-request-id) is reported. Prints one JSON line with what it saw; exit 0 when every check passed,
1 when one failed, 77 when the `openai` package is not installed (the caller skips).
"""
import json
import sys

try:
    import openai
except ImportError:
    print(json.dumps({"skipped": "the openai package is not installed (pip install openai)"}))
    sys.exit(77)


def main() -> int:
    base_url, api_key, model, expected = sys.argv[1:5]
    client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=20)
    messages = [{"role": "user", "content": "Say the test sentence."}]
    seen = {"sdk_version": openai.__version__}

    stream = client.chat.completions.create(model=model, messages=messages, stream=True,
                                            stream_options={"include_usage": True})
    parts, finish, usage = [], None, None
    for chunk in stream:
        if chunk.choices:
            delta = chunk.choices[0].delta
            if delta.content:
                parts.append(delta.content)
            if chunk.choices[0].finish_reason:
                finish = chunk.choices[0].finish_reason
        if chunk.usage is not None:
            usage = chunk.usage.completion_tokens
    seen["stream_text"] = "".join(parts)
    seen["stream_finish"] = finish
    seen["stream_usage_completion_tokens"] = usage

    completion = client.chat.completions.create(model=model, messages=messages)
    seen["text"] = completion.choices[0].message.content
    seen["finish"] = completion.choices[0].finish_reason
    seen["usage_completion_tokens"] = completion.usage.completion_tokens if completion.usage else None
    # The SDK reads the answer's x-request-id header: the id of the gateway's ledger record.
    seen["request_id"] = getattr(completion, "_request_id", None)

    try:
        openai.OpenAI(base_url=base_url, api_key="tm_wrong_key", max_retries=0).chat.completions.create(
            model=model, messages=messages)
        seen["wrong_key"] = "accepted"
    except openai.AuthenticationError as error:
        seen["wrong_key"] = error.code if hasattr(error, "code") else "401"

    ok = (seen["stream_text"] == expected and seen["text"] == expected and seen["stream_finish"] == "stop"
          and seen["finish"] == "stop" and usage is not None and seen["usage_completion_tokens"] is not None
          and seen["wrong_key"] == "invalid_api_key" and bool(seen["request_id"]))
    print(json.dumps(seen, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
