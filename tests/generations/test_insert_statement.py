"""apps.core.db.insert_statement builds a row's INSERT text once per model and prepares only the
values per call: the text and values must be exactly what Django's own insert compiler makes,
and the row must read back as saved, on both databases."""
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.catalog.models import AIModel
from apps.core.db import _compiled_insert, insert_statement
from apps.generations.models import Generation

pytestmark = [pytest.mark.django_db, pytest.mark.pg]


def _generation(user) -> Generation:
    now = timezone.now()
    return Generation(workspace_id=user.current_workspace.pk, user=user, model=AIModel.objects.get(slug="sandbox-text"),
                      params={"messages": [{"role": "user", "content": "héllo"}], "max_tokens": 5}, source="api",
                      price=1234, status=Generation.Status.RUNNING, started_at=now,
                      deadline_at=now + timedelta(seconds=60), next_check_at=now + timedelta(seconds=60))


def _comparable(values: list) -> list:
    return [getattr(value, "obj", value) for value in values]  # psycopg's Jsonb wraps the JSON value


def test_the_insert_is_the_one_djangos_compiler_makes_and_the_row_reads_back(owner, catalog, monkeypatch):
    frozen = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: frozen)  # created_at (auto_now_add) alike in both
    generation = _generation(owner)
    sql, params = insert_statement(generation)
    expected_sql, expected_params = _compiled_insert(generation, connection)
    assert sql == expected_sql
    assert _comparable(params) == _comparable(expected_params)
    assert not generation._state.adding

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    row = Generation.objects.get(pk=generation.pk)
    assert (row.params, row.price, row.status, row.source, row.created_at) == (
        generation.params, 1234, "running", "api", frozen)


def test_an_expression_value_takes_the_orms_path(owner, catalog):
    from django.db.models.functions import Now

    generation = _generation(owner)
    generation.started_at = Now()
    sql, params = insert_statement(generation)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    assert Generation.objects.get(pk=generation.pk).started_at is not None


def test_rows_insert_and_update_statements_write_what_the_orm_would(owner, catalog):
    from apps.core.db import rows_insert_statement, update_statement
    from apps.generations.models import Attempt

    generation = _generation(owner)
    generation.save()
    attempts = [Attempt(generation_id=generation.pk, channel_name=name, adapter="sandbox", outcome=outcome,
                        error_message="é" * 3, latency_ms=7) for name, outcome in (("a", "transient"), ("b", "ok"))]
    with connection.cursor() as cursor:
        cursor.execute(*rows_insert_statement(attempts))
    assert list(Attempt.objects.filter(generation=generation).values_list(
        "channel_name", "outcome", "error_message", "latency_ms", "phase")) == [
        ("a", "transient", "ééé", 7, "submit"), ("b", "ok", "ééé", 7, "submit")]
    assert all(row.created_at is not None for row in Attempt.objects.filter(generation=generation))

    def update(where):
        with connection.cursor() as cursor:
            cursor.execute(*update_statement(Generation, where={"pk": generation.pk, **where}, values={
                "status": "succeeded", "usage": {"output_tokens": 3}, "next_check_at": None, "charged": 9}))
            return cursor.fetchall()

    assert update({"status": "queued"}) == []  # not running in that state: nothing changed
    assert Generation.objects.get(pk=generation.pk).status == "running"
    assert len(update({"status": "running"})) == 1
    row = Generation.objects.get(pk=generation.pk)
    assert (row.status, row.usage, row.next_check_at, row.charged) == ("succeeded", {"output_tokens": 3}, None, 9)
