"""The --where query language: terms, operators, dates, and errors that name the bad term."""

from __future__ import annotations

import json

import pytest

from osirix_tasks.batch.selection import Candidate, parse_where
from osirix_tasks.errors import SelectionError
from osirix_tasks.testing import RunningHost

MR = Candidate("P1", "Doe^Jane", "1.2", "brain study", "2021-03-04", "1.2.3", "T2 axial FLAIR", "MR", "2021-03-04", 30)
CT = Candidate("P2", "Roe^Rick", "1.3", "chest", "2019-12-31", "1.3.4", "ct chest", "CT", "2019-12-31", 120)


def matching(query: str) -> list[str]:
    terms = parse_where(query)
    return [c.patient_id for c in (MR, CT) if all(t.test(c) for t in terms)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("modality=MR", ["P1"]),
        ("modality=mr", ["P1"]),  # text is compared case-insensitively
        ("modality!=MR", ["P2"]),
        ("series_description~t2", ["P1"]),
        ('series_description~"axial flair"', ["P1"]),
        ("study_date>=2020-01-01", ["P1"]),
        ("study_date<20200101", ["P2"]),
        ("images>50", ["P2"]),
        ("modality=MR and study_date>=2020-01-01 and series_description~T2", ["P1"]),
        ("modality=MR AND patient_id=P2", []),
        ("patient_name~roe", ["P2"]),
    ],
)
def test_queries_select_what_they_say(query: str, expected: list[str]) -> None:
    assert matching(query) == expected


@pytest.mark.parametrize(
    ("query", "names"),
    [
        (
            "modality=MR and series_descr~T2",
            ["term 2", "'series_descr~T2'", "unknown field 'series_descr'", "modality"],
        ),
        ("study_date>=yesterday", ["term 1", "not a date", "YYYY-MM-DD"]),
        ("modality>MR", ["term 1", "compares dates and numbers", "use = != or ~"]),
        ("images~3", ["'~' (contains) is for text"]),
        ("images>=many", ["whole number"]),
        ("modality MR", ["not FIELD OP VALUE"]),
        ("modality=", ["no value after '='"]),
        ("   ", ["--where is empty"]),
    ],
)
def test_a_bad_term_is_named_with_what_to_do(query: str, names: list[str]) -> None:
    with pytest.raises(SelectionError) as error:
        parse_where(query)
    for name in names:
        assert name in str(error.value)


def test_a_study_of_the_pages_selection_stands_for_its_series_for_a_series_task(host: RunningHost) -> None:
    from osirix_tasks.batch.selection import SelectionRequest, select
    from osirix_tasks.client import Connection
    from osirix_tasks.model import TaskType

    listing = json.loads(host.cli("db", "series", "--json", "--server", host.address).stdout)
    study = listing[0]["study_instance_uid"]
    expected = [s["series_instance_uid"] for s in listing if s["study_instance_uid"] == study]
    with Connection(host.address) as connection:
        picked = select(connection, SelectionRequest([study], studies_as_series=True), TaskType.IMAGE)
        assert sorted(t.series for t, _ in picked) == sorted(expected)
        assert {t.study for t, _ in picked} == {study}
        as_study = select(connection, SelectionRequest([study], studies_as_series=True), TaskType.DATABASE)
        assert [(t.study, t.series) for t, _ in as_study] == [(study, None)]  # a Database task takes the study
        with pytest.raises(SelectionError, match="is a study and 'Image' tasks work on a series"):
            select(connection, SelectionRequest([study]), TaskType.IMAGE)  # the command line still asks for series
