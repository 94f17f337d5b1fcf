"""Each network adapter against its fake, on the wire: sign-in, a two-part thread, finding a
part already posted, engagement, and 401/429/500 as NetworkErrors that hold no secret."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from adapters.networks import BlueskyNetwork, LinkedInNetwork, XNetwork
from core.publishing import Credentials, Network, NetworkError
from tests.adapters.networks.fake_networks import FakeNetworks, fake_networks

T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
async def fakes() -> AsyncIterator[FakeNetworks]:
    async with fake_networks() as running:
        yield running


def bluesky(fakes: FakeNetworks) -> tuple[Network, Credentials]:
    b = fakes.bluesky
    return BlueskyNetwork(fakes.base_url), Credentials(
        network="bluesky", identifier=b.handle, secret=b.app_password, connected_at=T0
    )


def x(fakes: FakeNetworks) -> tuple[Network, Credentials]:
    return XNetwork(fakes.base_url), Credentials(
        network="x", identifier="", secret=fakes.x.token, connected_at=T0
    )


def linkedin(fakes: FakeNetworks) -> tuple[Network, Credentials]:
    return LinkedInNetwork(fakes.base_url), Credentials(
        network="linkedin", identifier="", secret=fakes.linkedin.token, connected_at=T0
    )


async def test_verify_names_the_account(fakes: FakeNetworks) -> None:
    for make, expected in ((bluesky, "owner.bsky.social"), (x, "@owner (2244994945)"),
                           (linkedin, "urn:li:person:782bbtaQ")):  # fmt: skip
        network, credentials = make(fakes)
        assert (await network.verify(credentials)).identifier == expected


@pytest.mark.parametrize("make", [bluesky, x])
async def test_a_thread_is_chained_and_a_posted_part_is_found_again(
    fakes: FakeNetworks, make: object
) -> None:
    network, credentials = make(fakes)  # type: ignore[operator]
    async with network.session(credentials) as session:
        first = await session.publish("first part 1/2", key="3kabcdefghij2", parent=None, root=None)
        second = await session.publish(
            "second part 2/2", key="3kabcdefghij3", parent=first, root=first
        )
        found = await session.find("3kabcdefghij3", text="second part 2/2", parent=first)
        assert found is not None and found.id == second.id
        missing = await session.find("3kabcdefghij4", text="never posted", parent=second)
        assert missing is None
        engagement = await session.engagement([first, second])
        assert engagement.total > 0
    fake = fakes.bluesky if credentials.network == "bluesky" else fakes.x
    assert fake.thread() == ["first part 1/2", "second part 2/2"]


@pytest.mark.parametrize("make", [bluesky, x, linkedin])
@pytest.mark.parametrize(
    ("status", "kind"), [(401, "auth"), (429, "rate"), (500, "server"), (503, "server")]
)
async def test_failures_are_network_errors_without_secrets(
    fakes: FakeNetworks, make: object, status: int, kind: str
) -> None:
    network, credentials = make(fakes)  # type: ignore[operator]
    fake = {"bluesky": fakes.bluesky, "x": fakes.x, "linkedin": fakes.linkedin}[credentials.network]
    fake.failures = [(status, {"retry-after": "12"} if status == 429 else {})]
    async with network.session(credentials) as session:
        with pytest.raises(NetworkError) as raised:
            await session.publish("hello", key="3kabcdefghij2", parent=None, root=None)
    assert raised.value.kind == kind
    assert credentials.secret not in str(raised.value)
    if status == 429:
        assert raised.value.retry_after_s == pytest.approx(12, abs=1)


@pytest.mark.parametrize("make", [bluesky, x, linkedin])
async def test_wrong_credentials_are_refused_at_sign_in(fakes: FakeNetworks, make: object) -> None:
    network, credentials = make(fakes)  # type: ignore[operator]
    wrong = Credentials(
        network=credentials.network,
        identifier=credentials.identifier,
        secret="wrong-secret-value",
        connected_at=T0,
    )
    with pytest.raises(NetworkError) as raised:
        await network.verify(wrong)
    assert raised.value.kind == "auth" and "wrong-secret-value" not in str(raised.value)
    assert "wrong-secret-value" not in repr(wrong)
