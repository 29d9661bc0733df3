"""The content filter: every surface's prompts pass here before anything is held.

Policies (ContentPolicy, edited in admin) list words and patterns, and may name a moderation
model behind a channel. The text checked is every free-text parameter of the request (prompt,
system, input, lyrics, negative prompt, the text of chat messages...). A refusal is
SubmitError `content_filter` (403 on the API) and one ContentRefusal row for the
operator holding the matched term, not the prompt. Policies are cached per process like the
catalog (an admin's edit is seen within seconds)."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from apps.accounts.services import plan_of
from apps.catalog.cache import TTLCache
from apps.core.errors import Kind
from apps.providers.base import ProviderError
from apps.providers.registry import get_adapter
from apps.providers.router import channel_config

from .errors import SubmitError
from .models import ContentPolicy, ContentRefusal

log = logging.getLogger(__name__)

TEXT_TYPES = {"text", "string"}


@dataclass(frozen=True)
class _Compiled:
    policy_id: int
    name: str
    workspace_id: int | None
    plan_id: int | None
    matchers: tuple  # (label, compiled pattern)
    channel: str | None
    moderation_model: str
    block_when_unreachable: bool


_policies: TTLCache[list[_Compiled]] = TTLCache()


def _compile(policy: ContentPolicy) -> _Compiled:
    matchers = []
    for word in filter(None, (line.strip() for line in policy.words.splitlines())):
        matchers.append((word, re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)))
    for pattern in filter(None, (line.strip() for line in policy.patterns.splitlines())):
        try:
            matchers.append((f"/{pattern}/", re.compile(pattern, re.IGNORECASE)))
        except re.error:
            log.warning("content policy %s: invalid pattern %r ignored", policy.pk, pattern)
    return _Compiled(policy_id=policy.pk, name=policy.name, workspace_id=policy.workspace_id, plan_id=policy.plan_id,
                     matchers=tuple(matchers),
                     channel=policy.moderation_channel.name if policy.moderation_channel_id else None,
                     moderation_model=policy.moderation_model or "omni-moderation-latest",
                     block_when_unreachable=policy.when_unreachable == ContentPolicy.Unreachable.BLOCK)


def _enabled_policies() -> list[_Compiled]:
    return _policies.get("all", lambda: [
        _compile(p) for p in ContentPolicy.objects.filter(enabled=True).select_related("moderation_channel")])


def request_texts(schema: dict, params: dict) -> list[str]:
    """The free text a request carries: its text fields and the text of its chat messages."""
    texts = []
    for spec in schema.get("fields", []):
        value = params.get(spec["name"])
        if spec["type"] in TEXT_TYPES and isinstance(value, str) and value.strip():
            texts.append(value)
        elif spec["type"] == "messages" and isinstance(value, list):
            for message in value:
                content = message.get("content") if isinstance(message, dict) else None
                if isinstance(content, str):
                    texts.append(content)
                elif isinstance(content, list):
                    texts += [part.get("text", "") for part in content
                              if isinstance(part, dict) and part.get("type") == "text"]
    return [text for text in texts if text]


def _refuse(policy: _Compiled, *, workspace, user, model, source: str, matched: str) -> SubmitError:
    ContentRefusal.objects.create(policy_id=policy.policy_id, workspace_id=workspace.pk,
                                  user_id=getattr(user, "pk", None), model_slug=model.slug, source=source,
                                  matched=matched[:200])
    log.info("content policy %r refused a %s request in workspace %s", policy.name, source, workspace.pk)
    return SubmitError("content_filter", "This request was refused by the content policy.", kind=Kind.FORBIDDEN)


def _moderation_flags(policy: _Compiled, texts: list[str]) -> list[str] | None:
    """The categories the moderation model flagged ([] = clean), or None when it was unreachable."""
    config = channel_config(policy.channel)
    if config is None:
        return None
    try:
        return get_adapter(config).moderate(texts, model=policy.moderation_model)
    except (ProviderError, LookupError, NotImplementedError) as exc:
        log.warning("moderation via %s failed: %s", policy.channel, exc)
        return None


def content_check(*, workspace, user, model, params: dict, source: str) -> None:
    """Raise SubmitError content_filter (or moderation_unavailable) if a policy refuses these params."""
    policies = _enabled_policies()
    if not policies:
        return
    plan_id = plan_of(workspace).pk
    applicable = [p for p in policies if (p.workspace_id in (None, workspace.pk)) and (p.plan_id in (None, plan_id))]
    if not applicable:
        return
    texts = request_texts(model.schema, params)
    if not texts:
        return
    for policy in applicable:
        for label, pattern in policy.matchers:
            if any(pattern.search(text) for text in texts):
                raise _refuse(policy, workspace=workspace, user=user, model=model, source=source, matched=label)
        if policy.channel:
            flags = _moderation_flags(policy, texts)
            if flags is None and policy.block_when_unreachable:
                raise SubmitError("moderation_unavailable", "The content check is unavailable right now; try "
                                  "again shortly.", kind=Kind.UNAVAILABLE, retry_after=30)
            if flags:
                raise _refuse(policy, workspace=workspace, user=user, model=model, source=source,
                              matched="moderation: " + ", ".join(flags))
