"""The shared test server must itself speak the protocol the official client expects."""

from openai import OpenAI
from tests.support.openai_server import OpenAITestServer, last_user_text


def test_official_client_talks_to_test_server():
    with OpenAITestServer(lambda kind, body: "答え: " + last_user_text(body), api_key="k") as srv:
        client = OpenAI(base_url=srv.base_url, api_key="k", max_retries=0)
        out = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "こんにちは"}]
        )
        assert out.choices[0].message.content == "答え: こんにちは"
        assert srv.calls[0].headers["authorization"] == "Bearer k"
