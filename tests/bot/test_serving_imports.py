"""The serving path imports neither torch nor sentence-transformers (ONNX Runtime encodes)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from bot.bootstrap import open_runtime
    from bot.settings import load_settings
    from core.models import IncomingMessage, Message, UserRef, utc_now

    async def main() -> None:
        settings = load_settings(data_dir=Path(sys.argv[1]))
        settings.data_dir.mkdir()
        owner = UserRef(platform="local", user_id="owner")
        async with open_runtime(settings) as rt:
            await rt.clone.import_sample(owner)
            await rt.clone.profile_json(owner)  # the profiler's spaCy pipeline
            message = Message(id="m1", conversation="dm:priya", thread=None, sender="priya",
                              text="can you review my PR today?", sent_at=utc_now())
            reply = await rt.clone.handle_incoming(
                IncomingMessage(owner=owner, message=message, sender_name="priya",
                                is_direct=True), explicit=True)
            assert reply is not None and reply.draft is not None and reply.draft.options
            await rt.clone.settle()  # the style verifier trains with the same encoder
        heavy = sorted(m for m in ("torch", "sentence_transformers", "transformers")
                       if m in sys.modules)
        print("heavy:", heavy)

    asyncio.run(main())
    """
)


@pytest.mark.slow
def test_train_profile_draft_and_verifier_without_torch(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "data")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "HF_HUB_OFFLINE": "1"},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "heavy: []" in result.stdout
