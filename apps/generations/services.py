"""The life of a generation: submit -> run -> (poll) -> finish. See DESIGN.md.

Every state change is a conditional UPDATE on `status` (and `next_check_at` for claims), so a
task that runs twice, a sweeper racing a worker, or two workers holding the same message
can never both act: the one that flips the row does the work; the other returns."""
from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.catalog.cache import cached_model
from apps.catalog.models import AIModel
from apps.catalog.pricing import quote, sandbox_hold, sandbox_price, token_cost
from apps.catalog.schema import ValidationFailed, validate_params
from apps.core.errors import Kind
from apps.providers.base import Job, ModelUnavailable, ProviderError, ProviderResult, RateLimited, TransientError
from apps.providers.health import channel_record_failure, channel_record_success
from apps.providers.registry import get_adapter
from apps.providers.router import SANDBOX, RouteChoice, channel_config, route_choices, served_by_sandbox, unroutable_reason
from apps.wallet.errors import WalletError
from apps.wallet.models import Hold, Wallet
from apps.wallet.services import hold_capture, hold_place, hold_release

from .errors import SubmitError
from .inputs import job_inputs
from .limits import pending_slot_take
from .metrics import job_finished
from .moderation import content_check
from .models import Attempt, Generation, Output
from .queues import job_queue, workspace_defer_if_busy
from .signals import generation_finished
from .sources import sources_check

log = logging.getLogger(__name__)

# A worker's claim on a job; the sweeper takes the job back after it (a killed worker).
LEASE_SECONDS = settings.GENERATION_LEASE_SECONDS
MAX_SUBMIT_ROUNDS = 3  # rounds over all channels before a transient outage fails the job
MAX_POLL_DELAY = 30.0


# ---- submit -------------------------------------------------------------------------------
@dataclass
class Quote:
    params: dict
    price: int  # what is held, millicredits
    sandbox: bool = False  # no real channel serves the model: the local sandbox will, at its price


def generation_quote(*, model: AIModel, raw_params: dict) -> Quote:
    """Validate params against the model's schema and price them; raises ValidationFailed.

    A model only the sandbox serves is priced at SANDBOX_PRICE_FACTOR times its price (the
    model's own price by default, so a demo shows real prices; 0 makes the sandbox free, with
    the smallest hold the ledger allows and nothing captured)."""
    params = validate_params(model.schema, raw_params)
    reason = unroutable_reason(model=model, params=params)
    if reason:
        failure = ValidationFailed()
        failure.add("model", reason)
        raise failure
    price = quote(model.effective_pricing, params)
    if served_by_sandbox(model=model):
        return Quote(params=params, price=sandbox_hold(price), sandbox=True)
    return Quote(params=params, price=price)


def _request_hash(model: AIModel, params: dict) -> str:
    return hashlib.sha256(json.dumps([model.slug, params], sort_keys=True, default=str).encode()).hexdigest()


def generation_submit(
    *, user, workspace, model: AIModel, raw_params: dict, source: str = "web", idempotency_key: str | None = None,
    api_key_id: int | None = None, budget_id: int | None = None,
) -> tuple[Generation, bool]:
    """Create a queued, paid-for generation and enqueue it after commit.

    Returns (generation, created). With an idempotency key already used in the workspace, the
    earlier generation comes back (created=False) if the request is the same, else an error."""
    if not model.enabled:
        raise SubmitError("model_unavailable", f"The model {model.slug!r} is disabled.", kind=Kind.NOT_FOUND)
    try:
        quoted = generation_quote(model=model, raw_params=raw_params)
    except ValidationFailed as failure:
        raise SubmitError("invalid_request", "Some parameters are not valid.", fields=failure.errors) from None
    # Atelier URLs (uploads, outputs) must name files of this workspace; they are read from
    # storage when the job runs, never fetched.
    foreign = sources_check(schema=model.schema, params=quoted.params, workspace_id=workspace.pk)
    if foreign:
        raise SubmitError("invalid_request", "Some parameters are not valid.", fields=foreign)
    content_check(workspace=workspace, user=user, model=model, params=quoted.params, source=source)
    request_hash = _request_hash(model, quoted.params)
    if idempotency_key:
        existing = Generation.objects.filter(workspace=workspace, idempotency_key=idempotency_key).first()
        if existing:
            return _replay(existing, request_hash)
    now = timezone.now()
    try:
        with transaction.atomic():
            pending_slot_take(workspace=workspace, model=model)
            generation = Generation(
                workspace=workspace, user=user, model=model, params=quoted.params, source=source,
                api_key_id=api_key_id,
                idempotency_key=idempotency_key or None, request_hash=request_hash, price=quoted.price,
                deadline_at=now + timedelta(seconds=model.deadline_seconds),
                next_check_at=now + timedelta(seconds=LEASE_SECONDS),
            )
            wallet = Wallet.objects.get(workspace=workspace)
            # The row goes in with its hold (one statement on PostgreSQL); a concurrent request
            # with the same idempotency key makes that statement fail (IntegrityError below).
            hold_place(wallet=wallet, amount=quoted.price, generation=generation, member=user, budget_id=budget_id,
                       savepoint=False, insert_generation=True)
            transaction.on_commit(lambda: _enqueue_run(generation))
    except WalletError as exc:
        raise SubmitError(exc.code, exc.message, kind=exc.kind) from None
    except IntegrityError:
        # A concurrent request with the same idempotency key won the insert.
        existing = Generation.objects.filter(workspace=workspace, idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return _replay(existing, request_hash)
    return generation, True


def _replay(existing: Generation, request_hash: str) -> tuple[Generation, bool]:
    if existing.request_hash != request_hash:
        raise SubmitError(
            "idempotency_conflict", "This Idempotency-Key was already used with different parameters.",
            kind=Kind.CONFLICT,
        )
    return existing, False


def _enqueue_run(generation, countdown: float | None = None):
    """`generation` is a Generation (its queue comes from the cached model) or an id."""
    from .tasks import run_generation

    run_generation.apply_async(args=[str(getattr(generation, "pk", generation))], countdown=countdown,
                               queue=job_queue(generation))


def _enqueue_poll(generation, countdown: float):
    from .tasks import poll_generation

    poll_generation.apply_async(args=[str(getattr(generation, "pk", generation))], countdown=countdown,
                                queue=job_queue(generation))


# ---- claim --------------------------------------------------------------------------------
def _claim(generation_id, *, from_queued: bool) -> Generation | None:
    """Take the job for LEASE_SECONDS. None = someone else holds it, or it is done.

    One UPDATE ... RETURNING (PostgreSQL, SQLite >= 3.35) claims and reads the row, and the
    model comes from the per-process catalog cache: this runs before every submit and every
    status poll, so it is kept to one round trip."""
    try:
        pk = uuid.UUID(str(generation_id))
    except ValueError:
        return None
    now = timezone.now()
    generation = _claim_row(pk, now, from_queued)
    if generation is None:
        return None
    generation.model = cached_model(generation.model_id)
    if now >= generation.deadline_at:
        _cancel_upstream(generation)
        generation_fail(generation=generation, code="deadline_exceeded",
                        message="The job did not finish within the model's time limit.")
        return None
    return generation


def _claim_row(pk: uuid.UUID, now, from_queued: bool) -> Generation | None:
    meta, quote = Generation._meta, connection.ops.quote_name
    column = {name: quote(meta.get_field(name).column)  # type: ignore[union-attr,arg-type]
              for name in ("id", "status", "next_check_at", "started_at")}
    when = meta.get_field("next_check_at").get_db_prep_value(now, connection)
    lease = meta.get_field("next_check_at").get_db_prep_value(now + timedelta(seconds=LEASE_SECONDS), connection)
    due = f"({column['status']} = %s AND {column['next_check_at']} <= %s)"
    params = [Generation.Status.RUNNING, lease, when, meta.pk.get_db_prep_value(pk, connection),
              Generation.Status.RUNNING, when]
    if from_queued:
        due += f" OR {column['status']} = %s"
        params.append(Generation.Status.QUEUED)
    sql = (f"UPDATE {quote(meta.db_table)} SET {column['status']} = %s, {column['next_check_at']} = %s, "
           f"{column['started_at']} = COALESCE({column['started_at']}, %s) "
           f"WHERE {column['id']} = %s AND ({due}) RETURNING *")
    rows = list(Generation.objects.raw(sql, params))
    return rows[0] if rows else None


# ---- run ----------------------------------------------------------------------------------
def generation_run(*, generation_id) -> None:
    """Submit to the first channel that takes the job.

    Failover follows the error's scope (providers/base.py): one that belongs to the route or
    the channel (unknown model id there, unsupported parameter, refused key, misconfiguration)
    or a passing outage tries the next channel; one that belongs to the request (invalid
    input, content filter) fails the job, since no channel would do better. Only transient
    errors are worth another round later: a route that refused the job refuses it again."""
    generation = _claim(generation_id, from_queued=True)
    if generation is None:
        return
    if workspace_defer_if_busy(generation=generation, requeue=_enqueue_run):
        return
    if generation.upstream_id:  # a previous run already submitted: keep tracking that task
        generation_poll(generation_id=generation.pk, claimed=generation)
        return
    choices = route_choices(model=generation.model, params=generation.params)
    if not choices:
        generation_fail(generation=generation, code="model_unavailable", message="No channel can serve this model now.")
        return
    if _priced_for_the_sandbox(generation, choices):
        generation_fail(generation=generation, code="price_changed", message=(
            "This job was priced for the local sandbox, but a real channel now serves the model: submit it "
            "again to run it at the model's price."))
        return
    free = [choice for choice in choices if _has_capacity(choice, generation)]
    if not free:
        # Every channel is at its max_concurrent: wait for a slot without spending a failover round.
        delay = min(_poll_delay(generation, 2.0), MAX_POLL_DELAY)
        Generation.objects.filter(pk=generation.pk, status=Generation.Status.RUNNING).update(
            next_check_at=timezone.now() + timedelta(seconds=delay))
        transaction.on_commit(lambda: _enqueue_run(generation, countdown=delay))
        return
    retry_after = None
    last_error: ProviderError | None = None
    transient = False
    for choice in free:
        try:
            result = _call(generation, choice, "submit", lambda adapter, job: adapter.submit(job))
        except ProviderError as exc:
            last_error = exc
            if not exc.fails_over:
                generation_fail(generation=generation, code=exc.code, message=exc.message)
                return
            transient = transient or not exc.permanent
            if isinstance(exc, RateLimited) and exc.retry_after:
                retry_after = max(retry_after or 0, exc.retry_after)
            continue
        _handle_result(generation, choice, result)
        return
    if not transient and last_error is not None:
        # Every route refused the job for reasons of its own: another round would only repeat that.
        generation_fail(generation=generation, code=last_error.code,
                        message=f"No channel could take this job. Last error: {last_error.message}")
        return
    _retry_or_fail(generation, last_error, retry_after)


def _priced_for_the_sandbox(generation: Generation, choices: list[RouteChoice]) -> bool:
    """A hold placed at the sandbox's scaled price (SANDBOX_PRICE_FACTOR below 1) does not pay
    for a real channel configured since: the job must not run there at the sandbox's price."""
    if any(choice.channel.adapter == SANDBOX for choice in choices):
        return False
    real = quote(generation.model.effective_pricing, generation.params)
    return generation.price == sandbox_hold(real) < real


def _has_capacity(choice: RouteChoice, generation: Generation) -> bool:
    """Below the channel's max_concurrent jobs in flight (approximate: two simultaneous submits
    may both see the last free slot)."""
    limit = choice.channel.max_concurrent
    if not limit:
        return True
    in_flight = Generation.objects.filter(status=Generation.Status.RUNNING, channel_name=choice.channel.name)
    return in_flight.exclude(pk=generation.pk).count() < limit


def _retry_or_fail(generation: Generation, error: ProviderError | None, retry_after: float | None):
    rounds = generation.submit_rounds + 1
    delay = min(retry_after or 2.0 * (2 ** rounds), MAX_POLL_DELAY)
    finishes_in_time = timezone.now() + timedelta(seconds=delay) < generation.deadline_at
    if rounds < MAX_SUBMIT_ROUNDS and finishes_in_time:
        Generation.objects.filter(pk=generation.pk, status=Generation.Status.RUNNING).update(
            submit_rounds=rounds, next_check_at=timezone.now() + timedelta(seconds=delay)
        )
        transaction.on_commit(lambda: _enqueue_run(generation, countdown=delay))
        return
    code = error.code if error else "upstream_unavailable"
    message = error.message if error else "Every channel for this model failed."
    generation_fail(generation=generation, code=code, message=f"All channels failed. Last error: {message}")


def _call(generation: Generation, choice: RouteChoice, phase: str, action) -> ProviderResult:
    try:
        adapter = get_adapter(choice.channel)
    except LookupError as exc:  # a channel names an adapter this install does not have
        error: ProviderError = ModelUnavailable(str(exc), code="channel_misconfigured")
        _attempt(generation, choice, phase, "permanent", time.monotonic(), error)
        raise error from exc
    params, sources = job_inputs(generation=generation)  # own media: fresh links, read from storage
    job = Job(id=str(generation.pk), modality=generation.model.modality, upstream_model=choice.upstream_model,
              params=params, channel=choice.channel, sources=sources)
    started = time.monotonic()
    try:
        result = action(adapter, job)
    except ProviderError as exc:
        _attempt(generation, choice, phase, "permanent" if exc.permanent else "transient", started, exc)
        if not exc.permanent:
            channel_record_failure(choice.channel.name)
        raise
    except Exception as exc:  # an adapter bug must not leave the job hanging
        log.exception("adapter %s crashed on %s", choice.channel.adapter, generation.pk)
        error = ProviderError(f"Adapter error: {exc.__class__.__name__}", code="upstream_error")
        _attempt(generation, choice, phase, "transient", started, error)
        channel_record_failure(choice.channel.name)
        raise error from exc
    if phase == "submit" or result.status == ProviderResult.SUCCEEDED:
        # A still-pending status check is not an attempt worth a row: a long job polled every few
        # seconds would write hundreds. Submits, failures and the final answer are recorded.
        _attempt(generation, choice, phase, "ok" if result.status == ProviderResult.SUCCEEDED else "pending", started)
    channel_record_success(choice.channel.name)
    return result


def _attempt(generation, choice, phase, outcome, started, error: ProviderError | None = None):
    Attempt.objects.create(
        generation=generation, channel_name=choice.channel.name, adapter=choice.channel.adapter, phase=phase,
        outcome=outcome, error_code=error.code if error else "", error_message=(error.message if error else "")[:2000],
        latency_ms=int((time.monotonic() - started) * 1000),
    )


def _handle_result(generation: Generation, choice: RouteChoice, result: ProviderResult):
    """Record which channel took the job, then finish it or schedule its first poll."""
    generation.channel_name = choice.channel.name
    generation.adapter = choice.channel.adapter
    generation.upstream_model = choice.upstream_model
    generation.upstream_id = result.upstream_id or ""
    recorded = {"channel_name": generation.channel_name, "adapter": generation.adapter,
                "upstream_model": generation.upstream_model, "upstream_id": generation.upstream_id}
    if result.status == ProviderResult.SUCCEEDED:
        # Written first: a download that fails transiently re-polls this upstream task.
        Generation.objects.filter(pk=generation.pk).update(**recorded)
        generation_finish(generation=generation, result=result, choice=choice)
        return
    delay = min(max(result.poll_after or 2.0, 0.5), MAX_POLL_DELAY)
    Generation.objects.filter(pk=generation.pk, status=Generation.Status.RUNNING).update(
        next_check_at=timezone.now() + timedelta(seconds=delay), progress=result.progress, **recorded
    )
    transaction.on_commit(lambda: _enqueue_poll(generation, countdown=delay))


# ---- poll ---------------------------------------------------------------------------------
POLL_BACKOFF_RATIO = 0.2
# How far an upstream's reported progress may move the next poll from the age-based interval:
# up to this many times sooner (about to finish) or later (far from done).
PROGRESS_TRUST = 4.0


def _poll_delay(generation: Generation, hint: float | None, progress: int | None = None) -> float:
    """The upstream's hint, stretched as the job ages: a 30 s job is polled every ~6 s by the end.

    The stretch keeps the poll load of many long jobs bounded (it falls as 1/age) while a result
    is still picked up within a fraction of the job's own run time; a busy worker that falls
    behind polls less often, not more.

    When the upstream reports progress (Replicate's log bars, OpenAI video, fal), its pace says
    when the job should be done, and the next poll goes there: sooner for a job about to
    finish (the last poll lands just after completion instead of up to a whole interval
    later), later for one far from done (no status calls spent on it meanwhile). Progress is
    only an estimate, so it moves the poll at most PROGRESS_TRUST times either way: a job
    sitting at 99% cannot cause a poll storm, and one whose bar crawls and then jumps is
    still looked at."""
    started = generation.started_at or generation.created_at
    age = max(0.0, (timezone.now() - started).total_seconds())
    delay = min(max(hint or 1.0, age * POLL_BACKOFF_RATIO, 0.5), MAX_POLL_DELAY)
    if progress and 0 < progress < 100 and age > 0:
        remaining = age * (100 - progress) / progress
        soonest = max(delay / PROGRESS_TRUST, hint or 1.0, 0.5)
        delay = min(max(remaining, soonest), delay * PROGRESS_TRUST, MAX_POLL_DELAY)
    return delay

def _choice_for(generation: Generation) -> RouteChoice | None:
    config = channel_config(generation.channel_name)
    if config is None:
        return None
    return RouteChoice(channel=config, upstream_model=generation.upstream_model)


def generation_poll(*, generation_id, claimed: Generation | None = None) -> None:
    """One status call to the upstream; re-schedules itself with backoff while pending."""
    generation = claimed or _claim(generation_id, from_queued=False)
    if generation is None:
        return
    choice = _choice_for(generation)
    if choice is None:
        generation_fail(generation=generation, code="channel_removed", message="The channel running this job was removed.")
        return
    polls = generation.poll_count + 1
    try:
        result = _call(generation, choice, "poll", lambda adapter, job: adapter.poll(job, generation.upstream_id))
    except ProviderError as exc:
        if exc.permanent:
            generation_fail(generation=generation, code=exc.code, message=exc.message)
            return
        # The upstream task still exists: transient poll errors back off, they do not fail over.
        result = ProviderResult(status=ProviderResult.PENDING, poll_after=exc.retry_after or min(2.0 * polls, MAX_POLL_DELAY))
    if result.status == ProviderResult.SUCCEEDED:
        generation_finish(generation=generation, result=result, choice=choice, poll_count=polls)
        return
    delay = _poll_delay(generation, result.poll_after, result.progress)
    Generation.objects.filter(pk=generation.pk, status=Generation.Status.RUNNING).update(
        next_check_at=timezone.now() + timedelta(seconds=delay), progress=result.progress, poll_count=polls
    )
    _enqueue_poll(generation, countdown=delay)


# ---- finish -------------------------------------------------------------------------------
def _capture_amount(generation: Generation, result: ProviderResult) -> int:
    pricing = generation.model.effective_pricing
    if pricing.get("unit") == "1k_tokens" and result.usage:
        actual = token_cost(pricing, int(result.usage.get("input_tokens", 0)), int(result.usage.get("output_tokens", 0)))
    elif generation.adapter == SANDBOX:
        actual = quote(pricing, generation.params)  # the model's price, scaled below
    else:
        return generation.price
    if generation.adapter == SANDBOX:  # honest routing: a sandbox result costs the sandbox's price
        actual = sandbox_price(actual)
    return min(actual, generation.price)


def generation_finish(*, generation: Generation, result: ProviderResult, choice: RouteChoice | None = None,
                      poll_count: int | None = None) -> bool:
    """Store outputs, capture the charge and mark succeeded, exactly once.

    `poll_count` (from a status poll) is written with the outcome rather than on its own."""
    from .fetch import outputs_download
    from .formats import outputs_in_requested_format
    from .media import outputs_discard, outputs_prepare

    counted = {"poll_count": poll_count} if poll_count is not None else {}
    try:
        # Download, decode, encode and store first, outside any transaction; the transaction
        # after it is a handful of short statements (flip, rows, capture).
        files = outputs_in_requested_format(outputs_download(result.outputs), generation.params)
        stored = outputs_prepare(generation=generation, files=files)
        committed = False
        try:
            with transaction.atomic():
                charged = _capture_amount(generation, result)
                flipped = Generation.objects.filter(pk=generation.pk, status=Generation.Status.RUNNING).update(
                    status=Generation.Status.SUCCEEDED, charged=charged, finished_at=timezone.now(), progress=100,
                    result_text=result.text or "", usage=result.usage or {}, next_check_at=None, **counted,
                )
                if not flipped:
                    return False  # someone else finished or failed it; our files go below
                Output.objects.bulk_create(stored)
                generation_finished.send(sender=Generation, generation=generation,
                                         status=Generation.Status.SUCCEEDED)
                hold_capture(hold=Hold.objects.get(generation=generation), amount=charged)
            committed = True
        finally:
            if not committed:
                outputs_discard(stored)
    except TransientError as exc:
        if generation.upstream_id:
            # The upstream still holds the result: fetch it again on a later poll.
            delay = _poll_delay(generation, exc.retry_after or 5.0)
            Generation.objects.filter(pk=generation.pk, status=Generation.Status.RUNNING).update(
                next_check_at=timezone.now() + timedelta(seconds=delay), **counted)
            _enqueue_poll(generation, countdown=delay)
            return False
        generation_fail(generation=generation, code=exc.code, message=str(exc))
        return False
    except (ValueError, ProviderError) as exc:
        code = getattr(exc, "code", "output_invalid")
        generation_fail(generation=generation, code=code, message=str(exc))
        return False
    log.info("generation %s succeeded with %d outputs", generation.pk, len(stored))
    job_finished(generation=generation, status=Generation.Status.SUCCEEDED)
    return True


def generation_fail(*, generation: Generation, code: str, message: str,
                    status: str = Generation.Status.FAILED) -> bool:
    """Mark failed (or canceled) and release the hold, exactly once."""
    with transaction.atomic():
        flipped = Generation.objects.filter(pk=generation.pk, status__in=Generation.PENDING).update(
            status=status, error_code=code, error_message=message[:2000], finished_at=timezone.now(),
            next_check_at=None,
        )
        if not flipped:
            return False
        generation_finished.send(sender=Generation, generation=generation, status=status)
        hold = Hold.objects.filter(generation=generation).first()
        if hold is not None:
            hold_release(hold=hold, reason=f"Generation {status}: {code}")
    log.info("generation %s %s: %s", generation.pk, status, code)
    job_finished(generation=generation, status=status)
    return True


def generation_cancel(*, generation: Generation) -> bool:
    generation = Generation.objects.select_related("model").get(pk=generation.pk)
    if not generation.is_pending:
        return False
    _cancel_upstream(generation)
    return generation_fail(generation=generation, code="canceled", message="Canceled by the user.",
                           status=Generation.Status.CANCELED)


def _cancel_upstream(generation: Generation):
    if not generation.upstream_id:
        return
    choice = _choice_for(generation)
    if choice is None:
        return
    try:
        adapter = get_adapter(choice.channel)
        adapter.cancel(Job(id=str(generation.pk), modality=generation.model.modality,
                           upstream_model=generation.upstream_model, params=generation.params, channel=choice.channel),
                       generation.upstream_id)
    except ProviderError as exc:  # best effort: the hold is released either way
        log.warning("cancel of %s upstream failed: %s", generation.pk, exc)


# ---- sweeper ------------------------------------------------------------------------------
def generations_sweep(*, limit: int = 500) -> dict:
    """Fail jobs past their deadline; re-enqueue jobs whose check time passed (lost messages,
    killed workers). Safe to run anywhere, any number of times."""
    now = timezone.now()
    expired = failed = requeued = 0
    for generation in Generation.objects.filter(status__in=Generation.PENDING, deadline_at__lte=now).select_related("model")[:limit]:
        expired += 1
        _cancel_upstream(generation)
        failed += generation_fail(generation=generation, code="deadline_exceeded",
                                  message="The job did not finish within the model's time limit.")
    overdue = Generation.objects.filter(status__in=Generation.PENDING, next_check_at__lte=now, deadline_at__gt=now)
    for generation_id, status, upstream_id in overdue.values_list("pk", "status", "upstream_id")[:limit]:
        requeued += 1
        if status == Generation.Status.RUNNING and upstream_id:
            _enqueue_poll(generation_id, countdown=0)
        else:
            _enqueue_run(generation_id)
    return {"expired": expired, "failed": failed, "requeued": requeued}
