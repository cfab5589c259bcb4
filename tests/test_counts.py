"""Counts of big tables: exact while small, bounded reads above, the
planner's estimate on PostgreSQL; and paging without a count."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from xconnector.counts import Count, ListPage, count_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def users():
    model = get_user_model()
    model.objects.bulk_create(model(username=f"user{n:02d}") for n in range(25))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    return model.objects.order_by("username")


def test_a_small_count_is_exact(users):
    count = count_of(users)

    assert count == Count(25)
    assert str(count) == "25"


def test_above_the_limit_it_reads_no_more_and_estimates(users):
    count = count_of(users, exact_up_to=10)

    assert not count.exact
    if connection.vendor == "postgresql":
        # The planner's figure from the table's statistics.
        assert count == Count(25, exact=False, estimated=True)
        assert str(count) == "about 25"
    else:
        assert count == Count(11, exact=False)
        assert str(count) == "more than 10"


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (Count(1234), "1,234"),
        (Count(10_001, exact=False), "more than 10,000"),
        (Count(48_613, exact=False, estimated=True), "about 49,000"),
        (Count(1_049_000, exact=False, estimated=True), "about 1.0 million"),
    ],
)
def test_counts_read_as_words(count, text):
    assert str(count) == text


def test_pages_know_what_follows_without_a_count(users):
    names = [user.username for user in users]

    first = ListPage(users, None, 10, Count(25))
    last = ListPage(users, "3", 10, Count(25))
    beyond = ListPage(users, "9", 10, Count(25))

    assert [u.username for u in first] == names[:10]
    assert first.has_next() and not first.has_previous()
    assert [u.username for u in last] == names[20:]
    assert not last.has_next() and last.has_previous()
    assert beyond.number == 3  # an exact count keeps the number in range
    assert first.num_pages_label == "3"


def test_an_estimated_total_never_hides_older_rows(users):
    # The estimate says 10 rows; 25 are there: the second page still shows.
    low = Count(10, exact=False, estimated=True)

    first = ListPage(users, "1", 10, low)
    second = ListPage(users, "2", 10, low)

    assert first.has_next()
    assert len(second) == 10 and second.has_next()
    assert first.num_pages_label == "about 2"
