"""Hold and capture counters (Prometheus): how many, and how many millicredits."""
from prometheus_client import Counter

HOLDS = Counter("atelier_holds_total", "Holds by what happened to them.", ["event"])  # placed | captured | released
HOLD_MILLICREDITS = Counter("atelier_hold_millicredits_total", "Millicredits held, captured and released.", ["event"])


def hold_event(event: str, amount: int) -> None:
    HOLDS.labels(event=event).inc()
    HOLD_MILLICREDITS.labels(event=event).inc(max(0, int(amount)))
