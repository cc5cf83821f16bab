"""The kit's options, one dataclass shared by the CLI, the pytest plugin and programmatic runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["PROFILES", "KitOptions", "Profile"]


@dataclass(frozen=True)
class Profile:
    """How hard to push: examples per fuzzed operation, stateful steps, lifecycle audio examples."""

    name: str
    fuzz_examples: int
    stateful_examples: int
    stateful_steps: int
    audio_examples: int
    expiry_wait: float


PROFILES: dict[str, Profile] = {
    "quick": Profile(
        "quick", fuzz_examples=8, stateful_examples=5, stateful_steps=5, audio_examples=2, expiry_wait=10
    ),
    # A real, slow service: as few renders as the checks allow (the shared finished and failed tasks,
    # started together at the start), quick fuzzing meanwhile.
    "service": Profile(
        "service", fuzz_examples=8, stateful_examples=5, stateful_steps=5, audio_examples=0, expiry_wait=10
    ),
    "full": Profile(
        "full", fuzz_examples=300, stateful_examples=40, stateful_steps=10, audio_examples=12, expiry_wait=90
    ),
}


@dataclass
class KitOptions:
    """Everything one run of the kit needs. `app` (an ASGI app) makes the run in-process."""

    base_url: str
    api_key: str
    second_api_key: str | None = None
    spec_path: Path | None = None
    profile: str = "quick"
    audio_base_url: str | None = None
    timeout: float = 120.0
    #: Seconds one request may wait for its answer; past it, A2V-ANSWER-IN-TIME fails.
    request_timeout: float = 30.0
    #: Stop the run after this many requests to the service (the rest is reported blocked).
    max_requests: int | None = None
    #: Where the kit's own server (audio fixtures, callback receiver) listens, `HOST:PORT`.
    listen: str | None = None
    #: The URL the implementation is given for the kit's server (default: where it listens).
    public_url: str | None = None
    #: Opt-in: send requests until the service answers 429 (A2V-RATELIMIT-429), then wait it out.
    provoke_429: bool = False
    seed: int | None = None
    skip: list[str] = field(default_factory=list)
    only: list[str] = field(default_factory=list)
    junit_xml: Path | None = None
    report_json: Path | None = None
    #: Where to write the self-contained HTML report (`contract_tests.report_html`).
    report_html: Path | None = None
    app: Any = None

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"unknown profile {self.profile!r}; choose one of {', '.join(PROFILES)}")
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"--base-url must be an http(s) URL, got {self.base_url!r}")
        if self.public_url is not None and not self.public_url.startswith(("http://", "https://")):
            raise ValueError(f"--public-url must be an http(s) URL, got {self.public_url!r}")
        if self.listen is not None:
            from contract_tests.servers import parse_listen

            parse_listen(self.listen)
        if self.max_requests is not None and self.max_requests < 1:
            raise ValueError(f"--max-requests must be at least 1, got {self.max_requests!r}")
        if self.request_timeout <= 0:
            raise ValueError(f"--request-timeout must be positive, got {self.request_timeout!r}")
        if not self.api_key:
            raise ValueError("--api-key must not be empty")
        self.base_url = self.base_url.rstrip("/")

    @property
    def profile_settings(self) -> Profile:
        return PROFILES[self.profile]
