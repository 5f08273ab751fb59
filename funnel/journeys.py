"""The two funnels and believable walks through them (plain Python, no Django, so
`bench/` can reuse the stages)."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Funnel:
    funnel_type: str
    stages: tuple[str, ...]
    advance: tuple[float, ...]  # chance of moving on from each stage but the last
    dropped: str  # where those who do not move on go


SALES = Funnel(
    "sales",
    ("lead", "contacted", "counselling", "application", "admitted", "enrolled"),
    (0.85, 0.7, 0.6, 0.7, 0.75),
    "lost",
)
SERVICE_DELIVERY = Funnel(
    "service-delivery", ("onboarding", "active", "completed"), (0.9, 0.7), "dropped"
)


def walk_funnel(
    rng: random.Random, funnel: Funnel, *, start: datetime, now: datetime
) -> list[dict]:
    """One customer's way through `funnel`, stage by stage, until a drop-off, the
    last stage, or `now` (a journey still under way)."""
    events, moment, previous = [], start, None
    for position, stage in enumerate(funnel.stages):
        events.append(demo_event(funnel, previous, stage, moment))
        previous = stage
        moment += timedelta(hours=rng.uniform(4, 24 * 12))
        if moment > now or position == len(funnel.advance):
            return events
        if rng.random() > funnel.advance[position]:
            events.append(demo_event(funnel, stage, funnel.dropped, moment))
            return events
    return events


def demo_event(funnel: Funnel, from_stage: str | None, to_stage: str, moment: datetime) -> dict:
    return {
        "funnel_type": funnel.funnel_type,
        "from_stage": from_stage,
        "to_stage": to_stage,
        "created_date": moment.isoformat(),
    }


def demo_journeys(rng: random.Random, *, arrived: datetime, now: datetime) -> list[dict]:
    """Sales from the day the lead came in; service delivery once enrolled. A few
    customers enrolled elsewhere (walk-ins) appear in service delivery only."""
    if rng.random() < 0.08:
        return walk_funnel(rng, SERVICE_DELIVERY, start=arrived, now=now)
    events = walk_funnel(rng, SALES, start=arrived, now=now)
    if events[-1]["to_stage"] == SALES.stages[-1]:
        enrolled = datetime.fromisoformat(events[-1]["created_date"])
        start = enrolled + timedelta(days=rng.uniform(1, 20))
        if start < now:
            events += walk_funnel(rng, SERVICE_DELIVERY, start=start, now=now)
    return events
